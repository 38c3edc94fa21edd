"""Build the invite URL with exactly the permissions the bot needs."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def required_permissions() -> discord.Permissions:
    """Return the permissions the bot uses: read channels and history, post embeds."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        read_message_history=True,
    )


def invite_url(application_id: int) -> str:
    """Build the OAuth2 URL that adds the bot and its slash commands to a server."""
    return discord.utils.oauth_url(
        application_id, permissions=required_permissions(), scopes=SCOPES
    )
