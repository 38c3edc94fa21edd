"""Write and check an index's files: a versioned, CRC-32-checked meta file and .npy arrays."""

from __future__ import annotations

import contextlib
import hashlib
import json
import unicodedata
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import StoreError
from bot.ingest.loader import reason

INDEX_FORMAT = 1
MAGIC = "qabot-index"
# Everything whose source shapes the saved index (globs under the repository root).
_CODE_MODULES = (
    "bot/index/storage/*.py",
    "bot/index/sentences.py",
    "bot/index/bm25.py",
    "bot/index/tokenize.py",
    "bot/index/aliases.py",
    "bot/ingest/*.py",
)


@cache
def code_version() -> str:
    """Return a digest of everything that shapes the saved index.

    The source of the modules that read, split and tokenise articles, the
    stemmer's and Unicode's versions, and the format number: a change to any
    of them makes old saved indexes unusable, so they are rebuilt.
    """
    digest = hashlib.sha256(f"{MAGIC} {INDEX_FORMAT}".encode())
    base = Path(__file__).resolve().parents[3]
    for pattern in _CODE_MODULES:
        for path in sorted(base.glob(pattern)):
            digest.update(path.relative_to(base).as_posix().encode())
            with contextlib.suppress(OSError):
                digest.update(path.read_bytes())
    import Stemmer

    stemmer_version = getattr(Stemmer, "__version__", "")
    digest.update(f"{stemmer_version} {unicodedata.unidata_version}".encode())
    return digest.hexdigest()[:20]


class CrcWriter:
    """A file wrapper that computes the CRC-32 and size of what is written."""

    def __init__(self, handle: Any, crc: int = 0, size: int = 0) -> None:
        self.handle = handle
        self.crc = crc
        self.size = size

    def write(self, data: bytes | memoryview) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        written: int = self.handle.write(data)
        return written


def write_file(folder: Path, name: str, write: Callable[[CrcWriter], object]) -> dict[str, int]:
    with open(folder / name, "wb") as handle:
        writer = CrcWriter(handle)
        write(writer)
    return {"bytes": writer.size, "crc32": writer.crc}


def write_array(folder: Path, name: str, array: npt.NDArray[Any]) -> dict[str, int]:
    contiguous = np.ascontiguousarray(array)

    def write(writer: CrcWriter) -> None:
        np.lib.format.write_array(writer, contiguous, allow_pickle=False)  # type: ignore[no-untyped-call]

    return write_file(folder, name, write)


def meta_bytes(meta: dict[str, Any], magic: str = MAGIC, version: int = INDEX_FORMAT) -> bytes:
    """Encode a meta file: a header line (magic, format, CRC-32 of the rest), then JSON."""
    body = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
    return f"{magic} {version} {zlib.crc32(body):08x}\n".encode() + body


def read_meta(folder: Path) -> dict[str, Any]:
    """Read and check the meta.json of a generation folder."""
    return read_meta_file(folder / "meta.json")


def read_meta_file(path: Path, magic: str = MAGIC, version: int = INDEX_FORMAT) -> dict[str, Any]:
    """Read a file written from meta_bytes; raise StoreError saying what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path} cannot be read ({reason(exc)})") from None
    header, _, body = data.partition(b"\n")
    parts = header.decode("ascii", "replace").split()
    if len(parts) != 3 or parts[0] != magic:
        raise StoreError(f"{path} is not a qabot index file")
    if parts[1] != str(version):
        raise StoreError(f"{path} has index format {parts[1]}, this program reads {version}")
    if f"{zlib.crc32(body):08x}" != parts[2]:
        raise StoreError(f"{path} is corrupted (checksum mismatch)")
    try:
        meta: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        raise StoreError(f"{path} is corrupted ({exc})") from None
    if not isinstance(meta, dict):
        raise StoreError(f"{path} is corrupted (not a JSON object)")
    return meta


def checksum(path: Path, buffer: bytearray, limit: int | None = None) -> tuple[int, int]:
    """Return the size and CRC-32 of a file, or of its first limit bytes."""
    crc = size = 0
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while limit is None or size < limit:
            chunk = view if limit is None else view[: min(len(view), limit - size)]
            n = handle.readinto(chunk)
            if not n:
                break
            crc = zlib.crc32(chunk[:n], crc)
            size += n
    return size, crc


def verify(
    folder: Path, files: dict[str, dict[str, int]], pack: dict[str, Any] | None = None
) -> list[str]:
    """Check the size and CRC-32 of every file and of the used part of the pack."""
    wrong: list[str] = []
    buffer = bytearray(4 << 20)
    checks: list[tuple[Path, dict[str, Any], int | None]] = [
        (folder / name, expected, None) for name, expected in files.items()
    ]
    if pack is not None:
        checks.append((folder.parent / str(pack.get("file")), pack, int(pack.get("bytes", 0))))
    for path, expected, limit in checks:
        try:
            size, crc = checksum(path, buffer, limit)
        except OSError as exc:
            wrong.append(f"{path.name} cannot be read ({reason(exc)})")
            continue
        if size != expected.get("bytes"):
            wrong.append(
                f"{path.name} is truncated ({size} bytes, expected {expected.get('bytes')})"
            )
        elif crc != expected.get("crc32"):
            wrong.append(f"{path.name} is corrupted (checksum mismatch)")
    return wrong


def load_array(path: Path) -> npt.NDArray[Any]:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:
        # An empty array cannot be memory-mapped.
        array = np.load(path, allow_pickle=False)
    return np.asarray(array)
