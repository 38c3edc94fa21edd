"""The engine the bot serves: loaded like the CLI's, reloaded on demand and as the folder changes.

The bot answers from a :class:`~bot.live.LiveEngine` over ``CORPUS_DIR``: the persisted index
in ``INDEX_DIR`` (only changed articles are read again at start) and, with ``SEMANTIC``, the
embedding model. Loading blocks for seconds (the model alone takes about five), so callers run
:func:`load_live_engine` off the event loop. :class:`CorpusWatcher` reloads while the bot runs
when ``WATCH_CORPUS`` is on; the owner's ``/reload`` reloads on demand. Every reload logs one
line (``bot.live``): what changed, the articles and sentences now served, or what failed while
the last good index keeps answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR
from typing import Any

from bot.answer.engine import Engine
from bot.embedding.loader import semantic_from_settings
from bot.index.store import default_index_root
from bot.ingest.loader import CorpusError
from bot.live import DEBOUNCE_MS, POLL_SECONDS, LiveEngine, ReloadResult
from bot.progress import Progress
from bot.settings import Settings

log = logging.getLogger(__name__)


def one_line(text: str) -> str:
    """Escape what would break a log line: a file name may hold a newline or escape codes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def check_corpus_folder(path: Path) -> None:
    """Refuse a missing corpus folder at once, before seconds are spent loading the model."""
    if not path.exists():
        raise CorpusError(f"corpus folder {path} does not exist")
    if not path.is_dir():
        raise CorpusError(f"corpus path {path} is not a folder")


def load_live_engine(settings: Settings) -> LiveEngine:
    """Load the embedding model and the corpus's saved index, as the CLI does (blocking).

    A model that cannot be loaded leaves ranking lexical, with one warning line. Raises
    CorpusError when the folder is missing or holds no usable article.
    """
    check_corpus_folder(settings.corpus_dir)
    semantic, warning = semantic_from_settings(settings, progress=Progress())
    if warning:
        log.warning("%s", warning)
    return LiveEngine(
        settings.corpus_dir,
        index_dir=settings.index_dir or default_index_root(),
        semantic=semantic,
        progress=Progress(),
    )


def ranking_line(engine: Engine) -> str:
    """Say how answers are ranked, for the start-up log."""
    if engine.semantic is None:
        return "Ranking by word match only (SEMANTIC off or the model unavailable)."
    return f"Ranking by word match and sentence embeddings ({engine.semantic.model.name})."


def _identity(folder: Path) -> tuple[int, int] | None:
    """Identify the folder a path names now (device and inode), or None if there is none."""
    try:
        stat = folder.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino) if S_ISDIR(stat.st_mode) else None


def counts(engine: Engine) -> tuple[int, int]:
    """Return the number of articles and sentences an engine serves."""
    return len(engine.articles), len(engine.sentences)


class ProblemLog:
    """Log the files a reload skipped, each once while it stays skipped (a reload listener)."""

    def __init__(self, known: list[str]) -> None:
        self._known = frozenset(known)
        self._lock = threading.Lock()

    def __call__(self, result: ReloadResult) -> None:
        """Log the skipped files this reload found that the last one did not."""
        if not result.ok:
            return  # nothing was swapped in; the failure line says what went wrong
        with self._lock:
            new = [p for p in result.problems if p not in self._known]
            self._known = frozenset(result.problems)
        for problem in new:
            log.warning("Skipped while reloading the corpus: %s", one_line(problem))


@dataclass
class CorpusWatcher:
    """Reload the live engine whenever article files change, in a task on the bot's loop.

    Uses the operating system's file events through LiveEngine.awatch; when those fail (no
    inotify, its watch limit reached) it polls the folder every ``poll_seconds`` instead.
    """

    live: LiveEngine
    debounce_ms: int = DEBOUNCE_MS
    poll_seconds: float = POLL_SECONDS

    def __post_init__(self) -> None:
        self.started = asyncio.Event()  # set once file events are being followed
        self.polling = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching in a task of the running loop."""
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"watch {self.live.root}"
        )

    @property
    def running(self) -> bool:
        """Tell whether the watch task is still going."""
        return self._task is not None and not self._task.done()

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop watching; wait for a reload in progress, up to timeout, then cancel."""
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            log.warning("The corpus watcher did not stop within %.0f s; cancelled it.", timeout)
        except Exception:  # already logged by _run
            pass

    async def _run(self) -> None:
        reason = await self._follow_events()
        if reason is None:
            return  # stopped
        log.warning(
            "Watching %s by polling every %g s: %s",
            one_line(str(self.live.root)),
            self.poll_seconds,
            reason,
        )
        self.polling = True
        await self._poll()

    async def _follow_events(self) -> str | None:
        """Reload on file events until stopped (None) or until they fail (the reason).

        File events follow a folder, not its name: when the folder is replaced (renamed
        over, a symlink switched) or removed and made again, watching starts over on the
        folder now there, after a reload.
        """
        root = self.live.root
        while True:
            folder = _identity(root)
            events_stop = asyncio.Event()
            events = None
            if folder is not None:
                events = asyncio.create_task(self._events(events_stop))
            try:
                while _identity(root) == folder and not (events is not None and events.done()):
                    if await self._stopped_within(self.poll_seconds, events):
                        return None
            finally:
                events_stop.set()
            now = _identity(root)
            if events is not None:
                try:
                    await events
                except asyncio.CancelledError:
                    raise
                except (OSError, RuntimeError, ImportError) as exc:
                    if now == folder:
                        return one_line(str(exc) or type(exc).__name__)
                except Exception:
                    log.exception("Watching %s failed.", one_line(str(root)))
                    return "see the error above"
                else:
                    if now == folder:
                        return "the file events stopped"
            if now is None:
                log.warning(
                    "%s is gone; answering from the last index until it is back.",
                    one_line(str(root)),
                )
                continue
            log.info("%s was replaced; reloading and watching it again.", one_line(str(root)))
            await self.live.areload()

    async def _events(self, stop: asyncio.Event) -> None:
        # Set just before the watch starts: it is in place (and buffers file events) before
        # anyone woken by this runs, since nothing in between gives the loop a turn.
        self.started.set()
        await self.live.awatch(stop, debounce_ms=self.debounce_ms)

    async def _stopped_within(self, seconds: float, task: asyncio.Task[None] | None) -> bool:
        """Wait up to seconds, or until stopped or the task ends; tell whether stopped."""
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
        """Reload when a poll of the folder sees a change, until stopped."""
        import watchfiles

        logging.getLogger("watchfiles").setLevel(logging.WARNING)  # no line per change
        last_error = ""
        while not self._stop.is_set():
            try:
                async for _ in watchfiles.awatch(
                    self.live.root,
                    watch_filter=lambda _change, path: self.live.relevant(path),
                    debounce=self.debounce_ms,
                    stop_event=self._stop,
                    force_polling=True,
                    poll_delay_ms=round(self.poll_seconds * 1000),
                    ignore_permission_denied=True,
                ):
                    await self.live.areload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Said once while it lasts (the folder is gone until it is mounted again).
                error = one_line(f"{type(exc).__name__}: {exc}")
                if error != last_error:
                    log.warning(
                        "Cannot poll %s (%s); trying again.", one_line(str(self.live.root)), error
                    )
                last_error = error
            # The folder went away, or polling failed: look again a little later.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll_seconds)
