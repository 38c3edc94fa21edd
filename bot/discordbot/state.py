"""The bot's own database (SQLite, WAL): servers' settings, questions, votes, button state.

One file (``STATE_DB``, by default ``qabot.sqlite3`` in the per-user state folder), its schema
versioned in ``PRAGMA user_version`` and migrated forward on open. Question text is kept only
for servers that opted in (``store_questions``); rows older than a server's retention are
deleted. Nothing is kept for DMs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE guild_settings (
        guild_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,          -- JSON
        changed_by INTEGER,
        changed_at REAL NOT NULL,
        PRIMARY KEY (guild_id, name)
    );
    CREATE TABLE questions (
        answer_id TEXT PRIMARY KEY,
        guild_id INTEGER NOT NULL,    -- 0 for DMs
        asked_at REAL NOT NULL,
        status TEXT NOT NULL,         -- answered, not_found, usage
        confidence TEXT,              -- high, medium, low (or NULL when unknown)
        ranking TEXT NOT NULL,
        citations TEXT NOT NULL,      -- JSON list of "article:citation"
        articles TEXT NOT NULL,       -- JSON list of article titles cited
        question TEXT,                -- only when the server opted in
        asked INTEGER NOT NULL        -- 1: a question; 0: another page of one, or a share
    );
    CREATE INDEX questions_by_guild ON questions (guild_id, asked_at);
    CREATE TABLE votes (
        answer_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        guild_id INTEGER NOT NULL,
        vote INTEGER NOT NULL,        -- +1 or -1
        voted_at REAL NOT NULL,
        PRIMARY KEY (answer_id, user_id)
    );
    CREATE INDEX votes_by_guild ON votes (guild_id, voted_at);
    """,
    2: """
    CREATE TABLE answers (            -- what an answer's buttons recompute it from
        answer_id TEXT PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        saved_at REAL NOT NULL,
        k INTEGER NOT NULL,
        page_offset INTEGER NOT NULL,
        asker_id INTEGER NOT NULL,
        private INTEGER NOT NULL,
        options TEXT,                 -- JSON of the /ask filter, or NULL
        followed INTEGER NOT NULL,    -- 1: asked in a conversation (a follow-up)
        citations TEXT NOT NULL,      -- JSON list: the previous answer's citations
        question TEXT,                -- the texts only when the server opted in
        previous TEXT,
        previous_context TEXT
    );
    CREATE INDEX answers_by_guild ON answers (guild_id, saved_at);
    """,
}
_TEXTS = ("question", "previous", "previous_context")


@dataclass(frozen=True)
class QuestionRecord:
    """One question as kept for /qa gaps (question text only where the server opted in)."""

    answer_id: str
    guild_id: int
    asked_at: float
    status: str
    confidence: str | None
    ranking: str
    citations: tuple[str, ...]
    articles: tuple[str, ...]
    question: str | None = None
    asked: bool = True


@dataclass(frozen=True)
class VoteTally:
    """The votes on one answer, with what it cited."""

    answer_id: str
    up: int
    down: int
    record: QuestionRecord | None


@dataclass(frozen=True)
class SavedAnswer:
    """What an answer's buttons need to recompute it in a new process.

    The question texts (the question, the one it was read with, and the one before that)
    are kept only where the server opted in; otherwise the buttons read them off the message.
    """

    answer_id: str
    guild_id: int
    saved_at: float
    k: int
    offset: int
    asker_id: int
    private: bool
    options: Mapping[str, Any] | None  # the /ask filter as JSON
    followed: bool
    citations: tuple[str, ...] = ()
    question: str | None = None
    previous: str | None = None
    previous_context: str | None = None


class StateDB:
    """The state database; safe to use from the event loop and from worker threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"The state database {self.path} was written by a newer qabot (schema "
                    f"{version}, this one knows {SCHEMA_VERSION}); upgrade qabot or set STATE_DB."
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                self._db.executescript(
                    f"BEGIN; {_MIGRATIONS[target]} PRAGMA user_version = {target}; COMMIT;"
                )

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # Servers' settings

    def guild_values(self, guild_id: int) -> dict[str, Any]:
        """Return what admins set for one server."""
        rows = self._run("SELECT name, value FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return {name: json.loads(value) for name, value in rows}

    def set_guild_values(self, guild_id: int, values: Mapping[str, Any], by: int) -> None:
        """Store admins' changes for one server, in one transaction."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for name, value in values.items():
                    if isinstance(value, frozenset | set):
                        value = sorted(value)
                    self._db.execute(
                        "INSERT INTO guild_settings VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (guild_id, name) DO UPDATE SET value = excluded.value, "
                        "changed_by = excluded.changed_by, changed_at = excluded.changed_at",
                        (guild_id, name, json.dumps(value), by, now),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # Questions and votes

    def record_question(self, record: QuestionRecord) -> None:
        """Keep one question for /qa gaps."""
        self._run(
            "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.answer_id,
                record.guild_id,
                record.asked_at,
                record.status,
                record.confidence,
                record.ranking,
                json.dumps(list(record.citations)),
                json.dumps(list(record.articles)),
                record.question,
                int(record.asked),
            ),
        )

    def question(self, answer_id: str) -> QuestionRecord | None:
        """Return one kept question."""
        rows = self._run("SELECT * FROM questions WHERE answer_id = ?", (answer_id,))
        return _record(rows[0]) if rows else None

    def questions_since(self, guild_id: int, since: float) -> list[QuestionRecord]:
        """Return a server's questions asked since a time, oldest first."""
        rows = self._run(
            "SELECT * FROM questions WHERE guild_id = ? AND asked_at >= ? ORDER BY asked_at",
            (guild_id, since),
        )
        return [_record(row) for row in rows]

    def vote(self, answer_id: str, guild_id: int, user_id: int, vote: int) -> int | None:
        """Record a user's vote on an answer (one per user, changeable); return the old one."""
        with self._lock:
            old = self._db.execute(
                "SELECT vote FROM votes WHERE answer_id = ? AND user_id = ?", (answer_id, user_id)
            ).fetchone()
            self._db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?) ON CONFLICT (answer_id, user_id) "
                "DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer_id, user_id, guild_id, vote, time.time()),
            )
        return old[0] if old else None

    def tallies_since(self, guild_id: int, since: float) -> list[VoteTally]:
        """Return the votes per answer in a server since a time, most thumbs-down first."""
        rows = self._run(
            "SELECT answer_id, SUM(vote > 0), SUM(vote < 0) FROM votes "
            "WHERE guild_id = ? AND voted_at >= ? GROUP BY answer_id "
            "ORDER BY SUM(vote < 0) DESC, answer_id",
            (guild_id, since),
        )
        return [VoteTally(a, int(up), int(down), self.question(a)) for a, up, down in rows]

    # What answers' buttons recompute from

    def save_answer(self, saved: SavedAnswer) -> None:
        """Keep what an answer's buttons need after a restart."""
        self._run(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                saved.answer_id,
                saved.guild_id,
                saved.saved_at,
                saved.k,
                saved.offset,
                saved.asker_id,
                int(saved.private),
                json.dumps(dict(saved.options)) if saved.options is not None else None,
                int(saved.followed),
                json.dumps(list(saved.citations)),
                saved.question,
                saved.previous,
                saved.previous_context,
            ),
        )

    def saved_answer(self, answer_id: str) -> SavedAnswer | None:
        """Return what was kept for an answer's buttons, if it is still kept."""
        rows = self._run("SELECT * FROM answers WHERE answer_id = ?", (answer_id,))
        if not rows:
            return None
        row = rows[0]
        options = json.loads(row[7]) if row[7] is not None else None
        return SavedAnswer(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            bool(row[6]),
            options,
            bool(row[8]),
            tuple(json.loads(row[9])),
            *row[10:13],
        )

    def forget_before(self, guild_id: int, before: float) -> int:
        """Delete a server's questions, votes and button state older than a time; count rows."""
        with self._lock:
            deleted = self._db.execute(
                "DELETE FROM questions WHERE guild_id = ? AND asked_at < ?", (guild_id, before)
            ).rowcount
            deleted += self._db.execute(
                "DELETE FROM votes WHERE guild_id = ? AND voted_at < ?", (guild_id, before)
            ).rowcount
            deleted += self._db.execute(
                "DELETE FROM answers WHERE guild_id = ? AND saved_at < ?", (guild_id, before)
            ).rowcount
        return int(deleted)

    def forget_text(self, guild_id: int) -> None:
        """Drop the stored question text of a server that opted out."""
        texts = ", ".join(f"{name} = NULL" for name in _TEXTS)
        with self._lock:
            self._db.execute("UPDATE questions SET question = NULL WHERE guild_id = ?", (guild_id,))
            self._db.execute(f"UPDATE answers SET {texts} WHERE guild_id = ?", (guild_id,))

    def guild_ids(self) -> Iterable[int]:
        """Return every server with kept questions, votes or button state."""
        rows = self._run(
            "SELECT guild_id FROM questions UNION SELECT guild_id FROM votes "
            "UNION SELECT guild_id FROM answers"
        )
        return [row[0] for row in rows]


def _record(row: tuple[Any, ...]) -> QuestionRecord:
    answer_id, guild_id, asked_at, status, confidence, ranking, citations, articles = row[:8]
    return QuestionRecord(
        answer_id,
        guild_id,
        asked_at,
        status,
        confidence,
        ranking,
        tuple(json.loads(citations)),
        tuple(json.loads(articles)),
        row[8],
        bool(row[9]),
    )


def default_state_db(settings: Any, folder: Path) -> Path:
    """Return STATE_DB, or qabot.sqlite3 in the state folder (beside the command sync state)."""
    configured = getattr(settings, "state_db", None)
    return Path(configured) if configured is not None else folder / "qabot.sqlite3"
