"""Call a reload whenever the files of a folder change: file events, else polling, until stopped.

The one folder watcher of the program (the CLI's, the REPL's and the Discord
bot's). It follows the operating system's file events through watchfiles;
when those fail (no inotify, its watch limit reached) it says so in one log
line and polls every ``poll_seconds`` instead. File events follow a folder,
not its name: when the folder is replaced (renamed over, a symlink switched)
or removed and made again, it reloads and starts over on the folder now there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from stat import S_ISDIR
from typing import Any

log = logging.getLogger(__name__)

# How long the folder must be quiet before a change is reloaded (milliseconds).
DEBOUNCE_MS = 800
# How often the folder is checked when file events are not available (seconds).
POLL_SECONDS = 5.0
# How many looks (every poll_seconds) compare the folder's stamp after a watch starts.
SETTLE_LOOKS = 3


def one_line(text: str) -> str:
    """Escape what would break a log line: a folder name may hold a newline or escape codes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def identity(folder: Path) -> tuple[int, int] | None:
    """Identify the folder a path names now (device and inode), or None if there is none."""
    try:
        stat = folder.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino) if S_ISDIR(stat.st_mode) else None


class FolderWatcher:
    """Reload whenever relevant files below root change, in a task of the running loop.

    ``run(stop)`` watches until stop is set; ``start()``/``stop()`` do the same in
    a task of their own. ``started`` is set once file events are followed (or
    polling began); ``polling`` tells which.
    """

    def __init__(
        self,
        root: Path,
        relevant: Callable[[str], bool],
        reload: Callable[[], Awaitable[object]],
        stamp: Callable[[], object],
        *,
        debounce_ms: int = DEBOUNCE_MS,
        poll_seconds: float = POLL_SECONDS,
        force_polling: bool = False,
    ) -> None:
        self.root = root
        self.relevant = relevant
        self.reload = reload
        self.stamp = stamp  # what polling compares: changes whenever a relevant file does
        self.debounce_ms = debounce_ms
        self.poll_seconds = poll_seconds
        self.force_polling = force_polling
        self.polling = False
        self._started: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> asyncio.Event:
        """Return the event set once the watcher follows the folder."""
        if self._started is None:
            self._started = asyncio.Event()
        return self._started

    def start(self) -> None:
        """Start watching in a task of the running loop."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name=f"watch {self.root}")

    @property
    def running(self) -> bool:
        """Tell whether the watch task is still going."""
        return self._task is not None and not self._task.done()

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop watching; wait for a reload in progress, up to timeout, then cancel."""
        if self._stop is not None:
            self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            log.warning("The folder watcher did not stop within %.0f s; cancelled it.", timeout)
        except Exception:  # already logged by run
            pass

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Watch until stop (or stop()) is set."""
        self._stop = stop if stop is not None else (self._stop or asyncio.Event())
        reason = "polling was asked for" if self.force_polling else await self._follow_events()
        if reason is None:
            return  # stopped
        if not self.force_polling:
            log.warning(
                "Watching %s by polling every %g s: %s",
                one_line(str(self.root)),
                self.poll_seconds,
                reason,
            )
        await self._poll()

    async def _follow_events(self) -> str | None:
        """Reload on file events until stopped (None) or until they fail (the reason)."""
        # What the folder looked like when it was last read: a change made before a new
        # watch is in place sends no event, so the first looks after it compare stamps.
        base = await self._stamp_or_none()
        while True:
            folder = identity(self.root)
            events_stop = asyncio.Event()
            events = None
            if folder is not None:
                events = asyncio.create_task(self._events(events_stop))
            settling = SETTLE_LOOKS
            try:
                while identity(self.root) == folder and not (events is not None and events.done()):
                    if await self._stopped_within(self.poll_seconds, events):
                        return None
                    if settling:
                        settling -= 1
                        now_stamp = await self._stamp_or_none()
                        if now_stamp != base:
                            base = now_stamp
                            await self.reload()
            finally:
                events_stop.set()
            now = identity(self.root)
            if events is not None:
                try:
                    await events
                except asyncio.CancelledError:
                    raise
                except (OSError, RuntimeError, ImportError) as exc:
                    if now == folder:
                        return one_line(str(exc) or type(exc).__name__)
                except Exception:
                    log.exception("Watching %s failed.", one_line(str(self.root)))
                    return "see the error above"
                else:
                    if now == folder:
                        return "the file events stopped"
            if now is None:
                log.warning(
                    "%s is gone; answering from the last index until it is back.",
                    one_line(str(self.root)),
                )
                continue
            log.info("%s was replaced; reloading and watching it again.", one_line(str(self.root)))
            base = await self._stamp_or_none()
            await self.reload()

    async def _stamp_or_none(self) -> object:
        """Return the folder's stamp, or None while it cannot be read."""
        try:
            return await asyncio.to_thread(self.stamp)
        except Exception:
            return None

    async def _events(self, stop: asyncio.Event) -> None:
        import watchfiles

        logging.getLogger("watchfiles").setLevel(logging.WARNING)  # no line per change
        # Set just before the watch starts: it is in place (and buffers file events) before
        # anyone woken by this runs, since nothing in between gives the loop a turn.
        self.started.set()
        async for _ in watchfiles.awatch(
            self.root,
            watch_filter=lambda _change, path: self.relevant(path),
            debounce=self.debounce_ms,
            stop_event=stop,
            ignore_permission_denied=True,
        ):
            await self.reload()

    async def _stopped_within(self, seconds: float, task: asyncio.Task[None] | None) -> bool:
        """Wait up to seconds, or until stopped or the task ends; tell whether stopped."""
        assert self._stop is not None
        stopping = asyncio.ensure_future(self._stop.wait())
        waiters: set[asyncio.Future[Any]] = {stopping}
        if task is not None:
            waiters.add(task)
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        return self._stop.is_set()

    async def _poll(self) -> None:
        """Reload when the folder's stamp changes between two looks, until stopped.

        The first stamp is taken before ``started`` is set, so no change made after
        that is missed.
        """
        last: object = None
        last_error = ""
        first = True
        while first or not await self._stopped_within(self.poll_seconds, None):
            try:
                now = await asyncio.to_thread(self.stamp)
            except Exception as exc:
                # Said once while it lasts (the folder is gone until it is mounted again).
                error = one_line(f"{type(exc).__name__}: {exc}")
                if error != last_error:
                    where = one_line(str(self.root))
                    log.warning("Cannot poll %s (%s); trying again.", where, error)
                last_error = error
                now = None
            else:
                last_error = ""
            if first:
                first = False
                self.polling = True
                self.started.set()
            elif now is not None and now != last:
                await self.reload()
            last = now if now is not None else last


def run_in_thread(
    watcher: FolderWatcher, stop: threading.Event, ready: threading.Event | None = None
) -> None:
    """Run a watcher in this (non-asyncio) thread until stop is set; set ready once it follows."""

    async def main() -> None:
        stopping = asyncio.Event()
        task = asyncio.create_task(watcher.run(stopping))
        while not stop.is_set() and not task.done():
            if ready is not None and watcher.started.is_set():
                ready.set()
            await asyncio.sleep(0.02)
        stopping.set()
        await task

    try:
        asyncio.run(main())
    finally:
        if ready is not None:
            ready.set()
