"""Remember what the feeds reader has seen, in one SQLite file (WAL) beside the articles.

The file lives in the corpus folder's hidden ``.qabot`` folder, so it travels
with the articles it describes and the loader never reads it. It holds, per
feed, the validators for conditional requests, the back-off and the last
round's counts and skips; per entry, the version last read; and per saved
article, its canonical URL and text digest for deduplication.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STATE_FOLDER = ".qabot"
STATE_FILE = "feeds.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    last_poll REAL,
    status TEXT NOT NULL DEFAULT 'never polled',
    failures INTEGER NOT NULL DEFAULT 0,
    next_poll REAL NOT NULL DEFAULT 0,
    counts TEXT NOT NULL DEFAULT '{}',
    skips TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS entries (
    feed TEXT NOT NULL,
    guid TEXT NOT NULL,
    version TEXT NOT NULL,
    path TEXT,
    last_seen REAL NOT NULL,
    PRIMARY KEY (feed, guid)
);
CREATE TABLE IF NOT EXISTS articles (
    path TEXT PRIMARY KEY,
    canonical TEXT NOT NULL,
    digest TEXT NOT NULL,
    feed TEXT,
    saved REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_canonical ON articles (canonical);
CREATE INDEX IF NOT EXISTS articles_digest ON articles (digest);
"""


@dataclass(frozen=True)
class FeedRow:
    """What is remembered of one feed."""

    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    last_poll: float | None
    status: str
    failures: int
    next_poll: float
    counts: dict[str, int]
    skips: list[tuple[str, str]]  # (url, reason) of the last round


def never_polled(url: str) -> FeedRow:
    """Return the row of a feed that was never polled."""
    return FeedRow(url, None, None, None, None, "never polled", 0, 0.0, {}, [])


@dataclass(frozen=True)
class SavedRow:
    """What is remembered of one saved article file."""

    path: str
    canonical: str
    digest: str
    feed: str | None


class State:
    """The reader's memory; safe to share between threads."""

    def __init__(self, corpus: Path) -> None:
        folder = Path(corpus) / STATE_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / STATE_FILE
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        # With WAL, NORMAL keeps the database consistent after a crash; the last
        # commits may be lost, which costs at most a page fetched again.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so that a crash keeps all of them or none."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def flag(self, key: str) -> str | None:
        """Return a stored flag's value, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_flag(self, key: str, value: str) -> None:
        """Store a flag."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- feeds -------------------------------------------------------------------

    def feed(self, url: str) -> FeedRow:
        """Return what is known of a feed (a fresh row when it was never polled)."""
        with self._lock:
            row = self._db.execute(
                "SELECT url, title, etag, last_modified, last_poll, status, failures, "
                "next_poll, counts, skips FROM feeds WHERE url = ?",
                (url,),
            ).fetchone()
        if row is None:
            return never_polled(url)
        skips = [(str(u), str(r)) for u, r in json.loads(row[9])]
        return FeedRow(
            url=row[0],
            title=row[1],
            etag=row[2],
            last_modified=row[3],
            last_poll=row[4],
            status=row[5],
            failures=row[6],
            next_poll=row[7],
            counts=json.loads(row[8]),
            skips=skips,
        )

    def save_feed(self, feed: FeedRow) -> None:
        """Store a feed's row."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO feeds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    feed.url,
                    feed.title,
                    feed.etag,
                    feed.last_modified,
                    feed.last_poll,
                    feed.status,
                    feed.failures,
                    feed.next_poll,
                    json.dumps(feed.counts),
                    json.dumps(feed.skips),
                ),
            )

    # --- entries -----------------------------------------------------------------

    def entry(self, feed: str, guid: str) -> tuple[str, str | None] | None:
        """Return (version, path) of an entry seen before, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT version, path FROM entries WHERE feed = ? AND guid = ?", (feed, guid)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def see_entry(self, feed: str, guid: str, version: str, path: str | None) -> None:
        """Record that an entry was read at this version (saved at path, or not saved)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                (feed, guid, version, path, time.time()),
            )

    def touch_entries(self, feed: str, guids: list[str]) -> None:
        """Mark entries as still listed by their feed."""
        now = time.time()
        # One transaction: in autocommit each row would be a commit of its own.
        with self.transaction():
            self._db.executemany(
                "UPDATE entries SET last_seen = ? WHERE feed = ? AND guid = ?",
                [(now, feed, guid) for guid in guids],
            )

    def expired_entries(self, feed: str, before: float) -> list[tuple[str, str | None]]:
        """List (guid, path) of a feed's entries not listed since before."""
        with self._lock:
            rows = self._db.execute(
                "SELECT guid, path FROM entries WHERE feed = ? AND last_seen < ?", (feed, before)
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def forget_entry(self, feed: str, guid: str) -> None:
        """Drop an entry (after its file expired)."""
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE feed = ? AND guid = ?", (feed, guid))

    # --- saved articles ----------------------------------------------------------

    def saved_by_canonical(self, canonical: str) -> SavedRow | None:
        """Return the saved article with this canonical URL, if any."""
        return self._saved("canonical", canonical)

    def saved_by_digest(self, digest: str) -> SavedRow | None:
        """Return the saved article with this text digest, if any."""
        return self._saved("digest", digest)

    def saved_at(self, path: str) -> SavedRow | None:
        """Return the saved article at this path, if any."""
        return self._saved("path", path)

    def _saved(self, column: str, value: str) -> SavedRow | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT path, canonical, digest, feed FROM articles WHERE {column} = ?", (value,)
            ).fetchone()
        return None if row is None else SavedRow(*row)

    def save_article(self, row: SavedRow) -> None:
        """Record an article file written at row.path."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?)",
                (row.path, row.canonical, row.digest, row.feed, time.time()),
            )

    def forget_article(self, path: str) -> None:
        """Drop an article file's row (the file expired or was deleted)."""
        with self._lock:
            self._db.execute("DELETE FROM articles WHERE path = ?", (path,))

    def paths(self) -> set[str]:
        """Return every path an article was saved at."""
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT path FROM articles")}
