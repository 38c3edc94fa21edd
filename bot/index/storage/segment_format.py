"""Name, read and write the files of one kind's segment folder: MANIFEST, lock, log lines.

Layout, in the index folder of a corpus (tantivy's spirit: immutable data,
one small meta file switched by rename)::

    arrays/<kind>-<hash>/
        MANIFEST            header line (magic, format, CRC-32), then JSON: kind,
                            dtype, row shape, and per segment its name and how
                            many rows and log bytes are committed; replaced by rename
        lock                advisory lock taken to change MANIFEST
        seg-<id>.rows       raw rows, only ever appended to (each writer its own)
        seg-<id>.log        one line per appended article: key, first row, rows, CRC-32

A segment's name holds the id of the process that writes it, so another
process can tell whether its writer may still append to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import StoreError
from bot.index.storage.format import meta_bytes, read_meta_file

ARRAYS_MAGIC = "qabot-arrays"
ARRAYS_FORMAT = 1
_KIND = re.compile(r"^[A-Za-z0-9_.:+@/=-]{1,200}$")
_SEGMENT = re.compile(r"^seg-[0-9a-f]+-([0-9]+)-[0-9a-f]+$")
_LOG_LINE = re.compile(rb"^([0-9a-f]{1,64}) ([0-9]+) ([0-9]+) ([0-9a-f]{8})$")

LogLine = tuple[str, int, int, int]  # key, first row, rows, CRC-32


def check_kind(kind: str) -> None:
    """Refuse a kind that cannot name a folder."""
    if not _KIND.match(kind):
        raise ValueError(f"array kind {kind!r} must be 1-200 of A-Z a-z 0-9 _ . : + @ / = -")


def kind_folder(kind: str) -> str:
    """Name the folder of one kind of array: readable, and unique by a digest."""
    slug = re.sub(r"[^A-Za-z0-9_.+-]+", "-", kind).strip("-")[:60] or "rows"
    return f"{slug}-{hashlib.sha256(kind.encode()).hexdigest()[:10]}"


def new_segment_name() -> str:
    """Name a new segment: unique, and holding this process's id."""
    return f"seg-{time.time_ns():x}-{os.getpid()}-{secrets.token_hex(3)}"


def is_segment_name(name: str) -> bool:
    """Tell whether name is one that new_segment_name could have made."""
    return _SEGMENT.match(name) is not None


def segment_writer_pid(name: str) -> int | None:
    """Return the id of the process that wrote segment name (None for a bad name)."""
    match = _SEGMENT.match(name)
    return int(match.group(1)) if match is not None else None


def log_line(key: str, first: int, count: int, crc: int) -> bytes:
    """Return the log line of one article's rows."""
    return f"{key} {first} {count} {crc:08x}\n".encode()


def parse_log(data: bytes) -> list[LogLine] | None:
    """Return the articles of a stretch of log (key, first, rows, CRC); None if malformed."""
    lines: list[LogLine] = []
    for line in data.splitlines():
        match = _LOG_LINE.match(line)
        if match is None:
            return None
        key, first, count, crc = match.groups()
        lines.append((key.decode(), int(first), int(count), int(crc, 16)))
    return lines


def dtype_name(dtype: np.dtype[Any] | None) -> str:
    """Return the name MANIFEST gives a dtype ("" for none yet)."""
    return np.dtype(dtype).str if dtype is not None else ""


def read_manifest(folder: Path) -> dict[str, Any]:
    """Return the content of a folder's MANIFEST, checked (StoreError when it cannot be)."""
    return read_meta_file(folder / "MANIFEST", ARRAYS_MAGIC, ARRAYS_FORMAT)


def listed_segments(folder: Path, kind: str, dtype: np.dtype[Any] | None) -> dict[str, Any]:
    """Return the segments MANIFEST lists now, by name (call with the lock held).

    A MANIFEST of another kind, or of no rows, lists nothing; one holding rows of
    this kind in another dtype is refused (ValueError).
    """
    try:
        manifest = read_manifest(folder)
    except StoreError:
        return {}
    if manifest.get("kind") != kind or manifest.get("dtype") != dtype_name(dtype):
        if manifest.get("kind") == kind and manifest.get("segments"):
            raise ValueError(f"{kind} rows are stored as {manifest.get('dtype')}")
        return {}
    return {str(item["name"]): dict(item) for item in manifest.get("segments", [])}


def write_manifest(
    folder: Path,
    kind: str,
    dtype: np.dtype[Any] | None,
    shape: tuple[int, ...],
    segments: list[dict[str, Any]],
) -> None:
    """Replace MANIFEST (flushed before the rename, its folder after)."""
    manifest = {
        "kind": kind,
        "dtype": dtype_name(dtype),
        "shape": list(shape),
        "segments": segments,
    }
    staged = folder / f"MANIFEST.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(staged, "wb") as handle:
            handle.write(meta_bytes(manifest, ARRAYS_MAGIC, ARRAYS_FORMAT))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, folder / "MANIFEST")
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _sync_folder(folder)  # the rename itself survives a power cut


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the folder's advisory lock, taken to change MANIFEST."""
    with open(folder / "lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def remove_segment(folder: Path, name: str) -> None:
    """Delete a segment's files, as far as they exist (a reader's memory map stays valid)."""
    for suffix in (".rows", ".log"):
        with contextlib.suppress(OSError):
            (folder / f"{name}{suffix}").unlink()


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
