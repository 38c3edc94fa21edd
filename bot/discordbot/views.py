"""Build the buttons under an answer and read their ids back."""

from __future__ import annotations

import re

import discord

from bot.answer.models import Answer
from bot.discordbot.render import button_label, custom_id

CONTEXT = "ctx"
MORE = "more"
_CUSTOM_ID = re.compile(r"qa:(ctx|more):([A-Za-z0-9_-]{1,64})")


class RoutedView(discord.ui.View):
    """Carry buttons whose clicks the bot routes itself by custom_id in on_interaction."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        """Tell discord.py not to keep per-message state for these buttons."""
        # Clicks are routed by id (see client.on_interaction), so they work after restarts
        # and the library's view store does not grow with every answer sent.
        return False


def answer_view(answer_id: str, answer: Answer) -> RoutedView | None:
    """Return Show context and More buttons for an answer with passages, else None."""
    if not answer.answered or not answer.passages:
        return None
    view = RoutedView()
    view.add_item(
        discord.ui.Button(
            label=button_label("Show context"),
            style=discord.ButtonStyle.secondary,
            custom_id=custom_id(CONTEXT, answer_id),
        )
    )
    view.add_item(
        discord.ui.Button(
            label=button_label("More"),
            style=discord.ButtonStyle.primary,
            custom_id=custom_id(MORE, answer_id),
            disabled=not answer.has_more,
        )
    )
    return view


def parse_custom_id(value: str) -> tuple[str, str] | None:
    """Split a button id into (kind, answer id), or None if it is not one of ours."""
    match = _CUSTOM_ID.fullmatch(value)
    return (match.group(1), match.group(2)) if match else None
