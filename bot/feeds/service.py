"""What the front ends call: add URLs now, poll once (cron), poll forever (the bot), list feeds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.feeds.config import FeedSpec, feed_specs
from bot.feeds.fetch import Limits
from bot.feeds.reader import Reader, ReaderOptions
from bot.feeds.report import RoundReport
from bot.feeds.state import STATE_FILE, STATE_FOLDER, State, never_polled
from bot.settings import Settings

logger = logging.getLogger(__name__)

RoundListener = Callable[[RoundReport], Awaitable[None] | None]
# However soon a feed is due, the loop sleeps at least this long between rounds.
MIN_SLEEP_SECONDS = 1.0


def reader_options(settings: Settings) -> ReaderOptions:
    """Build the reader's limits from the settings."""
    return ReaderOptions(
        limits=Limits(
            timeout=settings.feed_timeout_seconds,
            max_bytes=int(settings.feed_max_mb * 2**20),
        ),
        keep_days=settings.feed_keep_days,
    )


def specs_for(corpus_dir: Path, settings: Settings, *, own_only: bool = False) -> list[FeedSpec]:
    """List the feeds to poll: FEEDS plus corpus_dir/feeds.toml (own_only: the file's only).

    FEEDS belongs to the default corpus; a server's own folder polls its feeds.toml only.
    """
    urls = () if own_only else settings.feeds
    return feed_specs(corpus_dir, urls, settings.feed_interval_minutes)


def add_urls(urls: list[str], corpus_dir: Path, settings: Settings) -> RoundReport:
    """Fetch these article pages now and save them into corpus_dir (blocking)."""
    reader = Reader(corpus_dir, reader_options(settings))
    try:
        return reader.add(urls)
    finally:
        reader.close()


async def _relay(stop: asyncio.Event, stopping: threading.Event) -> None:
    """Tell the worker thread when the loop is asked to stop."""
    await stop.wait()
    stopping.set()


def poll_once(
    corpus_dir: Path,
    settings: Settings,
    *,
    specs: list[FeedSpec] | None = None,
    force: bool = True,
    slack: float = 0.0,
) -> RoundReport:
    """Poll the feeds once (every feed when force, else those due within slack s); blocking."""
    reader = Reader(corpus_dir, reader_options(settings))
    try:
        chosen = specs if specs is not None else specs_for(corpus_dir, settings)
        return reader.poll(chosen, force=force, slack=slack)
    finally:
        reader.close()


def feed_lines(corpus_dir: Path, settings: Settings) -> list[str]:
    """Describe each feed: last poll, status, counts of the last round and each skip."""
    specs = specs_for(corpus_dir, settings)
    if not specs:
        return [
            "No feeds: set FEEDS=<url>,<url> in .env or list them in "
            f"{Path(corpus_dir) / 'feeds.toml'}."
        ]
    # Listing only reads: no state file is made (nor the folder, for a mistyped --corpus).
    exists = (Path(corpus_dir) / STATE_FOLDER / STATE_FILE).exists()
    state = State(Path(corpus_dir)) if exists else None
    lines = []
    try:
        for spec in specs:
            row = state.feed(spec.url) if state is not None else never_polled(spec.url)
            when = (
                time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(row.last_poll))
                if row.last_poll
                else "never"
            )
            counts = row.counts
            tally = (
                f"; {counts.get('new', 0)} new, {counts.get('updated', 0)} updated, "
                f"{counts.get('unchanged', 0)} unchanged, {counts.get('skipped', 0)} skipped"
                if counts
                else ""
            )
            every = f"every {spec.interval / 60:g} min"
            retry = ""
            if row.failures:
                again = time.strftime("%H:%M UTC", time.gmtime(row.next_poll))
                retry = f" ({row.failures} failed in a row; next try {again})"
            lines.append(f"{spec.url} ({every}): last poll {when}, {row.status}{retry}{tally}")
            lines += [f"  skipped {url}: {reason}" for url, reason in row.skips]
    finally:
        if state is not None:
            state.close()
    return lines


async def poll_forever(
    corpus_dir: Path,
    settings: Settings,
    *,
    on_round: RoundListener | None = None,
    stop: asyncio.Event | None = None,
    specs: list[FeedSpec] | None = None,
    own_only: bool = False,
) -> None:
    """Poll each feed when it is due until stop is set (for the bot's setup_hook).

    Rounds run in a worker thread. on_round(report) is called after each round
    that polled anything (the bot reloads its engine there when report.changed).
    A failure of one round is logged and the loop goes on. Setting stop (or
    cancelling the task) ends a running round after the page being fetched; the
    entries not reached are read in a later round. own_only: poll the folder's
    feeds.toml only, not FEEDS (a server's own folder).
    """
    stop = stop or asyncio.Event()
    options = reader_options(settings)
    # Opening the state may read the corpus folder once (adopting saved files): off the loop.
    reader = await asyncio.to_thread(Reader, corpus_dir, options)
    relay = asyncio.create_task(_relay(stop, reader.stopping))
    running: asyncio.Future[RoundReport] | None = None
    try:
        while not stop.is_set():
            current: list[FeedSpec] = []
            try:
                current = (
                    specs
                    if specs is not None
                    else specs_for(corpus_dir, settings, own_only=own_only)
                )
                running = asyncio.ensure_future(asyncio.to_thread(reader.poll, current))
                report = await asyncio.shield(running)
                polled = [f for f in report.feeds if f.status != "not due"]
                if polled:
                    logger.info("feeds: %s", report.summary())
                    for failure in report.failures:
                        logger.warning("feeds: %s", failure)
                    if on_round is not None:
                        outcome = on_round(report)
                        if outcome is not None:
                            await outcome
            except asyncio.CancelledError:
                reader.stopping.set()
                raise
            except Exception:
                logger.exception("feeds: a poll round failed")
            # Sleep until the first feed is due (feeds.toml is read again each round).
            wait = min((reader.due(spec) for spec in current), default=60.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(wait, MIN_SLEEP_SECONDS))
    finally:
        relay.cancel()
        reader.stopping.set()
        if running is not None and not running.done():
            # The round stops after its current fetch, which the timeout bounds.
            await asyncio.wait([running], timeout=options.limits.timeout + 5)
        if running is None or running.done():
            reader.close()
