"""Remember recent answers so their buttons and follow-ups can be served, oldest forgotten first."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, fields
from typing import Any

from bot.answer.filters import ArticleFilter
from bot.answer.followup import FollowUp
from bot.answer.models import Answer, Passage, Status
from bot.discordbot.state import SavedAnswer

DEFAULT_CAPACITY = 2000


@dataclass(frozen=True)
class StoredAnswer:
    """An answer plus what its buttons and follow-ups need.

    ``context`` is what the question was read with (the conversation before it, when it was
    a follow-up): More pages through the same reading. ``follow_up`` is what a reply to this
    answer is read with.
    """

    answer: Answer
    k: int
    asker_id: int
    private: bool
    context: FollowUp | None = None
    follow_up: FollowUp | None = None
    guild_id: int | None = None  # the server it was asked in (None: a DM)
    options: ArticleFilter | None = None  # the articles it was limited to (/ask options)

    @classmethod
    def of(
        cls,
        answer: Answer,
        k: int,
        asker_id: int,
        private: bool,
        context: FollowUp | None = None,
        guild_id: int | None = None,
        options: ArticleFilter | None = None,
    ) -> StoredAnswer:
        """Store an answer with the follow-up context its replies will be read with."""
        follow_up = FollowUp.from_answer(answer, previous=context) if answer.answered else None
        return cls(answer, k, asker_id, private, context, follow_up, guild_id, options or None)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredAnswer:
        """Rebuild a stored answer from its JSON form (as kept in Redis)."""
        raw = dict(data["answer"])
        raw["status"] = Status(raw["status"])
        raw["passages"] = tuple(Passage(**_tuples(p)) for p in raw.get("passages", ()))
        known = {f.name for f in fields(Answer)}
        answer = Answer(**{k: _tuples(v) for k, v in raw.items() if k in known})
        follow = [
            FollowUp(**_tuples(d)) if d else None for d in (data["context"], data["follow_up"])
        ]
        return cls(
            answer,
            int(data["k"]),
            int(data["asker_id"]),
            bool(data["private"]),
            follow[0],
            follow[1],
            data.get("guild_id"),
            filter_from_json(data.get("options")),
        )

    def saved(self, answer_id: str, *, keep_text: bool) -> SavedAnswer | None:
        """Return what its buttons need after a restart (None for a DM's answer).

        The question texts go in only when keep_text (the server stores questions).
        """
        if self.guild_id is None:
            return None
        context = self.context
        return SavedAnswer(
            answer_id=answer_id,
            guild_id=self.guild_id,
            saved_at=time.time(),
            k=self.k,
            offset=self.answer.offset,
            asker_id=self.asker_id,
            private=self.private,
            options=filter_json(self.options),
            followed=context is not None,
            citations=context.citations if context is not None else (),
            question=self.answer.question if keep_text else None,
            previous=context.question if keep_text and context is not None else None,
            previous_context=context.context if keep_text and context is not None else None,
        )


def filter_json(options: ArticleFilter | None) -> dict[str, Any] | None:
    """Return an /ask filter as JSON (dates as ISO days), or None."""
    if options is None:
        return None
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in asdict(options).items()}


def filter_from_json(data: dict[str, Any] | None) -> ArticleFilter | None:
    """Read an /ask filter back from its JSON form."""
    if not data:
        return None
    days = {
        k: dt.date.fromisoformat(v) if v else None
        for k, v in data.items()
        if k in ("since", "until")
    }
    return ArticleFilter(article=data.get("article"), source=data.get("source"), **days)


def _tuples(value: Any) -> Any:
    """Turn JSON lists back into the tuples the frozen models hold."""
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


class AnswerStore:
    """A bounded least-recently-used map from short random ids to answers.

    It also remembers which Discord message shows an answer, and the latest answer in each
    conversation (a thread or a DM channel), so a reply, or a question in a thread or DM,
    finds what it continues. Those links are bounded too, and lead nowhere once their
    answer is forgotten.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: OrderedDict[str, StoredAnswer] = OrderedDict()
        # ("message", id) or ("conversation", channel id) -> answer id; at most two per answer.
        self._links: OrderedDict[tuple[str, int], str] = OrderedDict()

    def add(self, stored: StoredAnswer) -> str:
        """Store an answer and return its new id."""
        # Random ids, not counters: a button from before a restart must not find a new answer.
        answer_id = secrets.token_urlsafe(9)
        while answer_id in self._items:
            answer_id = secrets.token_urlsafe(9)
        self.put(answer_id, stored)
        return answer_id

    def put(self, answer_id: str, stored: StoredAnswer) -> None:
        """Store an answer under an id chosen by the caller."""
        self._items[answer_id] = stored
        self._items.move_to_end(answer_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, answer_id: str) -> StoredAnswer | None:
        """Return the answer with this id, or None once it has been forgotten."""
        stored = self._items.get(answer_id)
        if stored is not None:
            self._items.move_to_end(answer_id)
        return stored

    def link(self, answer_id: str, *, message_id: int, conversation_id: int | None = None) -> None:
        """Remember that a message shows this answer, posted in a conversation if given."""
        if answer_id not in self._items:
            return
        keys = [("message", message_id)]
        if conversation_id is not None:
            keys.append(("conversation", conversation_id))
        for key in keys:
            self._links[key] = answer_id
            self._links.move_to_end(key)
        while len(self._links) > 2 * self.capacity:
            self._links.popitem(last=False)

    def for_message(self, message_id: int) -> StoredAnswer | None:
        """Return the answer a message shows, if it is still remembered."""
        answer_id = self._links.get(("message", message_id))
        return self.get(answer_id) if answer_id is not None else None

    def for_conversation(self, channel_id: int) -> StoredAnswer | None:
        """Return the latest answer in a thread or DM, or the answer a thread was started on."""
        # A thread started on a message has that message's id.
        for key in (("conversation", channel_id), ("message", channel_id)):
            answer_id = self._links.get(key)
            stored = self.get(answer_id) if answer_id is not None else None
            if stored is not None:
                return stored
        return None

    def clear(self) -> None:
        """Forget every answer."""
        self._items.clear()
        self._links.clear()

    def __len__(self) -> int:
        return len(self._items)
