"""Give a snapshot per-sentence arrays (embeddings), stored and reused article by article.

One kind of array (say ``"embedding:minilm-l6@1a2b3c"``) holds one row per
sentence, every row of the same dtype and shape. Rows are stored per article,
under the digest of the article's sentences (``FileRecord.rows_key``), so they
survive reloads, restarts and new generations while the article's sentences
stay the same, and an added or changed article needs only its own rows.

The rows are stored by :mod:`bot.index.storage.segments`: append-only segment
files and a manifest switched by rename, so a ``kill -9`` keeps every article
appended before it, and each article's rows are CRC-checked before use.

Example (the model helper's background embedding)::

    arrays = snapshot.arrays("embedding:minilm-l6@1a2b3c")
    for article in arrays.missing():               # articles without rows yet
        texts = [snapshot.table.text(i) for i in article.sentences]
        arrays.append(article, encode(texts).astype(np.float16))   # durable now
    matrix, mask = arrays.rows()    # sentence order; memory-mapped once complete
    some = arrays.take(np.array([5, 17]))          # a few rows, any time

``rows()`` returns a memory map when every article has rows in one run of one
segment; when the rows are complete but spread over segments (after a reload
changed an article) it first writes them, in sentence order, into a new
segment; while rows are missing it returns a copy with zero rows where ``mask``
is False. A folder that cannot be written keeps the rows in memory (one log line).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.index.storage.segments import ArrayStore, ArticleSlot

logger = logging.getLogger(__name__)

__all__ = ["ArrayStore", "ArrayStores", "ArticleSlot", "SentenceArrays"]


@dataclass
class ArrayStores:
    """The array stores of one index folder (or of memory), one per kind, opened once."""

    folder: Path | None
    _stores: dict[str, ArrayStore] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, kind: str) -> ArrayStore:
        """Return the store of one kind, opening it the first time."""
        with self._lock:
            store = self._stores.get(kind)
            if store is None:
                store = self._stores[kind] = ArrayStore(self.folder, kind)
            return store


class SentenceArrays:
    """The rows of one kind for the sentences of one snapshot.

    Build it with :meth:`Snapshot.arrays <bot.index.storage.snapshot.Snapshot.arrays>`.
    Thread-safe: one thread may append while others read.
    """

    def __init__(self, store: ArrayStore, slots: list[ArticleSlot], total: int) -> None:
        self.store = store
        self.articles = slots
        self.total = total
        self._lock = threading.Lock()
        self._found: dict[int, npt.NDArray[Any]] = {}
        self._mask = np.zeros(total, dtype=np.bool_)
        store.refresh()
        for slot in slots:
            rows = store.find(slot.key, slot.count)
            if rows is not None:
                self._found[slot.position] = rows
                self._mask[slot.first : slot.first + slot.count] = True

    @property
    def kind(self) -> str:
        """Return the kind of rows (e.g. "embedding:<model>")."""
        return self.store.kind

    @property
    def mask(self) -> npt.NDArray[np.bool_]:
        """Tell, per sentence, whether it has a row (a copy)."""
        with self._lock:
            return self._mask.copy()

    @property
    def complete(self) -> bool:
        """Tell whether every sentence has a row."""
        with self._lock:
            return len(self._found) == len(self.articles)

    def has(self, slot: ArticleSlot) -> bool:
        """Tell whether an article's rows are there."""
        with self._lock:
            return slot.position in self._found

    def missing(self) -> list[ArticleSlot]:
        """List the articles without rows yet, in corpus order."""
        with self._lock:
            return [s for s in self.articles if s.position not in self._found]

    def append(self, slot: ArticleSlot, rows: npt.NDArray[Any]) -> None:
        """Store one article's rows, one per sentence; durable when this returns."""
        rows = np.asarray(rows)
        if rows.ndim < 1 or rows.shape[0] != slot.count:
            raise ValueError(f"{rows.shape[0] if rows.ndim else 0} rows for {slot.count} sentences")
        stored = self.store.append(slot.key, rows)
        with self._lock:
            self._found[slot.position] = stored
            self._mask[slot.first : slot.first + slot.count] = True

    def article_rows(self, slot: ArticleSlot) -> npt.NDArray[Any] | None:
        """Return one article's rows (memory-mapped when stored), or None."""
        with self._lock:
            return self._found.get(slot.position)

    def places(self) -> tuple[list[Path], npt.NDArray[np.int32], npt.NDArray[np.int64]] | None:
        """Say where every article's checked rows lie on disk, to be read there by pread.

        Returns the segment files, and per article (in order) the number of its
        file and its first row there; None unless every article's rows are saved.
        """
        if self.store.folder is None:
            return None
        files: dict[str, int] = {}
        which = np.empty(len(self.articles), dtype=np.int32)
        first = np.empty(len(self.articles), dtype=np.int64)
        for n, slot in enumerate(self.articles):
            found = self.store.location(slot.key, slot.count)
            if found is None:
                return None
            which[n], first[n] = files.setdefault(found[0], len(files)), found[1]
        return [self.store.folder / f"{name}.rows" for name in files], which, first

    def _empty(self, n: int) -> npt.NDArray[Any]:
        if self.store.dtype is None or self.store.shape is None:
            return np.zeros((n,), dtype=np.float32)
        return np.zeros((n, *self.store.shape), dtype=self.store.dtype)

    def take(self, ids: npt.NDArray[np.integer[Any]] | Sequence[int]) -> npt.NDArray[Any]:
        """Return the rows of some sentences, in the order given (zero rows where missing)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = self._empty(ids.size)
        starts = np.fromiter(
            (s.first for s in self.articles), dtype=np.int64, count=len(self.articles)
        )
        positions = np.searchsorted(starts, ids, side="right") - 1
        with self._lock:
            for i, (sentence, position) in enumerate(
                zip(ids.tolist(), positions.tolist(), strict=True)
            ):
                rows = self._found.get(position)
                if rows is not None:
                    out[i] = rows[sentence - self.articles[position].first]
        return out

    def rows(self) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        """Return every row in sentence order and the mask of sentences that have one.

        Memory-mapped when complete (rewriting the rows in sentence order once, if
        they are spread over segments); a copy while rows are missing.
        """
        with self._lock:
            mask = self._mask.copy()
            complete = len(self._found) == len(self.articles)
        if complete:
            mapped = self._one_run()
            if mapped is None and self.store.folder is not None:
                mapped = self._rewritten()
            if mapped is not None:
                return mapped, mask
        return self._gathered()

    def _one_run(self) -> npt.NDArray[Any] | None:
        """Return the rows as one slice of one segment's map, when they lie so."""
        if not self.articles:
            return self._empty(0)
        locations = [self.store.location(s.key, s.count) for s in self.articles]
        first = locations[0]
        if first is None:
            return None
        segment, start = first
        for slot, location in zip(self.articles, locations, strict=True):
            if location != (segment, start + slot.first):
                return None
        mapped = self.store.segment_rows(segment)
        if mapped is None:
            return None
        return mapped[start : start + self.total]

    def _rewritten(self) -> npt.NDArray[Any] | None:
        """Write the rows in sentence order as a new segment and return its map."""
        out, _ = self._gathered()
        try:
            self.store.rewrite(self.articles, out)
        except (OSError, ValueError) as exc:
            logger.warning("could not store %s rows in sentence order: %s", self.kind, exc)
            return out
        with self._lock:
            for slot in self.articles:
                rows = self.store.find(slot.key, slot.count)
                if rows is not None:
                    self._found[slot.position] = rows
        mapped = self._one_run()
        return mapped if mapped is not None else out

    def _gathered(self) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        out = self._empty(self.total)
        with self._lock:
            for slot in self.articles:
                rows = self._found.get(slot.position)
                if rows is not None:
                    out[slot.first : slot.first + slot.count] = rows
            return out, self._mask.copy()
