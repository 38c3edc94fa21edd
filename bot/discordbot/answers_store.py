"""Remember recent answers so their buttons can be served, forgetting the oldest first."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from bot.answer.models import Answer

DEFAULT_CAPACITY = 2000


@dataclass(frozen=True)
class StoredAnswer:
    """An answer plus what its buttons need: the question, page size and who asked."""

    answer: Answer
    k: int
    asker_id: int
    private: bool


class AnswerStore:
    """A bounded least-recently-used map from short random ids to answers."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: OrderedDict[str, StoredAnswer] = OrderedDict()

    def add(self, stored: StoredAnswer) -> str:
        """Store an answer and return its new id."""
        # Random ids, not counters: a button from before a restart must not find a new answer.
        answer_id = secrets.token_urlsafe(9)
        while answer_id in self._items:
            answer_id = secrets.token_urlsafe(9)
        self._items[answer_id] = stored
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return answer_id

    def get(self, answer_id: str) -> StoredAnswer | None:
        """Return the answer with this id, or None once it has been forgotten."""
        stored = self._items.get(answer_id)
        if stored is not None:
            self._items.move_to_end(answer_id)
        return stored

    def clear(self) -> None:
        """Forget every answer."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
