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

from bot.answer.engine import Engine
from bot.answer.semantic import semantic_from_settings
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
    semantic, warning = semantic_from_settings(settings)
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
    return f"Ranking by word match and sentence embeddings ({engine.semantic.embedder.name})."


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
        self.started = asyncio.Event()  # set once the watch is being set up
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
        self.started.set()
        try:
            await self.live.awatch(self._stop, debounce_ms=self.debounce_ms)
            if self._stop.is_set():
                return
            reason = "the file events stopped"
        except asyncio.CancelledError:
            raise
        except (OSError, RuntimeError, ImportError) as exc:
            if self._stop.is_set():
                return
            reason = one_line(str(exc) or type(exc).__name__)
        except Exception:
            log.exception("Watching %s failed.", one_line(str(self.live.root)))
            reason = "see the error above"
        log.warning(
            "Watching %s by polling every %.0f s: %s",
            one_line(str(self.live.root)),
            self.poll_seconds,
            reason,
        )
        self.polling = True
        await self._poll()

    async def _poll(self) -> None:
        """Reload when a poll of the folder sees a change, until stopped."""
        import watchfiles

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
            except Exception:
                log.exception("Polling %s failed; trying again.", one_line(str(self.live.root)))
            # The folder went away, or polling failed: look again a little later.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll_seconds)
