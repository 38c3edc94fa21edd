"""Serve answers from a corpus folder that changes while the program runs.

A :class:`LiveEngine` holds the current :class:`~bot.answer.engine.Engine`.
:meth:`LiveEngine.reload` builds the new index beside the old one (re-reading
only the files that changed, see :mod:`bot.index.storage`) and then swaps the
reference in one assignment. A question reads the reference once, so a
question asked during a reload is answered by the old engine, one asked after
by the new one; none is dropped or answered twice. A reload that fails (a file
that is there but cannot be read, a folder left with no usable article) keeps
the last good engine and says what failed.

Changes are picked up on demand (``reload``, the REPL's ``:reload``, an
owner-only Discord ``/reload``) and by watching the folder with the one folder
watcher, :mod:`bot.watching` (``start_watching`` in a thread, ``awatch`` or
``watcher()`` in an asyncio program): file events, else polling.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.answer.engine import DEFAULT_K, Engine, RankingConfig
from bot.answer.followup import FollowUp
from bot.answer.models import Answer
from bot.embedding.loader import SemanticModel
from bot.errors import CorpusError, ReadError
from bot.index.aliases import ALIAS_FILE
from bot.index.storage import Changes, IndexStore
from bot.index.storage.memory import collecting_later, free_replaced, hand_back_large_blocks
from bot.ingest.loader import ARTICLE_SUFFIXES, scan_folder
from bot.progress import QUIET, Progress
from bot.wording import plural

if TYPE_CHECKING:
    import asyncio

    from bot.watching import FolderWatcher

logger = logging.getLogger(__name__)

# How long start_watching waits for the watcher to follow the folder before returning anyway
# (file events are followed within milliseconds; polling first lists the folder). Short: an
# asyncio program may call it on its loop (better: live.watcher().start()).
READY_SECONDS = 2.0

__all__ = ["LiveEngine", "ReloadResult", "Watcher"]

ReloadListener = Callable[["ReloadResult"], None]


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did, with one line to show a person."""

    ok: bool
    message: str
    seconds: float
    changes: Changes = field(default_factory=Changes)
    problems: tuple[str, ...] = ()  # files skipped (not usable articles), as "skipped ..." lines
    failures: tuple[str, ...] = ()  # why the reload failed

    @property
    def changed(self) -> bool:
        """Tell whether the reload swapped in a different index."""
        return self.ok and self.changes.any


class LiveEngine:
    """The current engine of a corpus folder, replaced atomically when the folder changes.

    Thread-safe: answer() and engine may be used from any thread while another
    thread reloads; reloads run one at a time.
    """

    def __init__(
        self,
        corpus_dir: Path | str,
        *,
        index_dir: Path | None = None,
        persist: bool | None = None,
        config: RankingConfig | None = None,
        semantic: SemanticModel | None = None,
        progress: Progress = QUIET,
    ) -> None:
        """Load the folder (from the saved index in index_dir when there is one).

        persist defaults to saving the index when index_dir is given.
        Raises CorpusError when the folder is missing or holds no usable article.
        """
        self.root = Path(corpus_dir)
        self.config = config or RankingConfig()
        self.semantic = semantic
        self.store = IndexStore(
            self.root,
            index_dir,
            persist=index_dir is not None if persist is None else persist,
            params=self.config.bm25,
            progress=progress,
        )
        self._reload_lock = threading.Lock()
        self._listeners: list[ReloadListener] = []
        self._serving = False
        start = time.perf_counter()
        # What a load builds is kept while it serves: out of the collector's way (here and
        # after each reload; the one place that freezes what is loaded).
        with collecting_later(keep=True):
            snapshot = self.store.load()
            self._acronym_key = snapshot.acronym_key
            self._corpus = snapshot.corpus
            self._alias_stamp = self._alias_file_stamp()
            self._engine = Engine.from_snapshot(snapshot, self.config, semantic)
        # Serving from now on: reloads' freed blocks go back to the system (a cold build
        # above keeps glibc's own thresholds, which reuse its large blocks faster).
        hand_back_large_blocks()
        self.last_result = ReloadResult(
            ok=True,
            message=f"Loaded {self.describe()}.",
            seconds=time.perf_counter() - start,
            changes=snapshot.changes,
            problems=tuple(self._engine.corpus.problems),
        )

    @property
    def engine(self) -> Engine:
        """Return the current engine; keep the reference for the whole of one question."""
        return self._engine

    def answer(
        self,
        question: str,
        k: int = DEFAULT_K,
        offset: int = 0,
        previous: FollowUp | str | None = None,
        *,
        only: frozenset[str] | None = None,
    ) -> Answer:
        """Answer a question from the current engine (see Engine.answer)."""
        return self._engine.answer(question, k, offset, previous, only=only)

    def describe(self) -> str:
        """Say how many articles and sentences are being served."""
        engine = self._engine if hasattr(self, "_engine") else None
        if engine is None:
            return "nothing yet"
        articles, sentences = len(engine.articles), len(engine.sentences)
        return f"{plural(articles, 'article')}, {plural(sentences, 'sentence')}"

    def serve(self) -> None:
        """Say this process goes on answering: the engine, and each reload's, gets ready for it.

        The front ends that serve call it (the REPL, a batch on standard input, the
        Discord bot); a one-shot question does not, and so never waits for what only
        many questions pay back.
        """
        self._serving = True
        self._engine.serve()

    def add_listener(self, listener: ReloadListener) -> None:
        """Call listener(result) after every reload, in the thread that reloaded."""
        self._listeners.append(listener)

    def reload(self) -> ReloadResult:
        """Re-read the folder and swap in the new index; never raises for bad files.

        On failure the current engine stays and the result says what failed.
        """
        with self._reload_lock:
            before = self._engine
            result = self._reload()
            self.last_result = result
            replaced = self._engine is not before
            del before
            if replaced:
                free_replaced()
        if result.ok:
            logger.info("%s", result.message)
        else:
            logger.warning("%s", result.message)
        for listener in list(self._listeners):
            try:
                listener(result)
            except Exception:
                logger.exception("a reload listener failed")
        return result

    def wait_saved(self, timeout: float | None = None) -> None:
        """Wait until the index of the last reload is saved (reloads save in the background)."""
        self.store.wait_saved(timeout)

    async def areload(self) -> ReloadResult:
        """Reload in a worker thread, for asyncio programs (the Discord bot)."""
        import asyncio

        return await asyncio.to_thread(self.reload)

    def _reload(self) -> ReloadResult:
        start = time.perf_counter()
        try:
            snapshot = self.store.load(strict=True)
            stamp = self._alias_file_stamp()
            same_aliases = (
                stamp == self._alias_stamp
                and snapshot.acronym_key == self._acronym_key
                and self._engine.alias_error is None
            )
            if snapshot.corpus is self._corpus and same_aliases:
                engine = self._engine
            else:
                aliases = self._engine.aliases if same_aliases else None
                with collecting_later(keep=True):
                    engine = Engine.from_snapshot(snapshot, self.config, self.semantic, aliases)
                if self._serving:
                    # On this reload thread, before the swap: the new engine serves ready.
                    engine.serve(wait=True)
        except ReadError as exc:
            return self._failed(start, exc.failures)
        except CorpusError as exc:
            return self._failed(start, [str(exc), *exc.problems])
        except (OSError, ValueError, MemoryError) as exc:
            logger.exception("reload failed")
            return self._failed(start, [f"{type(exc).__name__}: {exc}"])
        # The swap: one assignment, so every question sees the old or the new engine.
        self._engine = engine
        self._acronym_key = snapshot.acronym_key
        self._corpus = snapshot.corpus
        self._alias_stamp = stamp
        seconds = time.perf_counter() - start
        return ReloadResult(
            ok=True,
            message=f"Reloaded in {seconds:.2f} s: {snapshot.changes.describe()}. "
            f"Now {self.describe()}.",
            seconds=seconds,
            changes=snapshot.changes,
            problems=tuple(engine.corpus.problems),
        )

    def _failed(self, start: float, failures: list[str]) -> ReloadResult:
        shown = "; ".join(failures[:3])
        if len(failures) > 3:
            shown += f" (and {len(failures) - 3} more)"
        return ReloadResult(
            ok=False,
            message=f"Reload failed: {shown}. Still answering from the previous index "
            f"({self.describe()}).",
            seconds=time.perf_counter() - start,
            failures=tuple(failures),
        )

    def _alias_file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = (self.root / ALIAS_FILE).stat()
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns

    # --- watching ---------------------------------------------------------------

    def relevant(self, path: str) -> bool:
        """Tell whether a changed path can change the index (articles, aliases, folders)."""
        try:
            parts = Path(path).resolve().relative_to(self.root.resolve()).parts
        except ValueError:
            return False
        if not parts or any(part.startswith(".") for part in parts):
            return False
        name = parts[-1].lower()
        # A name without a dot may be a folder moved in or out as a whole.
        return name.endswith(ARTICLE_SUFFIXES) or name == ALIAS_FILE or "." not in name

    def folder_stamp(self) -> tuple[object, ...]:
        """Return what changes whenever an article file or the alias file does (for polling)."""
        sources, problems = scan_folder(self.root)
        listed = tuple((s.rel, s.size, s.mtime_ns) for s in sources)
        return listed, tuple(problems), self._alias_file_stamp()

    def watcher(
        self,
        *,
        debounce_ms: int | None = None,
        poll_seconds: float | None = None,
        force_polling: bool = False,
    ) -> FolderWatcher:
        """Return a watcher that reloads on every change; start() it in an asyncio program.

        debounce_ms and poll_seconds default to bot.watching's DEBOUNCE_MS and POLL_SECONDS.
        """
        # Imported here: a one-shot question never watches (and never loads asyncio).
        from bot.watching import DEBOUNCE_MS, POLL_SECONDS, FolderWatcher

        return FolderWatcher(
            self.root,
            self.relevant,
            self.areload,
            self.folder_stamp,
            debounce_ms=DEBOUNCE_MS if debounce_ms is None else debounce_ms,
            poll_seconds=POLL_SECONDS if poll_seconds is None else poll_seconds,
            force_polling=force_polling,
        )

    def watch(
        self,
        stop: threading.Event,
        *,
        debounce_ms: int | None = None,
        poll_seconds: float | None = None,
        force_polling: bool = False,
        ready: threading.Event | None = None,
    ) -> None:
        """Reload whenever article files change, until stop is set (blocks).

        ready, if given, is set once the folder is being followed.
        """
        from bot.watching import run_in_thread

        watcher = self.watcher(
            debounce_ms=debounce_ms, poll_seconds=poll_seconds, force_polling=force_polling
        )
        run_in_thread(watcher, stop, ready)

    def start_watching(self, **options: float | bool | int) -> Watcher:
        """Watch the folder in a background thread; return once it follows the folder.

        Stop it with the returned handle.
        """
        stop, ready = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=self.watch,
            args=(stop,),
            kwargs={**options, "ready": ready},  # type: ignore[arg-type]
            name=f"watch {self.root}",
            daemon=True,
        )
        thread.start()
        ready.wait(READY_SECONDS)
        return Watcher(stop, thread)

    async def awatch(
        self,
        stop: asyncio.Event | None = None,
        *,
        debounce_ms: int | None = None,
        poll_seconds: float | None = None,
        force_polling: bool = False,
    ) -> None:
        """Reload whenever article files change, until stop is set (for asyncio programs)."""
        watcher = self.watcher(
            debounce_ms=debounce_ms, poll_seconds=poll_seconds, force_polling=force_polling
        )
        await watcher.run(stop)


@dataclass
class Watcher:
    """A running folder watcher."""

    stop_event: threading.Event
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching and wait for the watcher to finish its current reload."""
        self.stop_event.set()
        self.thread.join(timeout)
