"""The bot's background work: polling every corpus folder's feeds, deleting expired rows.

Each folder the bot answers from polls its own feeds, its state kept in the folder (the
default corpus: ``FEEDS`` plus its ``feeds.toml``; a server's own folder: its ``feeds.toml``
only), and a round that changed a file reloads that folder's engine if it is built. Rows
past each server's retention are deleted hourly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.discordbot.logs import one_line
from bot.errors import FeedsError

if TYPE_CHECKING:
    from bot.discordbot.client import QABot

log = logging.getLogger(__name__)

# How often rows past a server's retention are deleted.
PRUNE_SECONDS = 3600.0
# How long closing waits for a feed round in progress before cancelling it.
STOP_SECONDS = 5.0


class Housekeeping:
    """Start, and stop on close, the bot's background tasks."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.feeds: dict[Path, asyncio.Task[None]] = {}
        self._prune: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Start pruning, and polling the feeds of every folder that has any."""
        loop = asyncio.get_running_loop()
        self._stop.clear()
        self._prune = loop.create_task(self._prune_forever(), name="prune")
        for folder, own_only in self.folders():
            self._start_feeds(folder, own_only)

    def folders(self) -> list[tuple[Path, bool]]:
        """Return the default corpus folder and every server's own, each once.

        The flag says whether only the folder's feeds.toml counts (not FEEDS).
        """
        default = self.bot.engines.default_folder
        found: dict[Path, bool] = {default: False}
        for folder in self.bot.directory.file.corpus_folders():
            found.setdefault(folder.resolve(), True)
        return list(found.items())

    def _start_feeds(self, folder: Path, own_only: bool) -> None:
        from bot.feeds.service import poll_forever, specs_for

        settings = self.bot.settings
        try:
            if not folder.is_dir() or not specs_for(folder, settings, own_only=own_only):
                return
        except FeedsError as exc:  # a broken feeds.toml: this folder's feeds wait for a fix
            log.error("Not polling the feeds of %s: %s", one_line(str(folder)), one_line(str(exc)))
            return

        async def reload_after(report: Any) -> None:
            live = self.bot.engines.live_for(folder)
            if report.changed and live is not None:
                await live.areload()

        self.feeds[folder] = asyncio.get_running_loop().create_task(
            poll_forever(
                folder, settings, on_round=reload_after, stop=self._stop, own_only=own_only
            ),
            name=f"feeds {folder}",
        )
        log.info("Polling the feeds of %s while the bot runs.", one_line(str(folder)))

    async def close(self) -> None:
        """Stop the tasks, letting a feed round in progress finish its page."""
        if self._prune is not None:
            self._prune.cancel()
        self._stop.set()
        for task in self.feeds.values():
            try:
                await asyncio.wait_for(task, STOP_SECONDS)
            except (TimeoutError, Exception):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _prune_forever(self) -> None:
        """Delete kept questions, votes and button state past each server's retention."""
        while True:
            try:
                self.prune()
            except Exception:
                log.exception("Deleting old questions failed; trying again in an hour.")
            await asyncio.sleep(PRUNE_SECONDS)

    def prune(self, now: float | None = None) -> int:
        """Delete rows past each server's retention now; return how many went."""
        state = self.bot.state
        if state is None:
            return 0
        now = time.time() if now is None else now
        deleted = 0
        for guild_id in state.guild_ids():
            days = self.bot.config_for(guild_id or None).retention_days
            deleted += state.forget_before(guild_id, now - days * 86400)
        return deleted
