"""Keep a corpus's sentence embeddings in the index's array store, with their graphs per segment.

Embeddings are one kind of the index folder's per-sentence arrays
(:mod:`bot.index.storage.segments`): float16 rows stored per article under a
digest of its sentences, in append-only segments (one per writer) committed by
a manifest, so a ``kill -9`` keeps every article saved before it. Here a row is
named by one int64, its *ref*: the segment's number in this process (high 32
bits) and the row's place in the segment (low 32 bits).

A segment only ever grows, by one writer, so its nearest-neighbour graphs
(:mod:`bot.embedding.ann`) are keyed by row in it and saved in
``ann/<segment>/`` beside it: they outlive reloads and restarts, and only rows
added since are added to them. Rows that cannot be saved (no index folder, or
one that cannot be written) go into a segment of this process's memory.

Saved rows are read with ``os.pread``, not through a memory map: a question reads a
few hundred scattered rows, and over a few hundred questions a map's pages would
make most of the file resident (at 1M rows, 740 MB counted in the process's memory);
read, they stay in the page cache, shared and reclaimable.
"""

from __future__ import annotations

import os
import shutil
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from bot.embedding.ann import AnnIndex
from bot.index.storage.segments import ArrayStore

Refs = npt.NDArray[np.int64]

DTYPE = np.dtype(np.float16)
SHIFT = 32
LOW = (1 << SHIFT) - 1
MEMORY = ""  # the name of the segment of rows kept in memory
# Finished segments with fewer live rows than this are merged, when there are MERGE_AT.
MERGE_ROWS = 250_000
MERGE_AT = 3
# Candidates a search ranks by exact cosine for each result it returns: the graphs
# compare signs only (bench/ann.py --candidates and --at-scale: recall@50 by this number).
CANDIDATES = 8
# ... and at least this many, so that a small corpus's search is exact.
FEWEST_CANDIDATES = 256

# The float32 value of every float16 bit pattern (256 KB): a question's few hundred rows
# are converted by looking their bits up, the same values as numpy's own conversion in
# about 0.6 of its time (0.17 against 0.28 ms for 400 rows).
_WIDE = np.arange(1 << 16, dtype=np.uint16).view(DTYPE).astype(np.float32)

_SHARED: weakref.WeakKeyDictionary[ArrayStore, EmbeddingRows] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


class EmbeddingRows:
    """The embeddings of one model in one array store, addressed by ref; thread-safe."""

    @classmethod
    def shared(cls, store: ArrayStore, dim: int) -> EmbeddingRows:
        """Return this process's view of store, made the first time (its graphs live in it)."""
        with _SHARED_LOCK:
            rows = _SHARED.get(store)
            if rows is None or rows.dim != dim:
                rows = _SHARED[store] = cls(store, dim)
            return rows

    def __init__(self, store: ArrayStore, dim: int) -> None:
        self.store = store
        self.dim = dim
        self._lock = threading.RLock()
        self._names: list[str] = []
        self._numbers: dict[str, int] = {}
        self._graphs: list[AnnIndex] = []
        self._maps: dict[int, npt.NDArray[Any]] = {}  # the last map of each saved segment
        self._files: dict[int, IO[bytes]] = {}  # each saved segment's rows, opened to read
        self._retired: set[int] = set()  # segments merged into another: not searched
        self._memory: npt.NDArray[np.float16] = np.zeros((0, dim), dtype=DTYPE)
        self._memory_rows = 0
        self._memory_keys: dict[tuple[str, int], int] = {}

    def _number(self, name: str) -> int:
        """Return the number of a segment, opening its saved graphs the first time."""
        number = self._numbers.get(name)
        if number is None:
            folder = None
            if name != MEMORY and self.store.folder is not None:
                folder = self.store.folder / "ann" / name
                folder.mkdir(parents=True, exist_ok=True)
            committed = self.store.segments().get(name, 0)
            number = self._numbers[name] = len(self._names)
            self._names.append(name)
            self._graphs.append(AnnIndex(self.dim, folder, rows=committed))
        return number

    def refresh(self) -> None:
        """Pick up the rows other writers committed since the last look."""
        self.store.refresh()

    def find(self, key: str, count: int) -> int | None:
        """Return the ref of the first of an article's saved rows (by digest), or None."""
        with self._lock:
            first = self._memory_keys.get((key, count))
            if first is not None:
                return (self._number(MEMORY) << SHIFT) | first
            location = self.store.location(key, count)
            if location is None:
                return None
            name, row = location
            return (self._number(name) << SHIFT) | row

    def append(self, items: Iterable[tuple[str, npt.NDArray[Any]]]) -> list[int]:
        """Save each article's rows (digest, vectors) in one commit, durable on return.

        Returns the ref of each article's first row.
        """
        blocks = [
            (key, np.ascontiguousarray(vectors, dtype=DTYPE).reshape(-1, self.dim))
            for key, vectors in items
        ]
        refs: list[int] = []
        if self.store.folder is not None and blocks:
            self.store.append_many(blocks)
        grown: set[int] = set()
        with self._lock:
            for key, block in blocks:
                ref = self.find(key, block.shape[0]) if self.store.folder is not None else None
                if ref is None:
                    ref = self._keep_in_memory(key, block)
                else:
                    grown.add(ref >> SHIFT)
                refs.append(ref)
        for number in sorted(grown):
            self._grow(number)
        return refs

    def _keep_in_memory(self, key: str, block: npt.NDArray[np.float16]) -> int:
        first, end = self._memory_rows, self._memory_rows + block.shape[0]
        if end > self._memory.shape[0]:
            grown = np.zeros((max(end, 2 * self._memory.shape[0]), self.dim), DTYPE)
            grown[:first] = self._memory[:first]
            self._memory = grown
        self._memory[first:end] = block
        self._memory_rows = end
        self._memory_keys[(key, block.shape[0])] = first
        number = self._number(MEMORY)
        self._graphs[number].add(first, block)
        return (number << SHIFT) | first

    def _segment(self, number: int, needed: int = 0) -> npt.NDArray[Any]:
        """Return the rows of one segment (a memory map of a saved one), at least needed rows.

        A map already made is reused while it holds the rows asked for, so a
        question does not wait on the store's lock (held by an append's fsync).
        """
        name = self._names[number]
        if name == MEMORY:
            return self._memory[: self._memory_rows]
        mapped = self._maps.get(number)
        if mapped is None or mapped.shape[0] < max(needed, 1):
            fresh = self.store.segment_rows(name)
            if fresh is not None:
                mapped = self._maps[number] = fresh
        return mapped if mapped is not None else np.zeros((0, self.dim), DTYPE)

    def _grow(self, number: int, chunk: int = 8192, threads: int = 1) -> None:
        """Add the segment's rows its graphs lack (all committed ones); questions go on.

        One thread by default: the background job's encoders keep the other cores busy.
        """
        with self._lock:
            graph = self._graphs[number]
            committed = self._segment(number, needed=1 << 62).shape[0]
        while graph.rows < committed:
            start = graph.rows
            end = min(committed, start + chunk)
            graph.add(start, self._read(number, np.arange(start, end, dtype=np.int64)), threads)

    def _file(self, number: int) -> IO[bytes] | None:
        """Return the rows file of a saved segment, open to read (None: rows in memory)."""
        handle = self._files.get(number)
        if handle is None:
            name = self._names[number]
            path: Path | None = self.store.rows_file(name) if name != MEMORY else None
            if path is None:
                return None
            try:
                handle = self._files[number] = path.open("rb", buffering=0)
            except OSError:
                return None
        return handle

    def _read(self, number: int, local: Refs) -> npt.NDArray[np.float16]:
        """Return some rows of one segment (by place in it), in the order given."""
        with self._lock:
            handle = self._file(number)
        if handle is not None and local.size:
            size = self.dim * DTYPE.itemsize
            order = np.argsort(local, kind="stable")
            wanted = local[order]
            # One read per run of consecutive rows: a sentence's neighbours often come with it.
            starts = np.flatnonzero(np.diff(wanted, prepend=-2) != 1)
            offsets = (wanted[starts] * size).tolist()
            lengths = (np.diff(starts, append=wanted.size) * size).tolist()
            fd, pread = handle.fileno(), os.pread
            data = b"".join([pread(fd, n, at) for n, at in zip(lengths, offsets, strict=True)])
            if len(data) == wanted.size * size:  # else (a file cut short) through the map
                out = np.empty((local.size, self.dim), dtype=DTYPE)
                out[order] = np.frombuffer(data, dtype=DTYPE).reshape(-1, self.dim)
                return out
        with self._lock:
            rows = self._segment(number, int(local.max()) + 1 if local.size else 0)
        return np.asarray(rows[local], dtype=DTYPE)

    def index_all(self) -> None:
        """Bring each segment's graphs up to its rows (saved before the graphs were); save.

        On every core: the background job does this before it starts encoding.
        """
        with self._lock:
            numbers = range(len(self._names))
        for number in numbers:
            self._grow(number, threads=0)
        self.flush()

    def flush(self) -> None:
        """Save the graphs' in-memory parts, so a restart need not rebuild them."""
        with self._lock:
            graphs = list(self._graphs)
        for graph in graphs:
            graph.flush()

    def vectors(self, refs: Refs) -> npt.NDArray[np.float32]:
        """Return the rows of some refs as float32, in the order given."""
        refs = np.asarray(refs, dtype=np.int64)
        numbers = refs >> SHIFT
        if refs.size and bool((numbers == numbers[0]).all()):  # one segment: the usual case
            return widened(self._read(int(numbers[0]), refs & LOW))
        out = np.zeros((refs.size, self.dim), dtype=np.float32)
        for number in np.unique(numbers).tolist():
            where = np.flatnonzero(numbers == number)
            out[where] = widened(self._read(int(number), refs[where] & LOW))
        return out

    def search(self, vector: npt.NDArray[np.float32], k: int) -> tuple[Refs, npt.NDArray[Any]]:
        """Return refs nearest vector, best first, with their cosine (the first k: the k nearest).

        The graphs of every segment propose ``CANDIDATES`` * k rows (at least
        ``FEWEST_CANDIDATES``) by the signs of their coordinates; the nearest that
        many of all of them are read and ranked by their exact cosine, and all are
        returned (rows of changed articles may be among them: the caller drops those).
        """
        with self._lock:
            graphs = [(n, g) for n, g in enumerate(self._graphs) if n not in self._retired]
        wanted = max(k * CANDIDATES, FEWEST_CANDIDATES)
        refs: list[Refs] = []
        distances: list[npt.NDArray[Any]] = []
        for number, graph in graphs:
            rows, distance = graph.search(vector, wanted)
            refs.append((np.int64(number) << SHIFT) | rows)
            distances.append(distance)
        if not refs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        proposed = np.concatenate(refs)
        proposed = proposed[np.argsort(np.concatenate(distances), kind="stable")[:wanted]]
        cosines = self.vectors(proposed) @ np.asarray(vector, dtype=np.float32)
        best = np.argsort(-cosines, kind="stable")
        return proposed[best], cosines[best]

    def merge_small(
        self,
        live: Sequence[tuple[str, int]],
        repoint: Callable[[dict[str, int]], None] = lambda moved: None,
    ) -> dict[str, int]:
        """Merge the finished segments that hold few live rows into one; return moved refs.

        live are the (key, rows) of every article in use. Segments no writer appends
        to any more, holding fewer than ``MERGE_ROWS`` live rows or more stale rows
        than live ones, are merged when there are ``MERGE_AT`` of them (or one mostly
        stale): their live rows are written as one new segment, which gets its own
        graphs, and MANIFEST is switched by rename (bot.index.storage.segments), so
        one search replaces several. Readers keep the memory maps of the old files.
        repoint gets the new first ref of each moved article, by key, before the old
        segments' graphs stop being searched; the same is returned (empty: no merge).
        """
        if self.store.folder is None:
            return {}
        with self._lock:
            # Per segment, the live articles whose rows it holds: key, rows, first row.
            located: dict[str, list[tuple[str, int, int]]] = {}
            for key, count in live:
                location = self.store.location(key, count)
                if location is not None and count:
                    located.setdefault(location[0], []).append((key, count, location[1]))
            committed = self.store.segments()
            used = {name: sum(item[1] for item in items) for name, items in located.items()}
            chosen = [
                name
                for name in located
                if (used[name] < MERGE_ROWS or 2 * used[name] < committed.get(name, 0))
                and self.store.finished(name)
            ]
            stale = [name for name in chosen if 2 * used[name] < committed[name]]
            if len(chosen) < MERGE_AT and not stale:
                return {}
            numbers = [self._number(name) for name in chosen]
            # Kept: the serving store forgets the merged segments once MANIFEST drops them.
            maps = [
                self._segment(number, committed[name])
                for number, name in zip(numbers, chosen, strict=True)
            ]
        items = [
            (key, rows[first : first + count])
            for name, rows in zip(chosen, maps, strict=True)
            for key, count, first in located[name]
        ]
        merger = ArrayStore(self.store.folder.parent, self.store.kind)
        try:
            new = merger.merge(items, {key for key, _ in live})
        finally:
            merger.close()
        self.store.refresh()
        with self._lock:
            number = self._number(new)
        self._grow(number)
        self.flush()
        moved = {}
        with self._lock:
            for key, count, _ in (item for name in chosen for item in located[name]):
                ref = self.find(key, count)
                if ref is not None and ref >> SHIFT == number:
                    moved[key] = ref
        repoint(moved)
        with self._lock:
            left = self.store.segments()
            gone = [n for n, name in zip(numbers, chosen, strict=True) if name not in left]
            self._retired.update(gone)
        for n in gone:
            shutil.rmtree(self.store.folder / "ann" / self._names[n], ignore_errors=True)
        return moved


def widened(rows: npt.NDArray[np.float16]) -> npt.NDArray[np.float32]:
    """Return float16 rows as float32: the same values as ``rows.astype(np.float32)``."""
    out: npt.NDArray[np.float32] = np.take(_WIDE, np.ascontiguousarray(rows).view(np.uint16))
    return out
