"""Store the rows of one kind of per-sentence array in append-only segments, by article key.

Layout, in the index folder of a corpus (tantivy's spirit: immutable data,
one small meta file switched by rename)::

    arrays/<kind>-<hash>/
        MANIFEST            header line (magic, format, CRC-32), then JSON: kind,
                            dtype, row shape, and per segment its name and how
                            many rows and log bytes are committed; replaced by rename
        lock                advisory lock taken to change MANIFEST
        seg-<id>.rows       raw rows, only ever appended to (each writer its own)
        seg-<id>.log        one line per appended article: key, first row, rows, CRC-32

An append (of one article or a batch) writes the rows and the log lines,
flushes them to disk, then commits them by replacing MANIFEST (flushed before
the rename, its folder after): a ``kill -9`` or a power cut at any point keeps
every article committed before it (bytes past the committed lengths are
ignored). Committed bytes are never rewritten, so a memory map of them stays
valid; each article's rows are checked against their CRC-32 before they are
used, and rows that fail are recomputed.
A folder that cannot be written keeps the rows in memory (one log line).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import secrets
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import StoreError
from bot.index.storage.format import meta_bytes, read_meta_file

logger = logging.getLogger(__name__)

ARRAYS_MAGIC = "qabot-arrays"
ARRAYS_FORMAT = 1
_KIND = re.compile(r"^[A-Za-z0-9_.:+@/=-]{1,200}$")
_SEGMENT = re.compile(r"^seg-[0-9a-f]+-([0-9]+)-[0-9a-f]+$")
_LOG_LINE = re.compile(rb"^([0-9a-f]{1,64}) ([0-9]+) ([0-9]+) ([0-9a-f]{8})$")


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


@dataclass
class _Segment:
    """One append-only pair of files: rows and the log that says whose they are."""

    name: str
    rows: int = 0  # committed rows
    log: int = 0  # committed log bytes
    mapped: npt.NDArray[Any] | None = None  # memory map of the committed rows
    mapped_rows: int = 0
    broken: bool = False


@dataclass
class _Entry:
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


class ArrayStore:
    """The stored rows of one kind, in one index folder, or in memory when folder is None.

    Thread-safe. Each instance appends to a segment of its own, so processes
    (and several stores in one process) can share a folder.
    """

    def __init__(self, folder: Path | None, kind: str) -> None:
        if not _KIND.match(kind):
            raise ValueError(f"array kind {kind!r} must be 1-200 of A-Z a-z 0-9 _ . : + @ / = -")
        self.kind = kind
        self.folder = folder / kind_folder(kind) if folder is not None else None
        self._dtype: np.dtype[Any] | None = None
        self._shape: tuple[int, ...] | None = None
        self._lock = threading.RLock()
        self._segments: dict[str, _Segment] = {}
        self._entries: dict[str, list[_Entry]] = {}
        self._memory: dict[str, npt.NDArray[Any]] = {}  # rows that could not be saved
        self._own: _Segment | None = None
        self._own_files: tuple[int, int] | None = None  # rows and log descriptors
        self._created: set[str] = set()  # segments this store wrote
        self._warned = False
        # The manifest and logs are read when first needed: an engine opens the store of its
        # sentences' terms at every start (48k log lines at 1M, 0.09 s and 22 MiB), and a
        # one-shot question never reads it.
        self._looked = False

    @property
    def dtype(self) -> np.dtype[Any] | None:
        """Return the rows' dtype (None until rows are stored)."""
        self._look()
        return self._dtype

    @property
    def shape(self) -> tuple[int, ...] | None:
        """Return the shape of one row (None until rows are stored)."""
        self._look()
        return self._shape

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
                manifest = read_meta_file(self.folder / "MANIFEST", ARRAYS_MAGIC, ARRAYS_FORMAT)
            except StoreError as exc:
                if (self.folder / "MANIFEST").exists():
                    logger.warning("ignoring the stored %s rows: %s", self.kind, exc)
                return
            try:
                self._adopt(manifest)
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning(
                    "ignoring the stored %s rows: MANIFEST is malformed (%s)", self.kind, exc
                )

    def _adopt(self, manifest: dict[str, Any]) -> None:
        if manifest.get("kind") != self.kind:
            raise ValueError(f"it holds {manifest.get('kind')!r}")
        dtype, shape = np.dtype(str(manifest["dtype"])), tuple(int(n) for n in manifest["shape"])
        if self.dtype is not None and (dtype, shape) != (self.dtype, self.shape):
            raise ValueError("its rows changed type")
        self._dtype, self._shape = dtype, shape
        listed: dict[str, tuple[int, int]] = {}
        for item in manifest["segments"]:
            name = str(item["name"])
            if not _SEGMENT.match(name):
                raise ValueError(f"bad segment name {name!r}")
            listed[name] = (int(item["rows"]), int(item["log"]))
        for name in set(self._segments) - set(listed):
            if self._own is not None and name == self._own.name:
                continue
            del self._segments[name]  # compacted away by another writer
            for key in list(self._entries):
                self._entries[key] = [e for e in self._entries[key] if e.segment != name]
        for name, (rows, log) in listed.items():
            segment = self._segments.setdefault(name, _Segment(name))
            if segment is self._own or segment.broken or log <= segment.log:
                continue
            self._read_log(segment, log)
            segment.rows = rows

    def _read_log(self, segment: _Segment, log: int) -> None:
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
        for line in data.splitlines():
            match = _LOG_LINE.match(line)
            if match is None:
                self._break(segment, "has a malformed line")
                return
            key, first, count, crc = match.groups()
            entry = _Entry(segment.name, int(first), int(count), int(crc, 16))
            self._entries.setdefault(key.decode(), []).append(entry)
        segment.log = log

    def _break(self, segment: _Segment, why: str) -> None:
        logger.warning("ignoring stored %s rows: segment %s %s", self.kind, segment.name, why)
        segment.broken = True
        segment.mapped = None
        for key in list(self._entries):
            self._entries[key] = [e for e in self._entries[key] if e.segment != segment.name]

    def find(self, key: str, count: int) -> npt.NDArray[Any] | None:
        """Return the stored rows of the article with this key, checked; None when absent."""
        self._look()
        with self._lock:
            if key in self._memory and self._memory[key].shape[0] == count:
                return self._memory[key]
            for entry in self._entries.get(key, ()):
                if entry.count != count:
                    continue
                rows = self._rows_of(entry)
                if rows is not None:
                    return rows
            return None

    def _rows_of(self, entry: _Entry) -> npt.NDArray[Any] | None:
        segment = self._segments.get(entry.segment)
        if segment is None or segment.broken or entry.first + entry.count > segment.rows:
            return None
        mapped = self._map(segment)
        if mapped is None:
            return None
        if not entry.verified:
            self._verify(segment)
            if not entry.verified:
                return None
        return mapped[entry.first : entry.first + entry.count]

    def _verify(self, segment: _Segment) -> None:
        """Check the CRC-32 of every unchecked article of a segment, in one pass; drop the bad.

        Read with pread, not through the memory map, so the pass leaves no page of
        the rows in this process's resident memory.
        """
        assert self.folder is not None
        pending = sorted(
            (entry.first, key, entry)
            for key, entries in self._entries.items()
            for entry in entries
            if entry.segment == segment.name and not entry.verified
        )
        if not pending:
            return
        row_bytes = self._row_bytes()
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
                self._entries[key].remove(entry)

    def _map(self, segment: _Segment) -> npt.NDArray[Any] | None:
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

    def location(self, key: str, count: int) -> tuple[str, int] | None:
        """Return the segment and first row of an article's checked rows, if stored on disk."""
        with self._lock:
            if self.find(key, count) is None or key in self._memory:
                return None
            for entry in self._entries.get(key, ()):
                if entry.count == count and entry.verified:
                    return entry.segment, entry.first
            return None

    def segments(self) -> dict[str, int]:
        """Return the committed rows of each readable segment, by name."""
        self._look()
        with self._lock:
            return {name: s.rows for name, s in self._segments.items() if not s.broken}

    def rows_file(self, name: str) -> Path | None:
        """Return the file of a saved segment's rows (raw, row after row from its start)."""
        with self._lock:
            segment = self._segments.get(name)
            if segment is None or segment.broken or self.folder is None:
                return None
            return self.folder / f"{segment.name}.rows"

    def segment_rows(self, name: str) -> npt.NDArray[Any] | None:
        """Return the memory map of a segment's committed rows."""
        self._look()
        with self._lock:
            segment = self._segments.get(name)
            return self._map(segment) if segment is not None else None

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
                assert self.dtype is not None
                blocks.append((key, np.ascontiguousarray(rows, dtype=self.dtype)))
            if self.folder is None:
                for key, rows in blocks:
                    self._memory[key] = rows
                return [rows for _, rows in blocks]
            try:
                self._append_to_disk(blocks)
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
        if self.dtype is None:
            self._dtype, self._shape = rows.dtype, shape
        elif shape != self.shape or not np.can_cast(rows.dtype, self.dtype, "same_kind"):
            raise ValueError(
                f"{self.kind} rows are {self.dtype} of shape {self.shape}, "
                f"not {rows.dtype} of shape {shape}"
            )

    def _append_to_disk(self, blocks: Sequence[tuple[str, npt.NDArray[Any]]]) -> None:
        assert self.folder is not None
        segment = self._own_segment()
        committed = segment.rows, segment.log
        try:
            entries = [(key, self._write_rows(key, rows)) for key, rows in blocks]
            self._sync_own()
            self._commit()
        except BaseException:
            # Take back what was not committed, so that the next append lands where
            # the manifest says; if even that fails, start another segment.
            self._reset_own(*committed)
            raise
        for key, entry in entries:
            self._entries.setdefault(key, []).append(entry)

    def _sync_own(self) -> None:
        """Flush the own segment's rows and log to disk (before a manifest commits them)."""
        assert self._own_files is not None
        for fd in self._own_files:
            os.fdatasync(fd)

    def _write_rows(self, key: str, rows: npt.NDArray[Any]) -> _Entry:
        """Append rows and their log line to the own segment (not committed yet)."""
        segment = self._own_segment()
        assert self._own_files is not None
        rows_fd, log_fd = self._own_files
        data = np.ascontiguousarray(rows).data.cast("B") if rows.size else memoryview(b"")
        crc = zlib.crc32(data)
        line = f"{key} {segment.rows} {rows.shape[0]} {crc:08x}\n".encode()
        _write_all(rows_fd, data)
        _write_all(log_fd, line)
        entry = _Entry(segment.name, segment.rows, rows.shape[0], crc, verified=True)
        segment.rows += rows.shape[0]
        segment.log += len(line)
        return entry

    def _own_segment(self) -> _Segment:
        assert self.folder is not None
        if self._own is None or self._own_files is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"seg-{time.time_ns():x}-{os.getpid()}-{secrets.token_hex(3)}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
            rows_fd = os.open(self.folder / f"{name}.rows", flags, 0o644)
            try:
                log_fd = os.open(self.folder / f"{name}.log", flags, 0o644)
            except OSError:
                os.close(rows_fd)
                (self.folder / f"{name}.rows").unlink(missing_ok=True)
                raise
            self._own = self._segments[name] = _Segment(name)
            self._own_files = (rows_fd, log_fd)
            self._created.add(name)
        return self._own

    def _reset_own(self, rows: int, log: int) -> None:
        """Cut the own segment back to its committed length, or give it up."""
        segment, files = self._own, self._own_files
        if segment is None or files is None:
            return
        segment.rows, segment.log = rows, log
        row_bytes = rows * self._row_bytes()
        try:
            os.ftruncate(files[0], row_bytes)
            os.ftruncate(files[1], log)
        except OSError:
            self._close_own()

    def _row_bytes(self) -> int:
        assert self.dtype is not None and self.shape is not None
        return int(self.dtype.itemsize * np.prod(self.shape, dtype=np.int64))

    def _close_own(self) -> None:
        if self._own_files is not None:
            for fd in self._own_files:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._own = self._own_files = None

    def _commit(self) -> None:
        """Record the own segment's committed lengths in MANIFEST (atomically, by rename)."""
        assert self.folder is not None and self._own is not None
        own = self._own
        with self._locked():
            segments = self._listed_segments()
            segments[own.name] = {"name": own.name, "rows": own.rows, "log": own.log}
            self._write_manifest(list(segments.values()))

    def _listed_segments(self) -> dict[str, dict[str, Any]]:
        """Return the segments MANIFEST lists now (call with the lock held)."""
        assert self.folder is not None
        try:
            manifest = read_meta_file(self.folder / "MANIFEST", ARRAYS_MAGIC, ARRAYS_FORMAT)
        except StoreError:
            return {}
        if manifest.get("kind") != self.kind or manifest.get("dtype") != _dtype_name(self.dtype):
            if manifest.get("kind") == self.kind and manifest.get("segments"):
                raise ValueError(f"{self.kind} rows are stored as {manifest.get('dtype')}")
            return {}
        return {str(item["name"]): dict(item) for item in manifest.get("segments", [])}

    def _write_manifest(self, segments: list[dict[str, Any]]) -> None:
        assert self.folder is not None and self.shape is not None
        manifest = {
            "kind": self.kind,
            "dtype": _dtype_name(self.dtype),
            "shape": list(self.shape),
            "segments": segments,
        }
        staged = self.folder / f"MANIFEST.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(staged, "wb") as handle:
                handle.write(meta_bytes(manifest, ARRAYS_MAGIC, ARRAYS_FORMAT))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staged, self.folder / "MANIFEST")
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        _sync_folder(self.folder)  # the rename itself survives a power cut

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.folder is not None
        with open(self.folder / "lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

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
            self._close_own()
            entries: list[tuple[str, _Entry]] = []
            try:
                for key, rows in items:
                    entries.append((key, self._write_rows(key, rows)))
                own = self._own_segment()
                self._sync_own()
                self._collect(live, own, entries)
            except BaseException:
                name = self._own.name if self._own is not None else None
                self._close_own()
                if name is not None and self.folder is not None:
                    self._segments.pop(name, None)
                    for suffix in (".rows", ".log"):
                        (self.folder / f"{name}{suffix}").unlink(missing_ok=True)
                raise
            self._close_own()
            return own.name

    def finished(self, name: str) -> bool:
        """Tell whether no writer may append to segment name any more."""
        with self._lock:
            return not (self._own is not None and self._own.name == name) and not (
                self._writing(name)
            )

    def _collect(self, live: set[str], new: _Segment, entries: list[tuple[str, _Entry]]) -> None:
        """Commit the rewritten segment and delete the segments it made useless.

        A segment is useless when it holds no row of a live article that the new
        one lacks and no writer may still append to it.
        """
        assert self.folder is not None
        with self._locked():
            listed = self._listed_segments()
            listed[new.name] = {"name": new.name, "rows": new.rows, "log": new.log}
            covered = {key for key, _ in entries}
            needed = {
                entry.segment for key in live - covered for entry in self._entries.get(key, ())
            }
            dropped = [
                name
                for name in listed
                if name != new.name and name not in needed and not self._writing(name)
            ]
            self._write_manifest([item for name, item in listed.items() if name not in dropped])
        for key, entry in entries:
            self._entries.setdefault(key, []).insert(0, entry)
        for name in dropped:
            for suffix in (".rows", ".log"):
                with contextlib.suppress(OSError):
                    (self.folder / f"{name}{suffix}").unlink()
            self._segments.pop(name, None)
            for key in list(self._entries):
                self._entries[key] = [e for e in self._entries[key] if e.segment != name]

    def _writing(self, name: str) -> bool:
        """Tell whether another writer may still append to segment name (its process lives)."""
        match = _SEGMENT.match(name)
        if match is None:
            return False
        pid = int(match.group(1))
        if pid == os.getpid():
            # This process: only this store's own segments are known to be finished.
            return name not in self._created
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def close(self) -> None:
        """Close the files this store appends to (its rows stay committed)."""
        with self._lock:
            self._close_own()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._close_own()


def _runs(entries: list[_Entry], row_bytes: int, size: int = 8 << 20) -> Iterator[list[_Entry]]:
    """Group entries (by first row) into runs of about size bytes, to be read at once."""
    run: list[_Entry] = []
    for entry in entries:
        if run and (entry.end - run[0].first) * row_bytes > size:
            yield run
            run = []
        run.append(entry)
    if run:
        yield run


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the system allows."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is still atomic
    finally:
        os.close(fd)


def _write_all(fd: int, data: memoryview | bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _dtype_name(dtype: np.dtype[Any] | None) -> str:
    return np.dtype(dtype).str if dtype is not None else ""


def kind_folder(kind: str) -> str:
    """Name the folder of one kind of array: readable, and unique by a digest."""
    slug = re.sub(r"[^A-Za-z0-9_.+-]+", "-", kind).strip("-")[:60] or "rows"
    return f"{slug}-{hashlib.sha256(kind.encode()).hexdigest()[:10]}"
