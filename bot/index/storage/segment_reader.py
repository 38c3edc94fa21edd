"""Find articles' committed rows in a kind's segments: logs read, rows mapped, CRC-32 checked.

Committed bytes are never rewritten, so a memory map of them stays valid; each
article's rows are checked against their CRC-32 before they are used (in one
pread pass per segment), and an article whose rows fail is forgotten so that
its rows are recomputed.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.index.storage.segment_format import is_segment_name, parse_log

logger = logging.getLogger(__name__)


@dataclass
class Segment:
    """One append-only pair of files: rows and the log that says whose they are."""

    name: str
    rows: int = 0  # committed rows
    log: int = 0  # committed log bytes
    mapped: npt.NDArray[Any] | None = None  # memory map of the committed rows
    mapped_rows: int = 0
    broken: bool = False


@dataclass(slots=True)
class Entry:
    """The rows of one article in a segment."""

    segment: str
    first: int
    count: int
    crc: int
    verified: bool = False

    @property
    def end(self) -> int:
        """Return the row after the article's last."""
        return self.first + self.count


class SegmentReader:
    """The segments of one kind's folder known to this store, and the articles in them.

    Not thread-safe on its own: the store calls it under its lock.
    """

    def __init__(self, folder: Path | None, kind: str) -> None:
        self.folder = folder
        self.kind = kind
        self.dtype: np.dtype[Any] | None = None
        self.shape: tuple[int, ...] | None = None
        self.segments: dict[str, Segment] = {}
        self.entries: dict[str, list[Entry]] = {}

    def row_bytes(self) -> int:
        """Return the size of one row in bytes."""
        assert self.dtype is not None and self.shape is not None
        return int(self.dtype.itemsize * np.prod(self.shape, dtype=np.int64))

    def adopt(self, manifest: dict[str, Any], own: str | None) -> None:
        """Take in what a MANIFEST commits; own is the segment this store appends to.

        Raises KeyError, TypeError or ValueError when the manifest is malformed.
        """
        if manifest.get("kind") != self.kind:
            raise ValueError(f"it holds {manifest.get('kind')!r}")
        dtype, shape = np.dtype(str(manifest["dtype"])), tuple(int(n) for n in manifest["shape"])
        if self.dtype is not None and (dtype, shape) != (self.dtype, self.shape):
            raise ValueError("its rows changed type")
        self.dtype, self.shape = dtype, shape
        listed: dict[str, tuple[int, int]] = {}
        for item in manifest["segments"]:
            name = str(item["name"])
            if not is_segment_name(name):
                raise ValueError(f"bad segment name {name!r}")
            listed[name] = (int(item["rows"]), int(item["log"]))
        for name in set(self.segments) - set(listed):
            if name != own:
                self.forget(name)  # compacted away by another writer
        for name, (rows, log) in listed.items():
            segment = self.segments.setdefault(name, Segment(name))
            if segment.name == own or segment.broken or log <= segment.log:
                continue
            self._read_log(segment, log)
            segment.rows = rows

    def _read_log(self, segment: Segment, log: int) -> None:
        assert self.folder is not None
        try:
            with open(self.folder / f"{segment.name}.log", "rb") as handle:
                handle.seek(segment.log)
                data = handle.read(log - segment.log)
        except OSError as exc:
            self._break(segment, f"cannot be read ({exc.strerror})")
            return
        if len(data) != log - segment.log:
            self._break(segment, "is truncated")
            return
        lines = parse_log(data)
        if lines is None:
            self._break(segment, "has a malformed line")
            return
        for key, first, count, crc in lines:
            self.entries.setdefault(key, []).append(Entry(segment.name, first, count, crc))
        segment.log = log

    def _break(self, segment: Segment, why: str) -> None:
        logger.warning("ignoring stored %s rows: segment %s %s", self.kind, segment.name, why)
        segment.broken = True
        segment.mapped = None
        self._drop_entries(segment.name)

    def forget(self, name: str) -> None:
        """Forget a segment and the articles in it (its files are gone or going)."""
        self.segments.pop(name, None)
        self._drop_entries(name)

    def _drop_entries(self, name: str) -> None:
        for key in list(self.entries):
            self.entries[key] = [e for e in self.entries[key] if e.segment != name]

    def add(self, key: str, entry: Entry, *, first: bool = False) -> None:
        """Record where an article's rows were written (first: before those known)."""
        entries = self.entries.setdefault(key, [])
        if first:
            entries.insert(0, entry)
        else:
            entries.append(entry)

    def find(self, key: str, count: int) -> npt.NDArray[Any] | None:
        """Return the checked rows of the article with this key and count; None when absent."""
        for entry in self.entries.get(key, ()):
            if entry.count != count:
                continue
            rows = self._rows_of(entry)
            if rows is not None:
                return rows
        return None

    def verified_entry(self, key: str, count: int) -> Entry | None:
        """Return the checked entry of an article (after find returned its rows)."""
        for entry in self.entries.get(key, ()):
            if entry.count == count and entry.verified:
                return entry
        return None

    def _rows_of(self, entry: Entry) -> npt.NDArray[Any] | None:
        segment = self.segments.get(entry.segment)
        if segment is None or segment.broken or entry.first + entry.count > segment.rows:
            return None
        mapped = self.map(segment)
        if mapped is None:
            return None
        if not entry.verified:
            self._verify(segment)
            if not entry.verified:
                return None
        return mapped[entry.first : entry.first + entry.count]

    def _verify(self, segment: Segment) -> None:
        """Check the CRC-32 of every unchecked article of a segment, in one pass; drop the bad.

        Read with pread, not through the memory map, so the pass leaves no page of
        the rows in this process's resident memory.
        """
        assert self.folder is not None
        pending = sorted(
            (entry.first, key, entry)
            for key, entries in self.entries.items()
            for entry in entries
            if entry.segment == segment.name and not entry.verified
        )
        if not pending:
            return
        row_bytes = self.row_bytes()
        try:
            with open(self.folder / f"{segment.name}.rows", "rb", buffering=0) as handle:
                fd = handle.fileno()
                for run in _runs([entry for _, _, entry in pending], row_bytes):
                    start, end = run[0].first * row_bytes, run[-1].end * row_bytes
                    data = memoryview(os.pread(fd, end - start, start))
                    for entry in run:
                        lo, hi = entry.first * row_bytes - start, entry.end * row_bytes - start
                        entry.verified = hi <= len(data) and zlib.crc32(data[lo:hi]) == entry.crc
        except OSError as exc:
            self._break(segment, f"cannot be read ({exc.strerror})")
            return
        bad = [(key, entry) for _, key, entry in pending if not entry.verified]
        if bad:
            logger.warning(
                "recomputing %d articles' stored %s rows: segment %s is corrupted",
                len(bad),
                self.kind,
                segment.name,
            )
            for key, entry in bad:
                self.entries[key].remove(entry)

    def map(self, segment: Segment) -> npt.NDArray[Any] | None:
        """Return the memory map of a segment's committed rows (None for none or a failure)."""
        assert self.folder is not None and self.dtype is not None and self.shape is not None
        if segment.mapped is not None and segment.mapped_rows == segment.rows:
            return segment.mapped
        if segment.rows == 0:
            return None
        try:
            mapped = np.memmap(
                self.folder / f"{segment.name}.rows",
                self.dtype,
                "r",
                shape=(segment.rows, *self.shape),
            )
        except (OSError, ValueError) as exc:
            self._break(segment, f"cannot be mapped ({exc})")
            return None
        segment.mapped, segment.mapped_rows = np.asarray(mapped), segment.rows
        return segment.mapped


def _runs(entries: list[Entry], row_bytes: int, size: int = 8 << 20) -> Iterator[list[Entry]]:
    """Group entries (by first row) into runs of about size bytes, to be read at once."""
    run: list[Entry] = []
    for entry in entries:
        if run and (entry.end - run[0].first) * row_bytes > size:
            yield run
            run = []
        run.append(entry)
    if run:
        yield run
