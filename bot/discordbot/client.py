"""The bot: start-up in setup_hook, the engines and settings of each server, and answering.

The features live in cogs (:mod:`bot.discordbot.cogs`): asking, the buttons under answers,
admin commands and feedback. This module holds what they share: the engine serving each
server, its settings, the cooldown, the answer store behind buttons and follow-ups, and
the step that turns an answer into an embed with its buttons.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter, filtered_answer
from bot.answer.followup import FollowUp
from bot.answer.models import Answer
from bot.discordbot import embeds, notices
from bot.discordbot.answer_buttons import (
    AnswerButton,
    ButtonState,
    answer_view,
    cited_marks,
    new_answer_id,
)
from bot.discordbot.answers_store import AnswerStore, StoredAnswer
from bot.discordbot.command_sync import CommandSync
from bot.discordbot.cooldown import Cooldown
from bot.discordbot.engines import GuildEngines, load_live_engine, ranking_line
from bot.discordbot.guilds import GuildConfig, GuildDirectory
from bot.discordbot.invite import invite_url
from bot.discordbot.logs import one_line
from bot.discordbot.routing import Via
from bot.discordbot.sending import NO_MENTIONS, apologise, notify
from bot.discordbot.shared import SharedState
from bot.discordbot.state import QuestionRecord, StateDB, default_state_db
from bot.discordbot.sync_state import SyncState
from bot.errors import CorpusError
from bot.live import LiveEngine
from bot.settings import Settings
from bot.wording import plural

log = logging.getLogger(__name__)

# Threads answering questions. Retrieval holds the GIL, so more threads add no throughput and
# only take it from the event loop: in a burst of 300 (bench/discord_load.py --over 0) the
# default pool made /ask acknowledgements 2-5x and the slowest answers ~40% slower. Two keep
# one slow question from holding up every other.
ENGINE_THREADS = 2
# How often rows past a server's retention are deleted.
PRUNE_SECONDS = 3600.0


def build_intents(settings: Settings) -> discord.Intents:
    """Ask only for what the bot reads: guilds, messages, and message text when enabled."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    # Privileged: the portal must allow it, or Discord closes the gateway with 4014.
    intents.message_content = settings.message_content_intent
    return intents


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


async def _send_normal_closure(ws: DiscordWebSocket | None) -> None:
    """Send the close frame 1000 before discord.py closes the socket its own way.

    The single-connection client's reader is always waiting on the socket, and aiohttp hands
    a close to that reader, which closes with code 4000: Discord then keeps the session for a
    resume and shows the bot online for minutes after it stopped. (Sharded clients cancel
    their readers first and already close with 1000.)
    """
    socket = getattr(ws, "socket", None)
    send_frame = getattr(socket, "send_frame", None)  # aiohttp >= 3.11
    if ws is None or socket is None or send_frame is None or socket.closed:
        return
    ws._close_code = 1000  # tell the reader this closure is ours, not a reason to reconnect
    try:
        await send_frame(struct.pack("!H", 1000), aiohttp.WSMsgType.CLOSE)
    except Exception as exc:  # the socket may already be gone; closing goes on regardless
        log.debug("Could not send the close frame: %s", exc)


def feature_cogs(bot: QABot) -> list[commands.Cog]:
    """Return the cogs that make up the bot's features."""
    from bot.discordbot.cogs.admin import Admin
    from bot.discordbot.cogs.asking import Asking
    from bot.discordbot.cogs.buttons import Buttons
    from bot.discordbot.cogs.feedback import Feedback

    return [Asking(bot), Buttons(bot), Feedback(bot), Admin(bot)]


def dynamic_items() -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
    """Return the persistent buttons, registered at every start."""
    from bot.discordbot.cogs.admin import GapsButton

    return (AnswerButton, GapsButton)


class QABot(commands.Bot, CommandSync):
    """Answers questions over slash commands, mentions, replies and DMs, per server.

    Each server answers from its own corpus folder (guilds.toml) or the default one; each
    folder is a LiveEngine (reloaded on demand and as it changes) or, given a plain Engine,
    that engine alone for the default folder. Each question reads its engine once, so one
    asked during a reload is answered from the old index.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | LiveEngine | None = None,
        *,
        serve: bool = True,
        store: AnswerStore | None = None,
        sync_state: SyncState | None = None,
        state: StateDB | None = None,
        directory: GuildDirectory | None = None,
        **options: Any,
    ) -> None:
        # The bot never joins voice, so missing voice libraries are not worth a warning.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=build_intents(settings),
            allowed_mentions=NO_MENTIONS,
            **options,
        )
        self.settings = settings
        self.engines = GuildEngines(settings, engine)
        self.directory = directory if directory is not None else GuildDirectory(settings)
        self.state = state
        self.serve = serve
        self.store = store if store is not None else AnswerStore()
        self.cooldown = Cooldown(settings.cooldown_questions, settings.cooldown_seconds)
        redis_url = settings.redis_url.reveal() if settings.redis_url else None
        self.shared = SharedState(redis_url, self.store, self.cooldown)
        self.sync_state = sync_state if sync_state is not None else SyncState()
        self._configs: dict[int | None, GuildConfig] = {}
        self._engine_threads = ThreadPoolExecutor(ENGINE_THREADS, thread_name_prefix="qabot-engine")
        self._prune_task: asyncio.Task[None] | None = None
        self._feeds_task: asyncio.Task[None] | None = None
        self._feeds_stop = asyncio.Event()
        self.global_synced: bool | None = None  # None: not attempted; for logs and tests

    # The engines and settings of each server

    @property
    def live(self) -> LiveEngine | None:
        """Return the live engine of the default corpus, or None when serving a fixed one."""
        return self.engines.live_for(self.engines.default_folder)

    @property
    def engine(self) -> Engine | None:
        """Return the engine of the default corpus answering now; read it once per question."""
        return self.engines.current(self.engines.default_folder)

    @engine.setter
    def engine(self, engine: Engine | None) -> None:
        """Serve this engine for the default corpus from now on, without reloads."""
        self.engines.set_default(engine)

    @property
    def watcher(self) -> Any:
        """Return the watcher of the default corpus folder, if it is watched."""
        return self.engines.watchers.get(self.engines.default_folder)

    def config_for(self, guild_id: int | None) -> GuildConfig:
        """Return a server's settings (DMs: None): .env, guilds.toml, then admins' changes."""
        config = self._configs.get(guild_id)
        if config is None:
            values = self.state.guild_values(guild_id) if self.state and guild_id else {}
            config = self._configs[guild_id] = self.directory.resolve(guild_id, values)
        return config

    def forget_config(self, guild_id: int | None) -> None:
        """Read a server's settings again on next use (after an admin changed them)."""
        self._configs.pop(guild_id, None)

    async def engine_for(self, config: GuildConfig) -> Engine | None:
        """Return the engine of a server's corpus, building it on first use (None: no corpus)."""
        return await self.engines.get(config.corpus)

    async def engine_or_notice(self, config: GuildConfig) -> tuple[Engine | None, str | None]:
        """Return the server's engine, or the notice to send when it has none."""
        try:
            engine = await self.engine_for(config)
        except CorpusError as exc:
            log.error(
                "Cannot load the corpus of server %s: %s", config.guild_id, one_line(str(exc))
            )
            return None, notices.CORPUS_BROKEN_NOTICE
        return (engine, None) if engine is not None else (None, notices.NO_CORPUS_NOTICE)

    # Start-up

    async def setup_hook(self) -> None:
        """Add the cogs and persistent buttons, open the state, load the engine, sync."""
        for cog in feature_cogs(self):
            await self.add_cog(cog)
        # Buttons of any earlier answer, before a restart or from another process, route here.
        self.add_dynamic_items(*dynamic_items())
        self.tree.error(self._on_tree_error)
        if not self.serve:
            return
        if self.state is None:
            self.state = await asyncio.to_thread(
                StateDB, default_state_db(self.settings, self.sync_state.directory)
            )
        await self.shared.connect()
        if self.engine is None:
            # The model takes seconds to load: off the event loop (it is not connected yet).
            self.engines.set_default(await asyncio.to_thread(load_live_engine, self.settings))
        if self.live is not None:
            self.engines.serve(self.live)
        loop = asyncio.get_running_loop()
        self._prune_task = loop.create_task(self._prune_forever())
        self._start_feeds()
        self._log_start()
        await self.sync_on_start()

    def _log_start(self) -> None:
        user = self.user
        engine = self.engine
        assert user is not None and engine is not None and self.application_id is not None
        log.info("Logged in as %s (id %s).", user, user.id)
        log.info(
            "Indexed %s, %s, from %s.",
            plural(len(engine.articles), "article"),
            plural(len(engine.sentences), "sentence"),
            self.settings.corpus_dir,
        )
        log.info("%s", ranking_line(engine))
        listed = len(self.directory.file.guilds)
        if listed:
            log.info(
                "%s configured in %s; their articles load on first use.",
                plural(listed, "server"),
                one_line(str(self.directory.file.path)),
            )
        live = self.live
        if live is None:
            log.info("Serving a fixed index: /reload has nothing to reload.")
        elif self.watcher is not None:
            log.info(
                "Watching %s for changes (WATCH_CORPUS); the owner can also /reload.",
                one_line(str(live.root)),
            )
        else:
            log.info("WATCH_CORPUS is off: the owner reloads the articles with /reload.")
        log.info("Invite the bot with: %s", invite_url(self.application_id))

    async def close(self) -> None:
        """Close the gateway with code 1000, so Discord ends the session at once."""
        if not self.is_closed():
            await _send_normal_closure(self.ws)
        await super().close()
        if self._prune_task is not None:
            self._prune_task.cancel()
        if self._feeds_task is not None:
            self._feeds_stop.set()
            try:
                await asyncio.wait_for(self._feeds_task, 5.0)
            except (TimeoutError, Exception):
                self._feeds_task.cancel()
        await self.engines.close()
        await self.shared.close()
        self._engine_threads.shutdown(wait=False, cancel_futures=True)

    async def on_message(self, message: discord.Message, /) -> None:
        """Leave messages to the Asking cog: the bot has no prefix commands."""

    async def on_ready(self) -> None:
        """Say the bot is connected and where."""
        log.info("Connected to Discord; in %d server(s).", len(self.guilds))

    def _start_feeds(self) -> None:
        """Poll the default corpus's feeds (FEEDS, feeds.toml) while the bot runs."""
        from bot.feeds.service import poll_forever, specs_for

        folder = self.settings.corpus_dir
        if not specs_for(folder, self.settings):
            return
        self._feeds_stop.clear()

        async def reload_after(report: Any) -> None:
            if report.changed and self.live is not None:
                await self.live.areload()

        self._feeds_task = asyncio.get_running_loop().create_task(
            poll_forever(folder, self.settings, on_round=reload_after, stop=self._feeds_stop),
            name="feeds",
        )
        log.info("Polling the feeds of %s while the bot runs.", one_line(str(folder)))

    async def _prune_forever(self) -> None:
        """Delete kept questions and votes older than each server's retention, hourly."""
        while True:
            try:
                self.prune()
            except Exception:
                log.exception("Deleting old questions failed; trying again in an hour.")
            await asyncio.sleep(PRUNE_SECONDS)

    def prune(self, now: float | None = None) -> int:
        """Delete rows past each server's retention now; return how many went."""
        if self.state is None:
            return 0
        now = time.time() if now is None else now
        deleted = 0
        for guild_id in self.state.guild_ids():
            days = self.config_for(guild_id or None).retention_days
            deleted += self.state.forget_before(guild_id, now - days * 86400)
        return deleted

    # Answering

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
    ) -> Presented:
        """Render an answer, keep it for its buttons and follow-ups, and note it for /qa gaps."""
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
        view = answer_view(answer_id, answer, cited_marks(engine, answer), private=private)
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

    # Buttons and errors

    async def on_answer_button(
        self, interaction: discord.Interaction[Any], state: ButtonState
    ) -> None:
        """Route an answer button's click to the cog that owns its kind."""
        cog: Any = self.get_cog("Feedback" if state.kind in ("up", "down") else "Buttons")
        await cog.clicked(interaction, state)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer a click on a button no answer button matches (an older version's)."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        if any(
            item.__discord_ui_compiled_template__.fullmatch(custom_id) for item in dynamic_items()
        ):
            return  # a persistent button handles it
        try:
            await notify(interaction, notices.EXPIRED_NOTICE)
        except Exception:
            await apologise(interaction, Via.BUTTON)

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Apologise for failures outside the handlers (e.g. bad option data)."""
        log.error(
            "Slash command failed: interaction=%s guild=%s channel=%s user=%s: %s",
            interaction.id,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            error,
        )
        await apologise(interaction, Via.SLASH, log_it=False)


class ShardedQABot(QABot, commands.AutoShardedBot):
    """The same bot over several gateway shards in this process (SHARD_COUNT, SHARD_IDS)."""


def make_bot(settings: Settings, engine: Engine | LiveEngine | None = None, **kwargs: Any) -> QABot:
    """Build the bot, sharded when SHARD_COUNT is set."""
    if settings.shard_count is None:
        return QABot(settings, engine, **kwargs)
    shard_ids = list(settings.shard_ids) or None
    return ShardedQABot(
        settings, engine, shard_count=settings.shard_count, shard_ids=shard_ids, **kwargs
    )
