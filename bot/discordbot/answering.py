"""Answering, shared by every cog: who may ask where, asking off the loop, presenting answers.

Mixed into the bot: the gate (channels, DMs, cooldown), the engine call in the bot's answer
threads, and the step that turns an answer into an embed with its buttons and keeps what
those buttons, follow-ups and ``/qa gaps`` need.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter, filtered_answer
from bot.answer.followup import FollowUp
from bot.answer.models import Answer
from bot.discordbot import embeds, notices
from bot.discordbot.answer_buttons import answer_view, cited_marks, new_answer_id
from bot.discordbot.answers_store import StoredAnswer
from bot.discordbot.guilds import GuildConfig
from bot.discordbot.sending import notify
from bot.discordbot.shared import SharedState
from bot.discordbot.state import QuestionRecord, StateDB

log = logging.getLogger("bot.discordbot.client")

# Threads answering questions. Retrieval holds the GIL, so more threads add no throughput and
# only take it from the event loop: in a burst of 300 (bench/discord_load.py --over 0) the
# default pool made /ask acknowledgements 2-5x and the slowest answers ~40% slower. Two keep
# one slow question from holding up every other.
ENGINE_THREADS = 2


def where(interaction: discord.Interaction[Any]) -> tuple[int | None, int | None, int | None]:
    """Return the guild, channel and (in a thread) parent channel of an interaction."""
    channel = interaction.channel
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
    return interaction.guild_id, interaction.channel_id, parent_id


@dataclass(frozen=True)
class Presented:
    """An answer rendered for Discord, and its id (kept in the store when it has buttons)."""

    embed: discord.Embed
    view: discord.ui.View | None
    answer_id: str | None


class Answering:
    """Mixed into the bot: gate a question, answer it off the loop, present the answer."""

    state: StateDB | None
    shared: SharedState
    _engine_threads: ThreadPoolExecutor

    if TYPE_CHECKING:

        def config_for(self, guild_id: int | None) -> GuildConfig: ...

    async def ask_engine(
        self,
        engine: Engine,
        question: str,
        k: int,
        offset: int = 0,
        previous: FollowUp | None = None,
        options: ArticleFilter | None = None,
    ) -> Answer:
        """Answer a question off the event loop, as the CLI does; retrieval is CPU-bound.

        previous is the conversation a follow-up question is read with; options limit the
        articles it may cite (/ask article, source, after, before).
        """
        call = functools.partial(
            filtered_answer,
            engine,
            question,
            k=k,
            offset=offset,
            options=options,
            previous=previous,
        )
        return await asyncio.get_running_loop().run_in_executor(self._engine_threads, call)

    def gate(
        self, guild_id: int | None, channel_id: int | None, parent_id: int | None, user_id: int
    ) -> str | None:
        """Return a notice if this user may not ask here (channel, DMs) or now (cooldown)."""
        config = self.config_for(guild_id)
        if guild_id is None:
            if not config.allow_dms:
                return notices.DMS_OFF_NOTICE
        elif channel_id is not None and not config.policy.channel_allowed(channel_id, parent_id):
            return notices.channels_notice(config.allowed_channels)
        return None

    async def check_cooldown(self, config: GuildConfig, user_id: int) -> float | None:
        """Count a question against the user's cooldown; return the wait if over it."""
        verdict = await self.shared.check_cooldown(
            user_id,
            questions=config.cooldown_questions,
            seconds=config.cooldown_seconds,
        )
        return None if verdict.allowed else verdict.retry_after

    async def refuse_interaction(
        self, interaction: discord.Interaction[Any], *, counts: bool = True
    ) -> bool:
        """Answer with a notice and return True if this interaction may not go on."""
        guild_id, channel_id, parent_id = where(interaction)
        notice = self.gate(guild_id, channel_id, parent_id, interaction.user.id)
        if notice is None and counts:
            wait = await self.check_cooldown(self.config_for(guild_id), interaction.user.id)
            if wait is not None:
                notice = notices.cooldown_notice(wait)
        if notice is None:
            return False
        await notify(interaction, notice)
        return True

    async def present(
        self,
        answer: Answer,
        engine: Engine,
        config: GuildConfig,
        *,
        asker_id: int,
        private: bool,
        context: FollowUp | None = None,
        asked: bool = True,
        options: ArticleFilter | None = None,
        server: int | None = None,
    ) -> Presented:
        """Render an answer, keep it for its buttons and follow-ups, and note it for /qa gaps.

        server: the server whose articles a DM's answer came from (its buttons say so).
        """
        embed = embeds.answer_embed(answer)
        answer_id = new_answer_id()
        self.record_question(answer, engine, config, answer_id, asked)
        if not (answer.answered and answer.passages):
            return Presented(embed, None, None)
        stored = StoredAnswer.of(
            answer, config.k, asker_id, private, context, config.guild_id, options
        )
        await self.shared.add(answer_id, stored)
        self.save_for_buttons(answer_id, stored, config)
        marks = cited_marks(engine, answer)
        view = answer_view(answer_id, answer, marks, private=private, server=server)
        return Presented(embed, view, answer_id)

    def save_for_buttons(self, answer_id: str, stored: StoredAnswer, config: GuildConfig) -> None:
        """Keep what the answer's buttons recompute it from after a restart (not for DMs)."""
        saved = stored.saved(answer_id, keep_text=config.store_questions)
        if self.state is None or saved is None:
            return
        try:
            self.state.save_answer(saved)
        except Exception:
            log.exception("Could not keep answer %s for its buttons.", answer_id)

    def record_question(
        self, answer: Answer, engine: Engine, config: GuildConfig, answer_id: str, asked: bool
    ) -> None:
        """Keep what /qa gaps needs of a question; its text only where the server opted in."""
        if self.state is None or config.guild_id is None:
            return
        titles = {a.key: a.title or a.key for a in engine.articles}
        cited: list[str] = []
        for passage in answer.passages:
            title = titles.get(passage.article_key, passage.article_key)
            if title not in cited:
                cited.append(title)
        try:
            self.state.record_question(
                QuestionRecord(
                    answer_id=answer_id,
                    guild_id=config.guild_id,
                    asked_at=time.time(),
                    status=answer.status.value,
                    confidence=answer.confidence_label,
                    ranking=answer.ranking,
                    citations=tuple(f"{p.article_key}:{p.citation}" for p in answer.passages),
                    articles=tuple(cited),
                    question=answer.question if config.store_questions else None,
                    asked=asked,
                )
            )
        except Exception:
            log.exception("Could not keep question %s for /qa gaps.", answer_id)

    async def conversation(
        self, channel_id: int | None, reference_id: int | None = None
    ) -> FollowUp | None:
        """Return what a question continues: the answer it replies to, or the thread's.

        A reply to one of the bot's answers continues that answer; a question in a thread
        or a DM continues the latest answer there, or the answer a thread was started on.
        """
        stored = await self.shared.for_message(reference_id) if reference_id is not None else None
        if stored is None and channel_id is not None:
            # Any channel id: a thread the client has not cached yet still has its id.
            stored = await self.shared.for_conversation(channel_id)
        return stored.follow_up if stored is not None else None

    async def remember_shown(self, answer_id: str | None, message: discord.Message) -> None:
        """Link a sent answer to its message, so replies and threads under it continue it."""
        if answer_id is None:
            return
        channel = message.channel
        conversation = (
            channel.id if isinstance(channel, discord.Thread | discord.DMChannel) else None
        )
        await self.shared.link(answer_id, message_id=message.id, conversation_id=conversation)
