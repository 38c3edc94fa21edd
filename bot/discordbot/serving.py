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

import logging
import threading
from pathlib import Path

from bot.answer.engine import Engine
from bot.answer.semantic import semantic_from_settings
from bot.index.storage import default_index_root
from bot.ingest.loader import CorpusError
from bot.live import DEBOUNCE_MS, POLL_SECONDS, LiveEngine, ReloadResult
from bot.progress import Progress
from bot.settings import Settings
from bot.watching import FolderWatcher

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


class CorpusWatcher(FolderWatcher):
    """Reload the live engine whenever article files change: LiveEngine's watcher, in a task."""

    def __init__(
        self, live: LiveEngine, debounce_ms: int = DEBOUNCE_MS, poll_seconds: float = POLL_SECONDS
    ) -> None:
        super().__init__(
            live.root,
            live.relevant,
            live.areload,
            live.folder_stamp,
            debounce_ms=debounce_ms,
            poll_seconds=poll_seconds,
        )
        self.live = live
