"""Keep sentence embeddings on disk article by article, appended as computed and memory-mapped.

A store is a folder beside the saved index, one per model: ``rows.f16`` holds
float16 rows end to end and ``log.jsonl`` one line per article appended
(``{"d": digest, "r": first row, "n": rows}``), written after the article's rows
are on disk. A process killed half-way leaves at worst a torn last line or rows
no line names; both are dropped on the next open, so everything logged before
is reused and nothing is embedded twice. An article whose text changed gets a
new digest and new rows; the old ones are left for compaction when they make
up most of the file.

One writer per folder (an exclusive lock): a second process that finds the
store locked keeps what it computes in memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from bot.embedding.ann import AnnIndex

log = logging.getLogger(__name__)

DTYPE = np.dtype(np.float16)
ROWS_FILE = "rows.f16"
LOG_FILE = "log.jsonl"
LOCK_FILE = "writer.lock"


_OPEN: dict[tuple[Path, int], EmbeddingStore] = {}
_OPEN_LOCK = threading.Lock()


class EmbeddingStore:
    """Rows of dim float16 values, appended article by article; read through a memory map."""

    @classmethod
    def shared(cls, folder: Path, dim: int) -> EmbeddingStore:
        """Return this process's store of folder, opening it the first time."""
        key = (folder.resolve(), dim)
        with _OPEN_LOCK:
            store = _OPEN.get(key)
            if store is None or not store.persistent:
                store = _OPEN[key] = cls(folder, dim)
            return store

    def __init__(self, folder: Path | None, dim: int) -> None:
        self.folder = folder
        self.dim = dim
        self._lock = threading.Lock()
        self._spans: dict[str, tuple[int, int]] = {}
        self._rows = 0
        self._memory: npt.NDArray[np.float16] = np.zeros((0, dim), dtype=DTYPE)
        self._map: npt.NDArray[np.float16] = self._memory
        self._rows_out: IO[bytes] | None = None
        self._log_out: IO[str] | None = None
        self._lock_file: IO[bytes] | None = None
        if folder is not None:
            try:
                self._open(folder)
            except OSError as exc:
                log.warning("keeping embeddings in memory only (%s: %s)", folder, exc)
                self.folder = None
        # The nearest-neighbour graphs of the rows, saved beside them.
        self.ann = AnnIndex(dim, self.folder, rows=self._rows)

    @property
    def persistent(self) -> bool:
        """Tell whether appended rows are saved on disk."""
        return self._rows_out is not None

    def _open(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        lock = (folder / LOCK_FILE).open("ab")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise OSError("another process is writing them") from None
        self._lock_file = lock
        rows_path, log_path = folder / ROWS_FILE, folder / LOG_FILE
        on_disk = (
            rows_path.stat().st_size // (self.dim * DTYPE.itemsize) if rows_path.exists() else 0
        )
        good_lines: list[str] = []
        if log_path.exists():
            for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    digest, first, count = str(entry["d"]), int(entry["r"]), int(entry["n"])
                except (ValueError, KeyError, TypeError):
                    break  # a torn last line: everything after it is unknown
                if first != self._rows or first + count > on_disk:
                    break
                self._spans[digest] = (first, count)
                self._rows = first + count
                good_lines.append(line)
        # Drop what no line vouches for (a write cut short), then append after it.
        with rows_path.open("ab") as rows:
            rows.truncate(self._rows * self.dim * DTYPE.itemsize)
        log_path.write_text("".join(line + "\n" for line in good_lines), encoding="utf-8")
        self._rows_out = rows_path.open("ab")
        self._log_out = log_path.open("a", encoding="utf-8")
        self._remap()

    def _remap(self) -> None:
        if self.folder is None or self._rows == 0:
            return
        self._map = np.memmap(
            self.folder / ROWS_FILE, dtype=DTYPE, mode="r", shape=(self._rows, self.dim)
        )

    def span(self, digest: str) -> tuple[int, int] | None:
        """Return (first row, count) of an article's saved rows, or None."""
        return self._spans.get(digest)

    def rows(self) -> npt.NDArray[np.float16]:
        """Return every row appended so far (memory-mapped when saved on disk)."""
        return self._map

    def append(self, items: Iterable[tuple[str, npt.NDArray[Any]]]) -> list[int]:
        """Append each article's rows (digest, vectors); return the first row of each.

        The rows reach the disk before the lines that name them, so a crash
        loses at most the articles of this call.
        """
        items = list(items)
        starts: list[int] = []
        with self._lock:
            first = self._rows
            blocks = []
            for digest, vectors in items:
                block = np.ascontiguousarray(vectors, dtype=DTYPE).reshape(-1, self.dim)
                starts.append(self._rows)
                self._spans[digest] = (self._rows, block.shape[0])
                self._rows += block.shape[0]
                blocks.append(block)
            if self._rows_out is not None and self._log_out is not None:
                for block in blocks:
                    self._rows_out.write(block.tobytes())
                self._rows_out.flush()
                os.fsync(self._rows_out.fileno())
                for (digest, _), start, block in zip(items, starts, blocks, strict=True):
                    entry = {"d": digest, "r": start, "n": block.shape[0]}
                    self._log_out.write(json.dumps(entry) + "\n")
                self._log_out.flush()
                os.fsync(self._log_out.fileno())
                self._remap()
                self._index_up_to(self._rows)
            elif blocks:
                if self._rows > self._memory.shape[0]:
                    grown = np.zeros((max(self._rows, 2 * self._memory.shape[0]), self.dim), DTYPE)
                    grown[:first] = self._memory[:first]
                    self._memory = grown
                self._memory[first : self._rows] = np.concatenate(blocks)
                self._map = self._memory[: self._rows]
                self._index_up_to(self._rows)
        return starts

    def _index_up_to(self, end: int) -> None:
        start = self.ann.rows
        if start < end:
            self.ann.add(start, self._map[start:end])

    def index_all(self, chunk: int = 8192) -> None:
        """Add the rows the nearest-neighbour graphs lack (saved before they were), then save."""
        while True:
            with self._lock:
                start = self.ann.rows
                if start >= self._rows:
                    break
                self._index_up_to(min(start + chunk, self._rows))
        self.ann.flush()

    def close(self) -> None:
        """Close the files and release the writer lock."""
        for handle in (self._rows_out, self._log_out, self._lock_file):
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()
        self._rows_out = self._log_out = self._lock_file = None
