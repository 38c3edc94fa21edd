"""Discord-style snowflake ids, so discord.py derives sane `created_at` values from them."""

from __future__ import annotations

import datetime as dt
import threading
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeGenerator:
    """Generate strictly increasing snowflakes based on the wall clock."""

    def __init__(self, worker_id: int = 1, process_id: int = 1) -> None:
        """Create a generator for one fake worker/process pair."""
        self._worker = worker_id & 0x1F
        self._process = process_id & 0x1F
        self._last = 0
        # Snowflakes are also minted from sync helpers that may run in other threads.
        self._lock = threading.Lock()

    def next(self) -> int:
        """Return a fresh snowflake, greater than every previous one."""
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            candidate = (ms << 22) | (self._worker << 17) | (self._process << 12)
            value = max(candidate, self._last + 1)
            self._last = value
            return value


def snowflake_datetime(snowflake: int) -> dt.datetime:
    """Return the UTC creation time encoded in a snowflake."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def snowflake_iso(snowflake: int) -> str:
    """Return the creation time of a snowflake in Discord's ISO-8601 format."""
    return snowflake_datetime(snowflake).isoformat()


def now_iso() -> str:
    """Return the current UTC time in Discord's ISO-8601 format."""
    return dt.datetime.now(tz=dt.UTC).isoformat()
