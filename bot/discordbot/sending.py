"""Send what the bot says: replies and interaction responses that ping nobody."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.discordbot.notices import APOLOGY
from bot.discordbot.routing import Via
from bot.discordbot.safetext import fit_content, fit_embed

log = logging.getLogger("bot.discordbot.client")

NO_MENTIONS = discord.AllowedMentions.none()
# Discord's error code for a second acknowledgement of one interaction.
ALREADY_ACKNOWLEDGED = 40060


async def reply(
    message: discord.Message,
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> discord.Message:
    """Reply to a message without pinging anyone, even if it was deleted meanwhile."""
    kwargs: dict[str, Any] = {
        "reference": message.to_reference(fail_if_not_exists=False),
        "allowed_mentions": NO_MENTIONS,
        "mention_author": False,
        # One reply per question. discord.py enforces a random nonce per send, which
        # covers its own retries; one per question also makes Discord hand back an answer
        # whose every confirmation was lost instead of posting the apology after it, and
        # lets only one of two processes running by mistake with the same token reply.
        "nonce": message.id,
    }
    if content is not None:
        kwargs["content"] = fit_content(content)
    if embed is not None:
        kwargs["embed"] = fit_embed(embed)
    if view is not None:
        kwargs["view"] = view
    return await message.channel.send(**kwargs)


async def notify(interaction: discord.Interaction[Any], content: str) -> None:
    """Answer an interaction with a short notice only its user sees."""
    await interaction.response.send_message(
        fit_content(content), ephemeral=True, allowed_mentions=NO_MENTIONS
    )


async def defer(interaction: discord.Interaction[Any], *, ephemeral: bool) -> None:
    """Acknowledge an interaction at once, showing "thinking…" until the answer comes."""
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.HTTPException as exc:
        # discord.py retries a callback after a 5xx; if the first attempt got through,
        # the retry is refused as a second acknowledgement, and the deferral stands.
        if exc.code != ALREADY_ACKNOWLEDGED:
            raise


async def fill_deferred(
    interaction: discord.Interaction[Any],
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    content: str | None = None,
) -> discord.InteractionMessage:
    """Put the answer in place of the deferred response, which keeps its visibility."""
    # An edit, not a followup: retried after a lost response it changes nothing, where
    # a retried followup would post the answer twice.
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if embed is not None:
        kwargs["embed"] = fit_embed(embed)
    if view is not None:
        kwargs["view"] = view
    if content is not None:
        kwargs["content"] = fit_content(content)
    return await interaction.edit_original_response(**kwargs)


async def apologise(
    interaction: discord.Interaction[Any], via: Via, *, log_it: bool = True
) -> None:
    """Log a failed interaction with its ids and tell the user briefly."""
    if log_it:
        log.exception(
            "Handling an interaction failed: via=%s interaction=%s guild=%s channel=%s user=%s",
            via.value,
            interaction.id,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
        )
    try:
        if not interaction.response.is_done():
            try:
                await interaction.response.send_message(
                    APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
                return
            except discord.HTTPException as exc:
                if exc.code != ALREADY_ACKNOWLEDGED:
                    raise
        # Deferred: the first followup replaces the "thinking…" message.
        await interaction.followup.send(APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("Could not send the apology for interaction %s.", interaction.id)
