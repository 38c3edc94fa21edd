"""Load the engines the bot serves, as the CLI does: a LiveEngine per corpus folder.

Loading blocks for seconds (the model alone takes about five), so callers run
:func:`load_live_engine` off the event loop. Every reload logs one line (``bot.live``): what
changed, the articles and sentences now served, or what failed while the last good index
keeps answering.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.answer.engine import Engine
from bot.discordbot.logs import ProblemLog, one_line
from bot.embedding.loader import SemanticModel, semantic_from_settings
from bot.errors import CorpusError
from bot.index.storage import default_index_root
from bot.live import LiveEngine, Watcher
from bot.progress import QUIET, Progress
from bot.settings import Settings

log = logging.getLogger(__name__)


def check_corpus_folder(path: Path) -> None:
    """Refuse a missing corpus folder at once, before seconds are spent loading the model."""
    if not path.exists():
        raise CorpusError(f"corpus folder {path} does not exist")
    if not path.is_dir():
        raise CorpusError(f"corpus path {path} is not a folder")


def load_semantic(settings: Settings) -> SemanticModel | None:
    """Prepare the process's embedding model (it loads on first use); None: ranking lexical."""
    semantic, warning = semantic_from_settings(settings, progress=Progress())
    if warning:
        log.warning("%s", warning)
    return semantic


def load_live_engine(
    settings: Settings,
    corpus_dir: Path | None = None,
    *,
    semantic: SemanticModel | None = None,
    quiet: bool = False,
) -> LiveEngine:
    """Load a corpus folder's saved index, as the CLI does (blocking).

    Without a model given, the process's model is loaded from the settings; a model that
    cannot be loaded leaves ranking lexical, with one warning line. Raises CorpusError when
    the folder is missing or holds no usable article.
    """
    folder = corpus_dir if corpus_dir is not None else settings.corpus_dir
    check_corpus_folder(folder)
    if semantic is None and corpus_dir is None:
        semantic = load_semantic(settings)
    return LiveEngine(
        folder,
        index_dir=settings.index_dir or default_index_root(),
        semantic=semantic,
        progress=QUIET if quiet else Progress(),
    )


def ranking_line(engine: Engine) -> str:
    """Say how answers are ranked, for the start-up log."""
    if engine.semantic is None:
        return "Ranking by word match only (SEMANTIC off or the model unavailable)."
    return f"Ranking by word match and sentence embeddings ({engine.semantic.model.name})."


def counts(engine: Engine) -> tuple[int, int]:
    """Return the number of articles and sentences an engine serves."""
    return len(engine.articles), len(engine.sentences)


class GuildEngines:
    """One engine per corpus folder, built on first use and shared by the servers using it.

    The default folder (CORPUS_DIR) is served by the engine the bot starts with; other
    folders get a LiveEngine each, built off the event loop the first time a server asks,
    sharing the process's embedding model, each reloaded (and watched) on its own.
    """

    def __init__(self, settings: Settings, default: Engine | LiveEngine | None = None) -> None:
        self.settings = settings
        self.default_folder = settings.corpus_dir.resolve()
        self._fixed: Engine | None = None
        self._live: dict[Path, LiveEngine] = {}
        self._building: dict[Path, asyncio.Lock] = {}
        self.watchers: dict[Path, Watcher] = {}
        self.set_default(default)

    def set_default(self, engine: Engine | LiveEngine | None) -> None:
        """Serve this engine (a fixed Engine is never reloaded) for the default folder."""
        self._fixed = None if isinstance(engine, LiveEngine) else engine
        if isinstance(engine, LiveEngine):
            self._live[self.default_folder] = engine
        else:
            self._live.pop(self.default_folder, None)

    @property
    def semantic(self) -> SemanticModel | None:
        """Return the process's embedding model (None: lexical ranking)."""
        default = self.live_for(self.default_folder)
        if default is not None:
            return default.semantic
        index = self._fixed.semantic if self._fixed is not None else None
        return index.model if index is not None else None

    def live_for(self, folder: Path | None) -> LiveEngine | None:
        """Return the live engine of a folder if it is built."""
        return self._live.get(folder) if folder is not None else None

    def current(self, folder: Path | None) -> Engine | None:
        """Return the engine of a folder now, without building it."""
        if folder is None:
            return None
        if folder == self.default_folder and self._fixed is not None:
            return self._fixed
        live = self._live.get(folder)
        return live.engine if live is not None else None

    async def get(self, folder: Path | None) -> Engine | None:
        """Return the engine of a folder, building it the first time (CorpusError if bad)."""
        engine = self.current(folder)
        if engine is not None or folder is None:
            return engine
        lock = self._building.setdefault(folder, asyncio.Lock())
        async with lock:
            if (live := self._live.get(folder)) is None:
                live = await asyncio.to_thread(
                    load_live_engine, self.settings, folder, semantic=self.semantic, quiet=True
                )
                self.serve(live)
                log.info("Loaded %s for a server: %s.", one_line(str(folder)), live.describe())
            return live.engine

    def serve(self, live: LiveEngine) -> None:
        """Keep a live engine: log its skipped files on reload, and watch it (WATCH_CORPUS)."""
        folder = live.root.resolve()
        self._live[folder] = live
        live.serve()
        where = "" if folder == self.default_folder else str(folder)
        live.add_listener(ProblemLog(list(live.engine.corpus.problems), where))
        if self.settings.watch_corpus and folder not in self.watchers:
            self.watchers[folder] = live.start_watching()

    def built(self) -> list[LiveEngine]:
        """Return every live engine built so far."""
        return list(self._live.values())

    async def close(self) -> None:
        """Stop every folder watcher, waiting for a reload in progress."""
        watchers, self.watchers = list(self.watchers.values()), {}
        for watcher in watchers:
            await asyncio.to_thread(watcher.stop, 5.0)
