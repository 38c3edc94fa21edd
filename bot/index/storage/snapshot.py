"""What a load hands the engine: the Snapshot of a loaded index and the Changes it found."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.index.bm25 import BM25Index
from bot.index.sentences import SentenceTable, StoredCorpus
from bot.index.storage.arrays import extra_spans, keep_extra, open_extra
from bot.index.storage.generation import Generation
from bot.index.storage.generations import current_name, locked

_EXTRA_NAME = re.compile(r"^[A-Za-z0-9_.:+-]{1,100}$")


@dataclass
class Changes:
    """What a load found changed since the saved index."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reread: int = 0  # files read again (changed stat), whether or not their content changed

    @property
    def any(self) -> bool:
        """Tell whether any article was added, changed or removed."""
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        """Say what changed, in a few words."""
        parts = [
            f"{len(items)} {label}"
            for items, label in (
                (self.added, "added"),
                (self.changed, "changed"),
                (self.removed, "removed"),
            )
            if items
        ]
        return ", ".join(parts) if parts else "no article changed"


@dataclass
class Snapshot:
    """A loaded index: corpus, BM25 index and what is needed for the aliases."""

    root: Path
    generation: Generation
    corpus: StoredCorpus
    index: BM25Index
    changes: Changes
    store_folder: Path | None
    # Extra arrays computed while the generation was only in memory (right after a
    # reload), written beside it once the background save is done (see saved_in).
    _unsaved: dict[str, tuple[npt.NDArray[Any], list[str], list[int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _saved_folder: Path | None = field(default=None, init=False, repr=False, compare=False)
    _extras_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @property
    def table(self) -> SentenceTable:
        """Return the sentence table."""
        assert self.corpus.view is not None
        return self.corpus.view.table

    @property
    def acronym_key(self) -> tuple[str, ...]:
        """Identify the acronym definitions: same key, same acronym aliases."""
        return tuple(r.digest for r in self.generation.articles if r.acronyms)

    @property
    def acronym_texts(self) -> list[str]:
        """Return the sentences that define acronyms, in corpus order."""
        return [text for r in self.generation.articles for text in r.acronyms]

    def extra(
        self, name: str, compute: Callable[[list[str]], npt.NDArray[Any]]
    ) -> npt.NDArray[Any]:
        """Return a per-sentence array saved under name (e.g. "emb:<model>"), cached per article.

        Row i belongs to sentence i. compute(texts) must return one row per text,
        all rows of the same shape and dtype; it is called once, only with the
        sentences of the articles that have no saved rows under this name (new or
        changed articles, or the first call). With a saved index the result is
        saved beside it, memory-mapped, and its rows are reused article by article
        (by content digest) by the next generations. Right after a reload, while
        the new index is being saved, rows are reused from the saved one.
        """
        if not _EXTRA_NAME.match(name):
            raise ValueError(f"extra array name {name!r} must be 1-100 of A-Z a-z 0-9 _ . : + -")
        with self._extras_lock:
            folder = self.generation.folder or self._saved_folder
        file_name = "extra-" + name.replace(":", "~").replace("/", "~")
        digests = [r.digest for r in self.generation.articles]
        if folder is not None:
            cached: npt.NDArray[Any] | None = open_extra(folder, file_name, digests)
            if cached is not None:
                return cached
        # Per article digest: the saved rows that hold its sentences.
        found: dict[str, tuple[npt.NDArray[Any], int, int]] = {}
        old_rows: npt.NDArray[Any] | None = None

        def reuse(source: Path, source_name: str) -> None:
            nonlocal old_rows
            rows = open_extra(source, source_name, None)
            if rows is None:
                return
            old_rows = rows if old_rows is None else old_rows
            for digest, (first, last) in extra_spans(source, source_name).items():
                found.setdefault(digest, (rows, first, last))

        if folder is not None:
            reuse(folder, "stale-" + file_name)
        elif self.store_folder is not None and self.store_folder.is_dir():
            # Not saved yet (a reload): reuse the rows of the saved generation, its own
            # or those it carried from the one before. Under the lock that the background
            # save takes to switch generations, which moves them and deletes the old one.
            with locked(self.store_folder):
                current = current_name(self.store_folder)
                if current:
                    reuse(self.store_folder / current, file_name)
                    reuse(self.store_folder / current, "stale-" + file_name)
        reusable: dict[int, tuple[npt.NDArray[Any], int, int]] = {}
        starts = self.generation.article_starts().tolist()
        missing: list[int] = []
        for position, record in enumerate(self.generation.articles):
            hit = found.get(record.digest)
            if hit is not None and hit[2] - hit[1] == record.sentences:
                reusable[position] = hit
            else:
                missing.extend(range(starts[position], starts[position + 1]))
        computed = np.asarray(compute([self.table.text(i) for i in missing])) if missing else None
        if computed is not None and computed.shape[0] != len(missing):
            raise ValueError(f"compute returned {computed.shape[0]} rows for {len(missing)} texts")
        template = computed if computed is not None else old_rows
        n = len(self.table)
        if template is None:
            result: npt.NDArray[Any] = np.empty((n,), dtype=np.float32)
        else:
            result = np.empty((n, *template.shape[1:]), dtype=template.dtype)
        if computed is not None:
            result[np.asarray(missing, dtype=np.int64)] = computed
        for position, (rows, first, last) in reusable.items():
            result[starts[position] : starts[position + 1]] = rows[first:last]
        counts = [r.sentences for r in self.generation.articles]
        if folder is None:
            with self._extras_lock:
                folder = self.generation.folder or self._saved_folder
                if folder is None:
                    if self.store_folder is not None:
                        # Written beside the generation once the background save is done,
                        # so that the next reload and the next start reuse these rows.
                        self._unsaved[file_name] = (result, digests, counts)
                    return result
        return keep_extra(folder, file_name, result, digests, counts)

    def saved_in(self, folder: Path) -> None:
        """Record that the generation is now saved in folder; write the extra arrays beside it.

        Called by the background save of a reload: the arrays computed meanwhile from
        the in-memory generation are saved there, as extra() would have saved them.
        """
        with self._extras_lock:
            self._saved_folder = folder
            unsaved, self._unsaved = self._unsaved, {}
            for file_name, (rows, digests, counts) in unsaved.items():
                keep_extra(folder, file_name, rows, digests, counts)
