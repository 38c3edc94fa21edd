"""The bot: composition and start-up, the engines and settings of each server, click routing.

The features live in cogs (:mod:`bot.discordbot.cogs`): asking, the buttons under answers,
admin commands and feedback. What they share is mixed in: answering (the gate, the engine
call, presenting an answer with its buttons; :mod:`bot.discordbot.answering`) and command
sync. Background work (feeds, pruning) is :mod:`bot.discordbot.housekeeping`; the gateway's
intents and clean close are :mod:`bot.discordbot.connection`.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer.engine import Engine
from bot.discordbot import notices
from bot.discordbot.answer_buttons import AnswerButton, ButtonState
from bot.discordbot.answering import ENGINE_THREADS, Answering
from bot.discordbot.answers_store import AnswerStore
from bot.discordbot.command_sync import CommandSync
from bot.discordbot.connection import build_intents, send_normal_closure
from bot.discordbot.cooldown import Cooldown
from bot.discordbot.dm_servers import DMServers
from bot.discordbot.engines import GuildEngines, load_live_engine, ranking_line
from bot.discordbot.guilds import GuildConfig, GuildDirectory
from bot.discordbot.housekeeping import Housekeeping
from bot.discordbot.invite import invite_url
from bot.discordbot.logs import one_line
from bot.discordbot.routing import Via
from bot.discordbot.sending import NO_MENTIONS, apologise, notify
from bot.discordbot.shared import SharedState
from bot.discordbot.state import StateDB, default_state_db
from bot.discordbot.sync_state import SyncState
from bot.errors import CorpusError
from bot.live import LiveEngine
from bot.settings import Settings
from bot.wording import plural

log = logging.getLogger(__name__)


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


class QABot(commands.Bot, CommandSync, Answering):
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
        self.housekeeping = Housekeeping(self)
        self.dm_servers = DMServers(self)
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
        self.housekeeping.start()
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
            await send_normal_closure(self.ws)
        await super().close()
        await self.housekeeping.close()
        await self.engines.close()
        await self.shared.close()
        self._engine_threads.shutdown(wait=False, cancel_futures=True)

    async def on_message(self, message: discord.Message, /) -> None:
        """Leave messages to the Asking cog: the bot has no prefix commands."""

    async def on_ready(self) -> None:
        """Say the bot is connected and where."""
        log.info("Connected to Discord; in %d server(s).", len(self.guilds))

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
