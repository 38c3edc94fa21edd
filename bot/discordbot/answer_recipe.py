"""How a button asks its answer again when no store remembers it (a restart, another process).

What the state database kept for the answer (its filter, passages per page, the asker, and
for a follow-up the earlier answer's citations; the question texts only where the server
stores questions) is put together with what the message itself shows: the question in the
title and a follow-up's "read with your previous question" line.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.answer.filters import ArticleFilter
from bot.answer.followup import FollowUp
from bot.discordbot.answers_store import filter_from_json
from bot.discordbot.embeds import READ_WITH
from bot.discordbot.guilds import GuildConfig
from bot.discordbot.safetext import ELLIPSIS, unescape
from bot.discordbot.state import SavedAnswer


def question_on(message: discord.Message | None) -> str | None:
    """Read the question back from an answer's embed title (None when it was shortened)."""
    if message is None or not message.embeds:
        return None
    title = message.embeds[0].title
    if not title or title.endswith(ELLIPSIS):
        return None
    return unescape(title)


def read_with_on(message: discord.Message | None) -> str | None:
    """Read back the question a follow-up's answer says it was read with (None if cut)."""
    if message is None or not message.embeds:
        return None
    head = (message.embeds[0].description or "").split("\n\n", 1)[0]
    if not (head.startswith(READ_WITH) and head.endswith(")")):
        return None
    shown = head[len(READ_WITH) : -1]
    return None if shown.endswith(ELLIPSIS) else unescape(shown)


@dataclass(frozen=True)
class Recipe:
    """How to ask an answer again: its question, filter, page size and conversation."""

    question: str
    k: int
    options: ArticleFilter | None
    context: FollowUp | None
    asker_id: int
    private: bool

    @classmethod
    def of(
        cls, saved: SavedAnswer | None, message: discord.Message | None, config: GuildConfig
    ) -> Recipe | None:
        """Put together what was kept and what the message shows; None if too little."""
        question = (saved.question if saved else None) or question_on(message)
        if question is None:
            return None
        private = bool(message is not None and message.flags.ephemeral)
        asker = asker_of(message) or 0
        if saved is None:  # an answer from before the state database kept it
            return cls(question, config.k, None, None, asker, private)
        context = None
        if saved.followed:
            previous = saved.previous or read_with_on(message)
            if previous is None and _description(message).startswith(READ_WITH):
                return None  # read with a question too long to show, and not kept
            if previous is not None:
                context = FollowUp(previous, saved.citations, saved.previous_context or "")
        options = filter_from_json(dict(saved.options)) if saved.options else None
        return cls(question, saved.k, options, context, saved.asker_id, saved.private)


def _description(message: discord.Message | None) -> str:
    return (message.embeds[0].description or "") if message is not None and message.embeds else ""


def asker_of(message: discord.Message | None) -> int | None:
    """Return who asked the question an answer message answers, when Discord says."""
    if message is None:
        return None
    metadata = message.interaction_metadata
    if metadata is not None:
        return metadata.user.id
    reference = message.reference
    resolved = reference.resolved if reference is not None else None
    return resolved.author.id if isinstance(resolved, discord.Message) else None
