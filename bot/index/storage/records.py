"""Describe each article file in one row (where, which content, the result), stored as columns."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from bot.errors import StoreError


class FileRecord(NamedTuple):
    """What the index knows of one article file: where, which content, and the result."""

    rel: str
    size: int
    mtime_ns: int
    digest: str  # of the raw bytes; "" when it could not be read (read again next time)
    readable: bool  # decoded as text (counts towards "several articles": keys in citations)
    problem: str | None = None  # why the file was skipped, as a "skipped <file>: ..." line
    title: str = ""
    source: str | None = None
    url: str | None = None
    date: str | None = None
    content_hash: str = ""
    sentences: int = 0
    acronyms: tuple[str, ...] = ()  # the article's sentences that define an acronym
    # Digest of the article's sentences as split: the key of its per-sentence rows
    # (embeddings), which stay valid while the sentences do, whatever else changes.
    rows_key: str = ""
    inode: int = 0  # with size and mtime_ns, what says the file is the one read

    @property
    def usable(self) -> bool:
        """Tell whether the file is an indexed article."""
        return self.problem is None


def records_to_columns(records: Sequence[FileRecord]) -> dict[str, Any]:
    """Encode the rows as one compact value per field (see pack_column)."""
    columns = [list(column) for column in zip(*records, strict=True)] or [
        [] for _ in FileRecord._fields
    ]
    named = zip(FileRecord._fields, columns, strict=True)
    return {name: pack_column(column) for name, column in named}


def records_from_columns(columns: dict[str, Any]) -> list[FileRecord]:
    try:
        ordered = [unpack_column(columns[name]) for name in FileRecord._fields]
        acronyms = FileRecord._fields.index("acronyms")
        ordered[acronyms] = [tuple(a) for a in ordered[acronyms]]
        return list(map(FileRecord._make, zip(*ordered, strict=True)))
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        raise StoreError(f"meta.json has malformed article rows ({exc})") from None


# A JSON list is decoded value by value: at 48,245 files, 15 fields each took 0.2 s of
# every restart. A column of texts is saved as one string of lines, one of integers as
# base64 of its 64-bit values, one of flags as a string of 0s and 1s, and one that is
# mostly empty as its other values only: each is read back with one split or one array.
_LINES, _INTEGERS, _FLAGS, _SPARSE = "lines", "int64", "flags", "sparse"


def pack_column(column: list[Any]) -> Any:
    """Encode one column of values for JSON, compactly when its values allow it."""
    n = len(column)
    if all(type(v) is str for v in column) and not any("\n" in v for v in column):
        return {_LINES: "\n".join(column), "n": n}
    if all(type(v) is int for v in column) and all(-(2**63) <= v < 2**63 for v in column):
        data = np.array(column, dtype="<i8").tobytes()
        return {_INTEGERS: base64.b64encode(data).decode("ascii"), "n": n}
    if all(type(v) is bool for v in column):
        return {_FLAGS: "".join("1" if v else "0" for v in column), "n": n}
    filled = {i: v for i, v in enumerate(column) if v is not None and v != ()}
    if len(filled) < n // 2:
        empty = () if any(v == () for v in column) else None
        return {_SPARSE: [list(filled), list(filled.values())], "empty": empty, "n": n}
    return column


def unpack_column(packed: Any) -> list[Any]:
    """Decode a column encoded by pack_column (a plain list is returned as it is)."""
    if isinstance(packed, list):
        return packed
    n = int(packed["n"])
    if _LINES in packed:
        values: list[Any] = packed[_LINES].split("\n") if n else []
    elif _FLAGS in packed:
        values = [c == "1" for c in packed[_FLAGS]]
    elif _INTEGERS in packed:
        values = np.frombuffer(base64.b64decode(packed[_INTEGERS]), dtype="<i8").tolist()
    else:
        at, found = packed[_SPARSE]
        empty = () if packed["empty"] == [] else None
        values = [empty] * n
        for i, value in zip(at, found, strict=True):
            values[i] = value
    if len(values) != n:
        raise ValueError(f"a column holds {len(values)} values, not {n}")
    return values
