"""Store the rows of one kind of per-sentence array in append-only segments, by article key.

An append (of one article or a batch) writes the rows and the log lines,
flushes them to disk, then commits them by replacing MANIFEST (flushed before
the rename, its folder after): a ``kill -9`` or a power cut at any point keeps
every article committed before it (bytes past the committed lengths are
ignored). A merge writes live articles' rows into one new segment and deletes
the segments it makes useless. A folder that cannot be written keeps the rows
in memory (one log line).

Modules: :mod:`.segment_format` (the folder's files: layout, MANIFEST, lock,
log lines), :mod:`.segment_reader` (committed rows found, mapped and checked),
:mod:`.segment_writer` (the own segment appended to) and this one (the store).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import StoreError
from bot.index.storage.segment_format import (
    check_kind,
    kind_folder,
    listed_segments,
    locked,
    read_manifest,
    remove_segment,
    write_manifest,
)
from bot.index.storage.segment_reader import Entry, Segment, SegmentReader
from bot.index.storage.segment_writer import SegmentWriter

__all__ = ["ArrayStore", "ArticleSlot", "kind_folder"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleSlot:
    """Where one article's rows go: its place among the snapshot's articles and sentences."""

    position: int  # among the snapshot's articles
    key: str  # digest of its sentences (FileRecord.rows_key)
    first: int  # its first sentence id
    count: int  # its number of sentences

    @property
    def sentences(self) -> range:
        """Return the ids of the article's sentences."""
        return range(self.first, self.first + self.count)


class ArrayStore:
    """The stored rows of one kind, in one index folder, or in memory when folder is None.

    Thread-safe. Each instance appends to a segment of its own, so processes
    (and several stores in one process) can share a folder.
    """

    def __init__(self, folder: Path | None, kind: str) -> None:
        check_kind(kind)
        self.kind = kind
        self.folder = folder / kind_folder(kind) if folder is not None else None
        self._lock = threading.RLock()
        self._reader = SegmentReader(self.folder, kind)
        self._writer = SegmentWriter(self.folder, self._reader.segments)
        self._memory: dict[str, npt.NDArray[Any]] = {}  # rows that could not be saved
        self._warned = False
        # The manifest and logs are read when first needed: an engine opens the store of its
        # sentences' terms at every start (48k log lines at 1M, 0.09 s and 22 MiB), and a
        # one-shot question never reads it.
        self._looked = False

    @property
    def dtype(self) -> np.dtype[Any] | None:
        """Return the rows' dtype (None until rows are stored)."""
        self._look()
        return self._reader.dtype

    @property
    def shape(self) -> tuple[int, ...] | None:
        """Return the shape of one row (None until rows are stored)."""
        self._look()
        return self._reader.shape

    def _look(self) -> None:
        if not self._looked:
            with self._lock:
                if not self._looked:
                    self.refresh()

    # --- reading ----------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up what other writers committed since the last look."""
        if self.folder is None:
            self._looked = True
            return
        with self._lock:
            self._looked = True  # under the lock: _look() waits for this read to finish
            try:
                manifest = read_manifest(self.folder)
            except StoreError as exc:
                if (self.folder / "MANIFEST").exists():
                    logger.warning("ignoring the stored %s rows: %s", self.kind, exc)
                return
            own = self._writer.segment
            try:
                self._reader.adopt(manifest, own.name if own is not None else None)
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning(
                    "ignoring the stored %s rows: MANIFEST is malformed (%s)", self.kind, exc
                )

    def find(self, key: str, count: int) -> npt.NDArray[Any] | None:
        """Return the stored rows of the article with this key, checked; None when absent."""
        self._look()
        with self._lock:
            if key in self._memory and self._memory[key].shape[0] == count:
                return self._memory[key]
            return self._reader.find(key, count)

    def location(self, key: str, count: int) -> tuple[str, int] | None:
        """Return the segment and first row of an article's checked rows, if stored on disk."""
        with self._lock:
            if self.find(key, count) is None or key in self._memory:
                return None
            entry = self._reader.verified_entry(key, count)
            return (entry.segment, entry.first) if entry is not None else None

    def segments(self) -> dict[str, int]:
        """Return the committed rows of each readable segment, by name."""
        self._look()
        with self._lock:
            return {name: s.rows for name, s in self._reader.segments.items() if not s.broken}

    def rows_file(self, name: str) -> Path | None:
        """Return the file of a saved segment's rows (raw, row after row from its start)."""
        with self._lock:
            segment = self._reader.segments.get(name)
            if segment is None or segment.broken or self.folder is None:
                return None
            return self.folder / f"{segment.name}.rows"

    def segment_rows(self, name: str) -> npt.NDArray[Any] | None:
        """Return the memory map of a segment's committed rows."""
        self._look()
        with self._lock:
            segment = self._reader.segments.get(name)
            return self._reader.map(segment) if segment is not None else None

    # --- writing ------------------------------------------------------------------

    def append(self, key: str, rows: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Store one article's rows (durable when this returns); return them as stored.

        The first rows fix the kind's dtype and row shape; later rows must match.
        A folder that cannot be written keeps the rows in memory, with one log line.
        """
        return self.append_many([(key, rows)])[0]

    def append_many(self, items: Sequence[tuple[str, npt.NDArray[Any]]]) -> list[npt.NDArray[Any]]:
        """Store several articles' rows (key, rows) with one commit; return them as stored.

        Durable when this returns: the rows and log are flushed to disk before the
        manifest that commits them replaces the old one, so neither a ``kill -9``
        nor a power cut loses them once committed.
        """
        blocks: list[tuple[str, npt.NDArray[Any]]] = []
        self._look()
        with self._lock:
            for key, rows in items:
                rows = np.asarray(rows)
                if rows.ndim < 1:
                    raise ValueError("rows must have one row per sentence")
                self._fix_type(rows)
                blocks.append((key, np.ascontiguousarray(rows, dtype=self._reader.dtype)))
            if self.folder is None:
                for key, rows in blocks:
                    self._memory[key] = rows
                return [rows for _, rows in blocks]
            try:
                self._append_to_disk(self._writer, blocks)
            except OSError as exc:
                if not self._warned:
                    logger.warning(
                        "keeping %s rows in memory only: cannot write %s (%s)",
                        self.kind,
                        self.folder,
                        exc.strerror or exc,
                    )
                    self._warned = True
                for key, rows in blocks:
                    self._memory[key] = rows
                return [rows for _, rows in blocks]
            stored = []
            for key, rows in blocks:
                found = self.find(key, rows.shape[0])
                stored.append(found if found is not None else rows)
            return stored

    def _fix_type(self, rows: npt.NDArray[Any]) -> None:
        shape = tuple(rows.shape[1:])
        reader = self._reader
        if reader.dtype is None:
            reader.dtype, reader.shape = rows.dtype, shape
        elif shape != reader.shape or not np.can_cast(rows.dtype, reader.dtype, "same_kind"):
            raise ValueError(
                f"{self.kind} rows are {reader.dtype} of shape {reader.shape}, "
                f"not {rows.dtype} of shape {shape}"
            )

    def _append_to_disk(
        self, writer: SegmentWriter, blocks: Sequence[tuple[str, npt.NDArray[Any]]]
    ) -> None:
        segment = writer.own()
        committed = segment.rows, segment.log
        try:
            entries = [(key, writer.write(key, rows)) for key, rows in blocks]
            writer.sync()
            self._commit()
        except BaseException:
            # Take back what was not committed, so that the next append lands where
            # the manifest says; if even that fails, start another segment.
            writer.reset(*committed, self._reader.row_bytes())
            raise
        for key, entry in entries:
            self._reader.add(key, entry)

    def _commit(self) -> None:
        """Record the own segment's committed lengths in MANIFEST (atomically, by rename)."""
        assert self.folder is not None and self._writer.segment is not None
        own = self._writer.segment
        with locked(self.folder):
            segments = listed_segments(self.folder, self.kind, self._reader.dtype)
            segments[own.name] = {"name": own.name, "rows": own.rows, "log": own.log}
            self._write_manifest(list(segments.values()))

    def _write_manifest(self, segments: list[dict[str, Any]]) -> None:
        assert self.folder is not None and self._reader.shape is not None
        write_manifest(self.folder, self.kind, self._reader.dtype, self._reader.shape, segments)

    # --- merging ------------------------------------------------------------------

    def rewrite(self, slots: Sequence[ArticleSlot], rows: npt.NDArray[Any]) -> str:
        """Store rows (all of slots', in their order) as one new segment; drop what it replaces.

        Segments left with no row that a live article needs (and no writer) are
        deleted. Returns the new segment's name.
        """
        items = ((slot.key, rows[slot.first : slot.first + slot.count]) for slot in slots)
        return self.merge(items, {slot.key for slot in slots})

    def merge(self, items: Iterable[tuple[str, npt.NDArray[Any]]], live: set[str]) -> str:
        """Store articles' rows (key, rows) as one new segment; drop the segments it replaces.

        live are the keys of every article still in use: a segment left with no row
        of a live article that the new segment lacks, and no writer, is deleted (a
        reader's memory map of it stays valid). Returns the new segment's name.
        """
        self._look()
        with self._lock:
            writer = self._writer
            writer.close()
            entries: list[tuple[str, Entry]] = []
            try:
                for key, rows in items:
                    entries.append((key, writer.write(key, rows)))
                own = writer.own()
                writer.sync()
                self._collect(live, own, entries)
            except BaseException:
                failed = writer.segment
                writer.close()
                if failed is not None and self.folder is not None:
                    self._reader.segments.pop(failed.name, None)
                    remove_segment(self.folder, failed.name)
                raise
            writer.close()
            return own.name

    def finished(self, name: str) -> bool:
        """Tell whether no writer may append to segment name any more."""
        with self._lock:
            return not self._writer.is_own(name) and not self._writer.others_may_append(name)

    def _collect(self, live: set[str], new: Segment, entries: list[tuple[str, Entry]]) -> None:
        """Commit the rewritten segment and delete the segments it made useless.

        A segment is useless when it holds no row of a live article that the new
        one lacks and no writer may still append to it.
        """
        assert self.folder is not None
        with locked(self.folder):
            listed = listed_segments(self.folder, self.kind, self._reader.dtype)
            listed[new.name] = {"name": new.name, "rows": new.rows, "log": new.log}
            covered = {key for key, _ in entries}
            needed = {
                entry.segment
                for key in live - covered
                for entry in self._reader.entries.get(key, ())
            }
            dropped = [
                name
                for name in listed
                if name != new.name
                and name not in needed
                and not self._writer.others_may_append(name)
            ]
            self._write_manifest([item for name, item in listed.items() if name not in dropped])
        for key, entry in entries:
            self._reader.add(key, entry, first=True)
        for name in dropped:
            remove_segment(self.folder, name)
            self._reader.forget(name)

    def close(self) -> None:
        """Close the files this store appends to (its rows stay committed)."""
        with self._lock:
            self._writer.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
