"""Find the stored embeddings nearest a question: HNSW graphs (usearch), saved in segments.

One index covers one segment of the array store (bot.embedding.rows), keyed by row in
it, so it outlives a reload: a new engine's sentences map to rows the graph already
holds, and only rows appended since are added. Rows go into an in-memory part; every
``SEGMENT_ROWS`` rows, and when a job finishes, that part is saved as
``ann-f16-<first>-<end>.usearch`` in the segment's graph folder and re-opened memory-mapped, so a
restart reads the graphs instead of building them. The graphs keep the rows' float16
vectors, bit for bit, and those serve both the search and the fused cosines of the
candidates (``vectors``): a question reads one copy of each vector, so serving keeps
one file's pages resident, not the rows' and the graphs' (bench/semantic_scale.py).
Graphs saved in an older format are deleted and rebuilt from the rows. usearch was
chosen by measurement over hnswlib and faiss-cpu (bench/ann.py, README).
"""

from __future__ import annotations

import ctypes
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

# Rows per saved segment (a search visits each segment once).
SEGMENT_ROWS = 250_000
# HNSW parameters: links per node, and the candidate lists when adding and searching.
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 96
# The graphs' vectors, as the rows keep them. int8 would halve their bytes, but its
# cosines (usearch truncates unit vectors scaled by 127) moved squad-dev's fused Hit@1
# from 0.830 to 0.829 and its recall@50 from 0.99 to 0.96 (README).
DTYPE = "f16"
_SEGMENT_NAME = re.compile(rf"ann-{DTYPE}-(\d+)-(\d+)\.usearch$")
# A question searches half the saved segments on this thread: usearch lets go of the GIL
# while it searches, so at 1M (four segments) the search takes half the time on two cores.
_SEARCHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qabot-ann")


@dataclass
class _Segment:
    first: int
    end: int
    index: Any  # usearch.index.Index
    path: Path | None = None
    # A saved graph's vectors, row first + i at slot i (None: read through usearch).
    vectors: npt.NDArray[np.float16] | None = None


def _usearch_index() -> Any:
    """Import usearch's Index, after onnxruntime.

    usearch 2.26's compiled module, loaded before onnxruntime 1.32's, makes creating an
    onnxruntime session crash the process (a segmentation fault); the other order works.
    """
    import onnxruntime  # type: ignore[import-untyped]  # noqa: F401
    from usearch.index import Index

    return Index


def _mapped_at(path: Path, size: int) -> int | None:
    """Return the address where this process maps path from its start, over size bytes."""
    name = str(path.resolve())
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and parts[5].rstrip("\n") == name and int(parts[2], 16) == 0:
                    low, high = (int(bound, 16) for bound in parts[0].split("-"))
                    if high - low >= size:
                        return low
    except (OSError, ValueError):
        return None
    return None


class AnnIndex:
    """Approximate nearest rows by cosine, over segments of HNSW graphs."""

    def __init__(self, dim: int, folder: Path | None = None, *, rows: int = 0) -> None:
        """Open the graphs saved in folder that cover at most the first ``rows`` rows."""
        self.dim = dim
        self.folder = folder
        # The candidate list of a search (a saved graph reopens with usearch's default).
        self.expansion = EXPANSION_SEARCH
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
            metric="cos",
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
            self._saved.append(_Segment(first, last, index, path, self._matrix(path, index, first)))
            end = last

    def _matrix(self, path: Path, index: Any, first: int) -> npt.NDArray[np.float16] | None:
        """Read a saved graph's vectors in usearch's own map of it: one row per slot.

        usearch writes the vectors first; rows are added one thread at a time, so slot
        i holds row first + i. The array is made over usearch's mapping (found in
        /proc/self/maps), not a second map of the file, so that a page read by the
        search and by the fusion is resident once; it lives as long as the index that
        owns the mapping (the two are kept together). A few rows are checked against
        usearch's lookup, and any doubt about the layout (another usearch version, no
        /proc) leaves the vectors to that lookup (slower).
        """
        count = len(index)
        try:
            head = np.fromfile(path, dtype=np.uint32, count=2)
            if head.size != 2 or (int(head[0]), int(head[1])) != (count, 2 * self.dim):
                return None
            start = _mapped_at(path, 8 + count * 2 * self.dim)
            if start is None:
                return None
            block = (ctypes.c_char * (count * 2 * self.dim)).from_address(start + 8)
            flat: npt.NDArray[np.float16] = np.frombuffer(memoryview(block), dtype=np.float16)
            matrix = flat.reshape(count, self.dim)
            matrix.flags.writeable = False
            for slot in set(np.linspace(0, count - 1, 9).astype(int).tolist()):
                looked_up = index.get(np.uint64(first + slot))
                if looked_up is None or not np.array_equal(matrix[slot], looked_up):
                    return None
        except (OSError, ValueError):
            return None
        return matrix

    @property
    def rows(self) -> int:
        """Return how many store rows the graphs hold (rows 0..rows-1)."""
        with self._lock:
            return self._end()

    def _end(self) -> int:
        if self._live is not None:
            return self._live.end
        return self._saved[-1].end if self._saved else 0

    def add(self, first: int, vectors: npt.NDArray[Any]) -> None:
        """Add the store rows first.. (vectors, one row each); rows it holds are skipped.

        One add at a time; searches go on meanwhile (they see the rows added so far).
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
            vectors = np.asarray(vectors[skip:], dtype=np.float32)
            keys = np.arange(start, start + len(vectors), dtype=np.uint64)
            # One thread, so that slots follow rows and the saved vectors can be mapped
            # by row (_matrix); the background job's encoders keep the other cores busy.
            live.index.add(keys, vectors, threads=1)
            with self._lock:
                live.end = start + len(vectors)
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
                view = Index.restore(path, view=True)
                matrix = self._matrix(path, view, live.first)
                saved = _Segment(live.first, live.end, view, path, matrix)
            except Exception as exc:  # keep serving from memory; the next start rebuilds
                log.warning("could not save the nearest-neighbour index in %s: %s", path, exc)
                staged.unlink(missing_ok=True)
        with self._lock:
            self._saved.append(saved)
            self._live = None

    def search(self, vector: npt.NDArray[np.float32], k: int) -> tuple[Rows, npt.NDArray[Any]]:
        """Return up to k rows per segment nearest vector, best first, and their cosine.

        The in-memory segment is skipped while rows are being added to it (a usearch
        graph may reallocate as it grows): its rows are still ranked by meaning when
        word match brings them, and the next question finds them.
        """
        with self._lock:
            saved, live = list(self._saved), self._live
        found = self._search_all(saved, vector, k)
        if live is not None and self._adding.acquire(blocking=False):
            try:
                if self._live is live:
                    found.append(self._search(live, vector, k))
            finally:
                self._adding.release()
        found = [pair for pair in found if pair[0].size]
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        all_keys = np.concatenate([keys for keys, _ in found])
        all_sims = np.concatenate([sims for _, sims in found])
        order = np.argsort(-all_sims, kind="stable")
        return all_keys[order], all_sims[order]

    def vectors(self, rows: Rows) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
        """Return the vectors of some rows from the saved graphs, and which rows had one.

        Rows no saved graph holds (the in-memory part, which may be growing) are left
        zero and marked False: read them from the store's rows.
        """
        with self._lock:
            saved = list(self._saved)
        out = np.zeros((rows.size, self.dim), dtype=np.float32)
        found = np.zeros(rows.size, dtype=np.bool_)
        for segment in saved:
            where = np.flatnonzero((rows >= segment.first) & (rows < segment.end))
            if not where.size:
                continue
            slots = rows[where] - segment.first
            if segment.vectors is not None:
                out[where] = segment.vectors[slots]
            else:
                out[where] = np.stack(segment.index.get(slots.astype(np.uint64) + segment.first))
            found[where] = True
        return out, found

    def _search_all(
        self, segments: list[_Segment], vector: npt.NDArray[np.float32], k: int
    ) -> list[tuple[Rows, npt.NDArray[Any]]]:
        """Search every segment, every other one on a second thread, results in segment order."""
        if len(segments) < 2:
            return [self._search(segment, vector, k) for segment in segments]

        def some(part: list[_Segment]) -> list[tuple[Rows, npt.NDArray[Any]]]:
            return [self._search(segment, vector, k) for segment in part]

        try:
            odd = _SEARCHER.submit(some, segments[1::2])
        except RuntimeError:  # the interpreter is exiting: no new threads, search here
            return some(segments)
        even, rest = some(segments[::2]), odd.result()
        # Back in segment order, so that equal cosines keep the order of a search on one thread.
        return [(even if n % 2 == 0 else rest)[n // 2] for n in range(len(segments))]

    def _search(
        self, segment: _Segment, vector: npt.NDArray[np.float32], k: int
    ) -> tuple[Rows, npt.NDArray[Any]]:
        if segment.end <= segment.first:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if segment.index.expansion_search != self.expansion:
            segment.index.expansion_search = self.expansion
        matches = segment.index.search(vector, k, threads=1)
        keys = np.asarray(matches.keys, dtype=np.int64)
        return keys, 1.0 - np.asarray(matches.distances, dtype=np.float64)
