"""A crowd of simulated users asking a bot at once, and when the fake saw each answer.

Used by the load test and the Discord benchmarks: `plan()` lays out who asks what, where and
how (a mention in a guild channel, a DM, or /ask), `ask_all()` sends it all, optionally spread
over some seconds, and `answered_at()` tells when the bot's answer to each question reached
the fake (all times are the fake's loop clock).
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .models import FakeInteraction, FakeUser
from .server import FakeDiscord

MENTION, DM, SLASH = "mention", "dm", "slash"


@dataclass(frozen=True)
class Question:
    """One question to ask: how, by whom, in which channel, and its text."""

    kind: str
    user: FakeUser
    channel_id: int
    text: str


@dataclass
class Asked:
    """A question that was sent: its message or interaction id and when the bot got it."""

    question: Question
    id: int
    sent_at: float  # when the gateway event was written to the bot's socket
    interaction: FakeInteraction | None = None


def plan(
    fake: FakeDiscord,
    users: Sequence[FakeUser],
    channel_ids: Sequence[int],
    texts: Sequence[str],
    per_user: int,
    kinds: Sequence[str] = (MENTION, MENTION, DM, SLASH),
) -> list[Question]:
    """Lay out per_user questions for each user, taking turns, cycling kinds and channels."""
    kind_cycle = itertools.cycle(kinds)
    channel_cycle = itertools.cycle(channel_ids)
    text_cycle = itertools.cycle(texts)
    questions = []
    for _ in range(per_user):
        for user in users:
            kind = next(kind_cycle)
            channel = fake.dm_channel_for(user) if kind == DM else next(channel_cycle)
            questions.append(Question(kind, user, channel, next(text_cycle)))
    return questions


async def ask(fake: FakeDiscord, question: Question) -> Asked:
    """Send one question the way its kind says."""
    loop = asyncio.get_running_loop()
    if question.kind == SLASH:
        inter = await fake.user_runs_slash_command(
            "ask", {"question": question.text}, question.user, question.channel_id
        )
        return Asked(question, inter.id, inter.sent_at or loop.time(), inter)
    content = question.text
    if question.kind == MENTION:
        content = f"<@{fake.bot_user.id}> {content}"
    sent = await fake.user_sends_message(question.channel_id, question.user, content)
    return Asked(question, int(sent["id"]), loop.time())  # delivered: written to the socket


async def ask_all(
    fake: FakeDiscord, questions: Sequence[Question], *, over: float = 0.0
) -> list[Asked]:
    """Send every question in order, evenly spread over `over` seconds (0: at once)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    asked = []
    for i, question in enumerate(questions):
        due = start + over * i / max(1, len(questions))
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        asked.append(await ask(fake, question))
    return asked


def reply_requests(fake: FakeDiscord) -> dict[int, list[float]]:
    """Map each message id to the times the bot's replies to it reached the fake."""
    found: dict[int, list[float]] = {}
    for record in fake.requests_matching("POST", r"^/channels/\d+/messages$"):
        reference = (record.json or {}).get("message_reference") or {}
        if record.status == 200 and reference.get("message_id") is not None:
            found.setdefault(int(reference["message_id"]), []).append(record.time)
    return found


def answered_at(
    fake: FakeDiscord, asked: Asked, replies: dict[int, list[float]] | None = None
) -> float | None:
    """Return when the answer (or notice) to a question reached the fake, or None."""
    if asked.interaction is not None:
        final = [
            entry["at"]
            for entry in fake.interaction_responses(asked.interaction)
            if entry["kind"] != "callback" or entry.get("type") == 4
        ]
        return final[-1] if final else None
    times = (replies if replies is not None else reply_requests(fake)).get(asked.id)
    return times[0] if times else None


def acknowledged_at(fake: FakeDiscord, asked: Asked) -> float | None:
    """Return when an interaction was first acknowledged (its callback), or None."""
    if asked.interaction is None:
        return None
    callbacks = [
        entry["at"]
        for entry in fake.interaction_responses(asked.interaction)
        if entry["kind"] == "callback"
    ]
    return callbacks[0] if callbacks else None


def percentile(values: Sequence[float], share: float) -> float:
    """Return the value below which `share` (0-1) of the values fall (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[rank]
