"""Run the bot until SIGTERM or SIGINT, or sync its slash commands; return exit codes."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

import aiohttp
import discord

from bot.discordbot.client import QABot, make_bot
from bot.discordbot.engines import check_corpus_folder, load_live_engine
from bot.discordbot.guilds import GuildDirectory
from bot.discordbot.logs import one_line
from bot.errors import CorpusError
from bot.settings import Secret, Settings, SettingsError, env_file_warning

log = logging.getLogger("bot.discordbot")

LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2  # a setting Discord or the program refuses: token, intents, shards, corpus
EXIT_INTERRUPTED = 130  # stopped by force, as shells report Ctrl-C

_TOKEN_REFUSED = (
    "Discord refused DISCORD_TOKEN (401 Unauthorized): it is wrong, was reset, or belongs to "
    "another application. Copy a fresh token from the developer portal (Bot > Reset Token) "
    "into .env, and check that no stale DISCORD_TOKEN in your shell overrides it."
)
_INTENT_REFUSED = (
    "Discord refused the Message Content intent (PrivilegedIntentsRequired): turn on "
    "'Message Content Intent' under Bot > Privileged Gateway Intents in the developer portal, "
    "or set MESSAGE_CONTENT_INTENT=false (mentions, replies, DMs and /ask work without it)."
)
_CLOSE_REASONS = {
    4004: _TOKEN_REFUSED,
    4010: "Discord refused the shard settings: SHARD_IDS must each be below SHARD_COUNT.",
    4011: "Discord requires sharding for this bot: set SHARD_COUNT (see docs/self-hosting.md).",
    4013: "Discord refused the gateway intents the bot asked for (invalid intents).",
    4014: _INTENT_REFUSED,
}


def configure_logging(level_name: str) -> None:
    """Log plain lines to stderr at the configured level, unless logging is set up already."""
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        level = logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        # Plain text, not discord.py's colours: journald and `docker logs` keep escape codes.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
        root.addHandler(handler)
    root.setLevel(level)


def _token(settings: Settings) -> str | None:
    token = settings.discord_token
    return token.reveal() if isinstance(token, Secret) and token else None


def _log_settings(settings: Settings) -> None:
    for line in settings.describe_sources():
        log.info("Setting %s", line)
    if (warning := env_file_warning(settings)) is not None:
        log.warning("%s", warning)
    if settings.ask_channel_ids and not settings.message_content_intent:
        log.warning(
            "ASK_CHANNEL_IDS is set but MESSAGE_CONTENT_INTENT is off: Discord hides the text "
            "of other messages, so ask channels will only see messages that mention the bot."
        )
    if settings.shard_count is not None:
        shards = ", ".join(map(str, settings.shard_ids)) or f"all {settings.shard_count}"
        log.info("Sharding: %s of %d shards in this process.", shards, settings.shard_count)


def _explain_failure(exc: BaseException) -> tuple[int, str] | None:
    """Map a start-up failure Discord caused to an exit code and one clear line."""
    if isinstance(exc, discord.LoginFailure):
        return EXIT_CONFIG, _TOKEN_REFUSED
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return EXIT_CONFIG, _INTENT_REFUSED
    if isinstance(exc, discord.ConnectionClosed) and exc.code in _CLOSE_REASONS:
        return EXIT_CONFIG, _CLOSE_REASONS[exc.code]
    if isinstance(exc, discord.HTTPException) and exc.status == 401:
        return EXIT_CONFIG, _TOKEN_REFUSED
    if isinstance(exc, aiohttp.ClientError | OSError | discord.GatewayNotFound):
        return EXIT_FAILURE, f"Could not reach Discord: {exc or type(exc).__name__}"
    if isinstance(exc, CorpusError):
        return EXIT_CONFIG, f"Cannot load the corpus (CORPUS_DIR): {exc}"
    return None


class _Stopper:
    """Close the bot on SIGTERM/SIGINT; remember that a stop was asked for."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.requested = False
        self.bot: QABot | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._installed: list[signal.Signals] = []

    def install(self) -> None:
        """Handle SIGTERM and SIGINT on the loop, where the platform allows it."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self.loop.add_signal_handler(sig, self.request, sig)
                self._installed.append(sig)
            except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
                pass

    def uninstall(self) -> None:
        """Give SIGTERM and SIGINT back their default behaviour."""
        for sig in self._installed:
            self.loop.remove_signal_handler(sig)
        self._installed.clear()

    def request(self, sig: signal.Signals) -> None:
        """Start closing the bot; a second signal then stops the process the default way."""
        self.requested = True
        self.uninstall()
        log.info("Received %s: closing the connection to Discord.", sig.name)
        if self.bot is not None:
            task = self.loop.create_task(self.bot.close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def _serve(settings: Settings) -> int:
    token = _token(settings)
    if token is None:
        log.error("DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in .env.")
        return EXIT_CONFIG
    _log_settings(settings)
    stopper = _Stopper(asyncio.get_running_loop())
    stopper.install()
    try:
        try:
            check_corpus_folder(settings.corpus_dir)  # before seconds go into the model
            try:
                directory = GuildDirectory(settings)  # guilds.toml, checked just as early
            except SettingsError as exc:
                log.error("%s", one_line(str(exc)))
                return EXIT_CONFIG
            if settings.semantic:
                log.info(
                    "Loading the index of %s; its sentence embeddings (%s) are computed in "
                    "the background, word match answers meanwhile.",
                    one_line(str(settings.corpus_dir)),
                    one_line(settings.embedding_model),
                )
            # Model, saved index and changed articles, loaded before logging in to Discord.
            live = await asyncio.to_thread(load_live_engine, settings)
        except CorpusError as exc:
            for problem in exc.problems:
                log.warning("Skipped while loading the corpus: %s", one_line(problem))
            log.error(
                "Cannot load the corpus from %s (CORPUS_DIR): %s",
                one_line(str(settings.corpus_dir)),
                one_line(str(exc)),
            )
            return EXIT_CONFIG
        for problem in live.engine.corpus.problems:
            log.warning("Skipped while loading the corpus: %s", one_line(problem))
        if stopper.requested:
            return EXIT_OK
        bot = make_bot(settings, live, directory=directory)
        stopper.bot = bot
        return await _run_client(bot, token, stopper)
    finally:
        stopper.uninstall()


async def _run_client(bot: QABot, token: str, stopper: _Stopper) -> int:
    try:
        async with bot:
            await bot.start(token)
    except Exception as exc:
        if stopper.requested:
            return EXIT_OK
        explained = _explain_failure(exc)
        if explained is None:
            log.exception("The bot stopped unexpectedly.")
            return EXIT_FAILURE
        code, line = explained
        log.error("%s", line)
        return code
    log.info("Disconnected from Discord; bye.")
    return EXIT_OK


def run(settings: Settings) -> int:
    """Start the bot and block until it stops; return the process exit code."""
    configure_logging(settings.log_level)
    return _run_async(_serve(settings))


async def _sync(settings: Settings, global_: bool) -> int:
    token = _token(settings)
    if token is None:
        log.error("DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in .env.")
        return EXIT_CONFIG
    guild_id = settings.discord_guild_id
    if not global_ and guild_id is None:
        log.error(
            "Nothing to sync to: set DISCORD_GUILD_ID to sync to one server, "
            "or use --global to sync to every server."
        )
        return EXIT_CONFIG
    try:
        bot = make_bot(settings, serve=False)
    except SettingsError as exc:  # guilds.toml
        log.error("%s", one_line(str(exc)))
        return EXIT_CONFIG
    try:
        async with bot:
            await bot.login(token)
            if global_:
                await bot.sync_global()
            else:
                assert guild_id is not None
                if not await bot.sync_guild(guild_id):
                    return EXIT_CONFIG  # not in that server, or invited without the scope
    except Exception as exc:
        explained = _explain_failure(exc)
        if explained is None:
            log.exception("Syncing the slash commands failed.")
            return EXIT_FAILURE
        code, line = explained
        log.error("%s", line)
        return code
    return EXIT_OK


def sync(settings: Settings, *, global_: bool) -> int:
    """Log in, sync the slash commands to DISCORD_GUILD_ID or globally, and log out."""
    configure_logging(settings.log_level)
    return _run_async(_sync(settings, global_))


def _run_async(main: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:  # a second Ctrl-C, or a platform without signal handlers
        return EXIT_INTERRUPTED
