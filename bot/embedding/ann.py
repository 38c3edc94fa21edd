"""Find the stored embeddings nearest a question: small HNSW graphs of sign bits (usearch).

One index covers one segment of the array store (bot.embedding.rows), keyed by row in
it, so it outlives a reload: a new engine's sentences map to rows the graph already
holds, and only rows appended since are added. Rows go into an in-memory part; every
``SEGMENT_ROWS`` rows, and when a job finishes, that part is saved as
``ann-b1-<first>-<end>.usearch`` in the segment's graph folder and re-opened memory-mapped, so a
restart reads the graphs instead of building them.

The graphs hold one bit per dimension (the sign of each coordinate, 48 bytes a row
against float16's 768) and walk by Hamming distance: at 1M rows they are about 190 MB
against 870 MB, the whole of which a search's scattered reads keep resident. They only
propose candidates; bot.embedding.rows ranks them by their exact cosine, read from the
float16 rows (bench/ann.py --at-scale, 1M rows: recall@50 0.984 with eight candidates a
result ranked so, against 0.891 for the float16 graphs that were built at expansion 32).
Graphs saved in an older format are deleted and rebuilt from the rows. usearch was
chosen by measurement over hnswlib and faiss-cpu (bench/ann.py, docs/semantic.md).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Rows = npt.NDArray[np.int64]

# Rows per saved segment (a search visits each segment once). One graph of a million rows
# proposes a question's candidates for a third of the CPU of four of 250,000 (968,730
# rows: 0.4-0.5 against 1.0-2.1 ms), at recall@50 0.974 against 0.981 once ranked by
# exact cosine (docs/semantic.md, "One graph a million rows"); an in-memory part this
# large holds about 200 MB while it is being built.
SEGMENT_ROWS = 1 << 20
# HNSW parameters: links per node, and the candidate lists when adding and searching.
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 96
# The graphs' vectors: one sign bit per dimension, compared by Hamming distance.
DTYPE = "b1"
METRIC = "hamming"
# Each segment proposes this many times its share of the rows asked for (bot.embedding.rows
# ranks the nearest of all proposals by exact cosine): at 1M rows in four segments, twice
# gave the recall@50 of asking each for all of them (0.982) for 2.8 ms of CPU, not 4.2.
SHARE = 2
_SEGMENT_NAME = re.compile(rf"ann-{DTYPE}-(\d+)-(\d+)\.usearch$")
# A question searches half the saved segments on this thread: usearch lets go of the GIL
# while it searches, so past a million rows (several segments) two cores share the search.
_SEARCHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qabot-ann")


@dataclass
class _Segment:
    first: int
    end: int
    index: Any  # usearch.index.Index
    path: Path | None = None


def _usearch_index() -> Any:
    """Import usearch's Index, after onnxruntime.

    usearch 2.26's compiled module, loaded before onnxruntime 1.32's, makes creating an
    onnxruntime session crash the process (a segmentation fault); the other order works.
    """
    import onnxruntime  # type: ignore[import-untyped]  # noqa: F401
    from usearch.index import Index

    return Index


def sign_bits(vectors: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Return the graphs' form of some vectors: their coordinates' signs, packed 8 a byte."""
    return np.packbits(np.asarray(vectors) > 0, axis=-1)


class AnnIndex:
    """Approximate nearest rows by the signs of their coordinates, over segments of HNSW graphs."""

    def __init__(self, dim: int, folder: Path | None = None, *, rows: int = 0) -> None:
        """Open the graphs saved in folder that cover at most the first ``rows`` rows."""
        self.dim = dim
        self.folder = folder
        self._saved: list[_Segment] = []
        self._live: _Segment | None = None
        self._lock = threading.Lock()  # the segments' list, briefly
        self._adding = threading.Lock()  # one add (or save) at a time, however long
        if folder is not None:
            self._open_saved(folder, rows)

    def _new(self) -> Any:
        Index = _usearch_index()

        return Index(
            ndim=self.dim,
            metric=METRIC,
            dtype=DTYPE,
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )

    def _open_saved(self, folder: Path, rows: int) -> None:
        Index = _usearch_index()

        found = []
        for path in folder.glob("ann-*.usearch"):
            match = _SEGMENT_NAME.search(path.name)
            if match:
                found.append((int(match[1]), int(match[2]), path))
            else:  # an older format: rebuilt from the rows
                path.unlink(missing_ok=True)
        end = 0
        for first, last, path in sorted(found):
            if first != end or last > rows:
                # Overlaps, leaves a gap or holds rows the store lost: rebuilt from the rows.
                path.unlink(missing_ok=True)
                continue
            try:
                index = Index.restore(path, view=True)
            except Exception as exc:  # a damaged file only costs rebuilding its graph
                log.warning("rebuilding the nearest-neighbour index %s: %s", path, exc)
                index = None
            if index is None or len(index) != last - first:
                path.unlink(missing_ok=True)
                continue
            self._saved.append(_Segment(first, last, index, path))
            end = last

    @property
    def rows(self) -> int:
        """Return how many store rows the graphs hold (rows 0..rows-1)."""
        with self._lock:
            return self._end()

    def _end(self) -> int:
        if self._live is not None:
            return self._live.end
        return self._saved[-1].end if self._saved else 0

    def add(self, first: int, vectors: npt.NDArray[Any], threads: int = 1) -> None:
        """Add the store rows first.. (vectors, one row each); rows it holds are skipped.

        One add at a time, on ``threads`` threads (0: every core); searches go on
        meanwhile (they see the rows added so far).
        """
        with self._adding:
            with self._lock:
                end = self._end()
                skip = end - first
                if skip >= len(vectors):
                    return
                if skip < 0:
                    raise ValueError(f"rows {end}..{first} would be missing from the graph")
                start = first + skip
                if self._live is None:
                    self._live = _Segment(start, start, self._new())
                live = self._live
            bits = sign_bits(vectors[skip:])
            keys = np.arange(start, start + len(bits), dtype=np.uint64)
            live.index.add(keys, bits, threads=threads)
            with self._lock:
                live.end = start + len(bits)
            if live.end - live.first >= SEGMENT_ROWS:
                self._save_live()

    def flush(self) -> None:
        """Save the in-memory segment (at the end of a job), so a restart need not rebuild it."""
        with self._adding:
            if self._live is not None and self._live.end > self._live.first:
                self._save_live()

    def _save_live(self) -> None:
        """Save the in-memory segment and serve it from the saved file (call while adding)."""
        live = self._live
        assert live is not None
        saved = _Segment(live.first, live.end, live.index)
        if self.folder is not None:
            Index = _usearch_index()

            path = self.folder / f"ann-{DTYPE}-{live.first}-{live.end}.usearch"
            staged = path.with_suffix(f".{os.getpid()}.tmp")
            try:
                live.index.save(str(staged))
                os.replace(staged, path)
                saved = _Segment(live.first, live.end, Index.restore(path, view=True), path)
            except Exception as exc:  # keep serving from memory; the next start rebuilds
                log.warning("could not save the nearest-neighbour index in %s: %s", path, exc)
                staged.unlink(missing_ok=True)
        with self._lock:
            self._saved.append(saved)
            self._live = None

    def search(self, vector: npt.NDArray[np.float32], k: int) -> tuple[Rows, npt.NDArray[Any]]:
        """Return about k rows nearest vector's signs, nearest first, and how far each is.

        The distance is the number of dimensions whose signs differ: candidates to rank
        by their exact cosine (bot.embedding.rows). Each segment proposes ``SHARE``
        times its share of k by rows (at most k): the nearest rows fall into segments
        about as their rows do. The in-memory segment is skipped while rows are being
        added to it (a usearch graph may reallocate as it grows): its rows are still
        ranked by meaning when word match brings them, and the next question finds them.
        """
        bits = sign_bits(vector)
        with self._lock:
            saved, live = list(self._saved), self._live
        held = max(1, sum(s.end - s.first for s in saved) + (live.end - live.first if live else 0))

        def asked(segment: _Segment) -> int:
            return min(k, max(1, -(-SHARE * k * (segment.end - segment.first) // held)))

        found = self._search_all(saved, bits, [asked(segment) for segment in saved])
        if live is not None and self._adding.acquire(blocking=False):
            try:
                if self._live is live:
                    found.append(self._search(live, bits, asked(live)))
            finally:
                self._adding.release()
        found = [pair for pair in found if pair[0].size]
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        all_keys = np.concatenate([keys for keys, _ in found])
        all_distances = np.concatenate([distances for _, distances in found])
        order = np.argsort(all_distances, kind="stable")
        return all_keys[order], all_distances[order]

    def _search_all(
        self, segments: list[_Segment], bits: npt.NDArray[np.uint8], asked: list[int]
    ) -> list[tuple[Rows, npt.NDArray[Any]]]:
        """Search every segment for its asked rows, every other one on a second thread.

        The results come back in segment order.
        """
        pairs = list(zip(segments, asked, strict=True))
        if len(pairs) < 2:
            return [self._search(segment, bits, k) for segment, k in pairs]

        def some(part: list[tuple[_Segment, int]]) -> list[tuple[Rows, npt.NDArray[Any]]]:
            return [self._search(segment, bits, k) for segment, k in part]

        try:
            odd = _SEARCHER.submit(some, pairs[1::2])
        except RuntimeError:  # the interpreter is exiting: no new threads, search here
            return some(pairs)
        even, rest = some(pairs[::2]), odd.result()
        # Back in segment order, so that equal distances keep the order of a search on one thread.
        return [(even if n % 2 == 0 else rest)[n // 2] for n in range(len(segments))]

    def _search(
        self, segment: _Segment, bits: npt.NDArray[np.uint8], k: int
    ) -> tuple[Rows, npt.NDArray[Any]]:
        if segment.end <= segment.first:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        # usearch widens its candidate list to k when k is larger (a saved graph reopens
        # with its default list): at least EXPANSION_SEARCH.
        if segment.index.expansion_search != EXPANSION_SEARCH:
            segment.index.expansion_search = EXPANSION_SEARCH
        matches = segment.index.search(bits, k, threads=1)
        keys = np.asarray(matches.keys, dtype=np.int64)
        return keys, np.asarray(matches.distances, dtype=np.float64)
