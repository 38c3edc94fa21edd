"""State every process of the bot shares through Redis (REDIS_URL): cooldowns and answers.

Without REDIS_URL both stay in the process. With it, a user's cooldown is counted once across
every shard, and the answer behind a button (and a reply's follow-up context) is found by
whichever process Discord hands the click to. When Redis goes away the bot keeps answering
with its per-process state, says so once in the log, and tries Redis again every
``RETRY_SECONDS``.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import asdict
from typing import Any

from bot.discordbot.answers_store import AnswerStore, StoredAnswer, filter_json
from bot.discordbot.cooldown import Cooldown, Verdict
from bot.discordbot.logs import one_line

log = logging.getLogger(__name__)

PREFIX = "qabot:"
ANSWER_TTL_SECONDS = 7 * 86400
RETRY_SECONDS = 30.0
TIMEOUT_SECONDS = 1.0

# A sliding window per user in a sorted set, timed by the Redis server's clock so that
# processes on machines whose clocks differ count alike. Returns {allowed, retry_after, notify}.
_COOLDOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return {1, '0', 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local retry = window - (now - tonumber(oldest[2]))
local notify = redis.call('SET', KEYS[2], '1', 'PX', math.max(1, math.ceil(retry * 1000)), 'NX')
return {0, tostring(retry), notify and 1 or 0}
"""


def _redacted(url: str) -> str:
    """Show a Redis URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url


class SharedState:
    """The cooldown and the answer store, in Redis when configured, else in the process."""

    def __init__(self, url: str | None, store: AnswerStore, cooldown: Cooldown) -> None:
        self.url = url
        self.store = store
        self.cooldown = cooldown
        self._redis: Any = None
        self._script: Any = None
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def shared(self) -> bool:
        """Tell whether Redis is in use right now."""
        return self._redis is not None and self._down_since is None

    async def connect(self) -> None:
        """Connect to Redis if REDIS_URL is set; carry on per process if it is not there."""
        if not self.url:
            return
        import redis.asyncio as redis

        self._redis = redis.from_url(
            self.url,
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
            decode_responses=True,
        )
        self._script = self._redis.register_script(_COOLDOWN)
        try:
            await self._redis.ping()
        except Exception as exc:
            self._lost(exc)
        else:
            log.info("Sharing cooldowns and answers through Redis at %s.", _redacted(self.url))

    async def close(self) -> None:
        """Close the connection to Redis."""
        if self._redis is not None:
            try:
                await self._redis.aclose()
            except Exception as exc:  # closing a connection that is already gone
                log.debug("Closing Redis: %s", exc)

    def _lost(self, exc: BaseException) -> None:
        if self._down_since is None:
            log.warning(
                "Redis at %s is unreachable (%s): answering with per-process cooldowns and "
                "answers until it is back.",
                _redacted(self.url or ""),
                one_line(str(exc) or type(exc).__name__),
            )
            self._down_since = time.monotonic()
        self._retry_at = time.monotonic() + RETRY_SECONDS

    def _usable(self) -> bool:
        if self._redis is None:
            return False
        return self._down_since is None or time.monotonic() >= self._retry_at

    def _back(self) -> None:
        if self._down_since is not None:
            log.info("Redis is reachable again: sharing cooldowns and answers once more.")
            self._down_since = None

    async def _call(self, coro_fn: Any, *args: Any) -> tuple[bool, Any]:
        """Run one Redis call; (False, None) when Redis is not usable."""
        if not self._usable():
            return False, None
        try:
            result = await coro_fn(*args)
        except Exception as exc:
            self._lost(exc)
            return False, None
        self._back()
        return True, result

    # Cooldown

    async def check_cooldown(
        self, user_id: int, *, questions: int, seconds: float, scope: int = 0
    ) -> Verdict:
        """Count a question against a user's limit, across every process when shared."""
        if questions <= 0 or seconds <= 0:
            return Verdict(allowed=True)
        key = f"{PREFIX}cd:{scope}:{user_id}"
        ok, result = await self._call(
            self._run_cooldown, [key, key + ":told"], [seconds, questions, secrets.token_hex(8)]
        )
        if not ok:
            return self.cooldown.check(user_id, questions=questions, seconds=seconds, scope=scope)
        allowed, retry, notify = result
        return Verdict(allowed=bool(allowed), retry_after=float(retry), notify=bool(notify))

    async def _run_cooldown(self, keys: list[str], args: list[Any]) -> Any:
        return await self._script(keys=keys, args=args)

    # Answers

    async def add(self, answer_id: str, stored: StoredAnswer) -> None:
        """Keep an answer under its id, here and (when shared) in Redis."""
        self.store.put(answer_id, stored)
        await self._call(
            self._redis_set, f"{PREFIX}answer:{answer_id}", json.dumps(_to_json(stored))
        )

    async def get(self, answer_id: str) -> StoredAnswer | None:
        """Return an answer by id, from Redis when shared, else from this process."""
        ok, raw = await self._call(self._redis_get, f"{PREFIX}answer:{answer_id}")
        if ok and raw:
            try:
                return StoredAnswer.from_dict(json.loads(raw))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("Ignored a stored answer Redis holds in another shape: %s", exc)
        return self.store.get(answer_id)

    async def link(
        self, answer_id: str, *, message_id: int, conversation_id: int | None = None
    ) -> None:
        """Remember which message shows an answer, and the latest answer of a conversation."""
        self.store.link(answer_id, message_id=message_id, conversation_id=conversation_id)
        await self._call(self._redis_set, f"{PREFIX}message:{message_id}", answer_id)
        if conversation_id is not None:
            await self._call(self._redis_set, f"{PREFIX}conversation:{conversation_id}", answer_id)

    async def for_message(self, message_id: int) -> StoredAnswer | None:
        """Return the answer a message shows."""
        ok, answer_id = await self._call(self._redis_get, f"{PREFIX}message:{message_id}")
        if ok and answer_id:
            found = await self.get(answer_id)
            if found is not None:
                return found
        return self.store.for_message(message_id)

    async def for_conversation(self, channel_id: int) -> StoredAnswer | None:
        """Return the latest answer in a thread or DM, or the one a thread was started on."""
        for kind in ("conversation", "message"):
            ok, answer_id = await self._call(self._redis_get, f"{PREFIX}{kind}:{channel_id}")
            if ok and answer_id:
                found = await self.get(answer_id)
                if found is not None:
                    return found
        return self.store.for_conversation(channel_id)

    async def _redis_set(self, key: str, value: str) -> None:
        await self._redis.set(key, value, ex=ANSWER_TTL_SECONDS)

    async def _redis_get(self, key: str) -> Any:
        return await self._redis.get(key)


def _to_json(stored: StoredAnswer) -> dict[str, Any]:
    data = asdict(stored)
    data["answer"]["status"] = stored.answer.status.value
    data["options"] = filter_json(stored.options)
    return data
