"""Describe each article file in one row (where, which content, the result), stored as columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

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


def records_to_columns(records: Sequence[FileRecord]) -> dict[str, list[Any]]:
    columns = [list(column) for column in zip(*records, strict=True)] or [
        [] for _ in FileRecord._fields
    ]
    return dict(zip(FileRecord._fields, columns, strict=True))


def records_from_columns(columns: dict[str, list[Any]]) -> list[FileRecord]:
    try:
        ordered = [columns[name] for name in FileRecord._fields]
        acronyms = FileRecord._fields.index("acronyms")
        ordered[acronyms] = [tuple(a) for a in ordered[acronyms]]
        return list(map(FileRecord._make, zip(*ordered, strict=True)))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"meta.json has malformed article rows ({exc})") from None
