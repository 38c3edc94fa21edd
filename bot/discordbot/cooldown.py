"""Limit how many questions each user may ask in a sliding window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """Whether a user may ask now; if not, when they may and whether to tell them."""

    allowed: bool
    retry_after: float = 0.0
    notify: bool = False  # tell the user; False after the first notice in a window


class Cooldown:
    """Allow each user `questions` questions per `seconds`; zero in either disables it."""

    def __init__(
        self,
        questions: int,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        self.questions = questions
        self.seconds = seconds
        self._clock = clock
        self._max_users = max_users
        self._asked: dict[object, deque[float]] = {}
        self._notified_until: dict[object, float] = {}

    @property
    def enabled(self) -> bool:
        """Tell whether any limit applies."""
        return self.questions > 0 and self.seconds > 0

    def check(
        self,
        user_id: int,
        *,
        questions: int | None = None,
        seconds: float | None = None,
        scope: int = 0,
    ) -> Verdict:
        """Record a question from user_id if allowed, else say how long to wait.

        questions and seconds override the limits (a server's own); scope keeps the count
        of one server apart from another's.
        """
        questions = self.questions if questions is None else questions
        seconds = self.seconds if seconds is None else seconds
        if questions <= 0 or seconds <= 0:
            return Verdict(allowed=True)
        now = self._clock()
        key = user_id if not scope else (scope, user_id)
        asked = self._asked.get(key)
        if asked is None:
            self._forget_idle(now)
            asked = self._asked[key] = deque()
        while asked and now - asked[0] >= seconds:
            asked.popleft()
        if len(asked) < questions:
            asked.append(now)
            return Verdict(allowed=True)
        retry_after = seconds - (now - asked[0])
        # One notice per window: answering every extra message would let a user make the
        # bot spam on their behalf.
        notify = self._notified_until.get(key, 0.0) <= now
        if notify:
            self._notified_until[key] = now + retry_after
        return Verdict(allowed=False, retry_after=retry_after, notify=notify)

    def _forget_idle(self, now: float) -> None:
        """Drop users whose window has passed, once the table grows large."""
        if len(self._asked) < self._max_users:
            return
        for user_id in [u for u, q in self._asked.items() if not q or now - q[-1] >= self.seconds]:
            del self._asked[user_id]
            self._notified_until.pop(user_id, None)
        while len(self._asked) >= self._max_users:
            oldest = next(iter(self._asked))
            del self._asked[oldest]
            self._notified_until.pop(oldest, None)
