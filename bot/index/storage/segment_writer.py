"""Append rows and their log lines to the one segment a store writes, and take them back.

What is written here is not committed until MANIFEST says so (the store
replaces it under the folder's lock); until then :meth:`SegmentWriter.reset`
cuts the files back to their committed lengths.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.index.storage.segment_format import log_line, new_segment_name, segment_writer_pid
from bot.index.storage.segment_reader import Entry, Segment


class SegmentWriter:
    """The segment one store appends to (each store its own), and its open files."""

    def __init__(self, folder: Path | None, known: dict[str, Segment]) -> None:
        self.folder = folder
        self._known = known  # the reader's segments, which learn of each new one
        self.segment: Segment | None = None
        self._files: tuple[int, int] | None = None  # rows and log descriptors
        self._created: set[str] = set()  # segments this writer wrote

    def own(self) -> Segment:
        """Return the segment appended to, opening a new one when there is none."""
        assert self.folder is not None, "a store without a folder keeps its rows in memory"
        if self.segment is None or self._files is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = new_segment_name()
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
            rows_fd = os.open(self.folder / f"{name}.rows", flags, 0o644)
            try:
                log_fd = os.open(self.folder / f"{name}.log", flags, 0o644)
            except OSError:
                os.close(rows_fd)
                (self.folder / f"{name}.rows").unlink(missing_ok=True)
                raise
            self.segment = self._known[name] = Segment(name)
            self._files = (rows_fd, log_fd)
            self._created.add(name)
        return self.segment

    def write(self, key: str, rows: npt.NDArray[Any]) -> Entry:
        """Append rows and their log line to the own segment (not committed yet)."""
        segment = self.own()
        assert self._files is not None
        rows_fd, log_fd = self._files
        data = np.ascontiguousarray(rows).data.cast("B") if rows.size else memoryview(b"")
        crc = zlib.crc32(data)
        line = log_line(key, segment.rows, rows.shape[0], crc)
        _write_all(rows_fd, data)
        _write_all(log_fd, line)
        entry = Entry(segment.name, segment.rows, rows.shape[0], crc, verified=True)
        segment.rows += rows.shape[0]
        segment.log += len(line)
        return entry

    def sync(self) -> None:
        """Flush the own segment's rows and log to disk (before a manifest commits them)."""
        assert self._files is not None
        for fd in self._files:
            os.fdatasync(fd)

    def reset(self, rows: int, log: int, row_bytes: int) -> None:
        """Cut the own segment back to its committed length, or give it up."""
        segment, files = self.segment, self._files
        if segment is None or files is None:
            return
        segment.rows, segment.log = rows, log
        try:
            os.ftruncate(files[0], rows * row_bytes)
            os.ftruncate(files[1], log)
        except OSError:
            self.close()

    def close(self) -> None:
        """Close the own segment's files: the next append starts another segment."""
        if self._files is not None:
            for fd in self._files:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.segment = self._files = None

    def is_own(self, name: str) -> bool:
        """Tell whether name is the segment appended to now."""
        return self.segment is not None and self.segment.name == name

    def others_may_append(self, name: str) -> bool:
        """Tell whether another writer may still append to segment name (its process lives)."""
        pid = segment_writer_pid(name)
        if pid is None:
            return False
        if pid == os.getpid():
            # This process: only this writer's own segments are known to be finished.
            return name not in self._created
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _write_all(fd: int, data: memoryview | bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
