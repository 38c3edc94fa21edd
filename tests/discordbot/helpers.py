"""Small helpers for driving the bot through FakeDiscord and checking what it sent."""

from __future__ import annotations

import logging
import re
from typing import Any

from tests.fakediscord import FLAG_EPHEMERAL, FakeDiscord, FakeInteraction, FakeUser

TIMEOUT = 30.0  # a cap for a loaded 2-core machine, not a speed target


async def slash(
    fake: FakeDiscord,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    user: FakeUser | None = None,
    channel_id: int | None = None,
) -> tuple[FakeInteraction, list[dict[str, Any]]]:
    """Run a slash command as a user and wait until the user sees a final result."""
    world = fake.world
    assert world is not None
    inter = await fake.user_runs_slash_command(
        name, options, user or world.alice, channel_id or world.channel_id
    )
    responses = await fake.wait_for_interaction_done(inter, timeout=TIMEOUT)
    return inter, responses


def final_message(responses: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the message the user ends up seeing for an interaction."""
    with_message = [r for r in responses if "message" in r]
    assert with_message, f"no message in {responses}"
    message: dict[str, Any] = with_message[-1]["message"]
    return message


def is_ephemeral(message: dict[str, Any]) -> bool:
    """Tell whether only the interaction's user sees the message."""
    return bool((message.get("flags") or 0) & FLAG_EPHEMERAL)


def embed_of(message: dict[str, Any]) -> dict[str, Any]:
    """Return the single embed of a bot message."""
    embeds = message.get("embeds") or []
    assert len(embeds) == 1, message
    embed: dict[str, Any] = embeds[0]
    return embed


def button_ids(message: dict[str, Any]) -> list[str]:
    """Return the custom ids of the buttons on a message."""
    return [
        button["custom_id"]
        for row in message.get("components") or []
        for button in row.get("components") or []
    ]


async def reply_to(fake: FakeDiscord, message_id: int | str, timeout: float = TIMEOUT) -> Any:
    """Wait for the bot's reply to one message."""

    def replies(record: dict[str, Any]) -> bool:
        reference = record.get("message_reference") or {}
        return str(reference.get("message_id")) == str(message_id)

    return await fake.wait_for_bot_message(predicate=replies, timeout=timeout)


def bot_messages(fake: FakeDiscord) -> list[dict[str, Any]]:
    """Return every bot message in every channel the fake knows."""
    return [m for channel_id in list(fake.channels) for m in fake.messages(channel_id)]


def assert_pings_nobody(fake: FakeDiscord) -> None:
    """Check that every bot message disallows all mentions and pinged no one."""
    messages = bot_messages(fake)
    assert messages
    for message in messages:
        allowed = message.get("allowed_mentions")
        assert allowed is not None, message
        assert allowed.get("parse") == [], allowed
        assert not allowed.get("users") and not allowed.get("roles"), allowed
        assert not allowed.get("replied_user"), allowed
        assert message["mentions"] == [] and message["mention_roles"] == []
        assert message["mention_everyone"] is False


def replies(fake: FakeDiscord, message_id: int | str) -> list[dict[str, Any]]:
    """Return every bot message that replies to one message, in any channel."""
    return [
        m
        for m in bot_messages(fake)
        if str((m.get("message_reference") or {}).get("message_id")) == str(message_id)
    ]


def shown_messages(fake: FakeDiscord, inter: FakeInteraction) -> list[dict[str, Any]]:
    """Return the distinct messages an interaction's user ends up seeing, as they are now."""
    seen: dict[int, dict[str, Any]] = {}
    for entry in fake.interaction_responses(inter):
        if "message" in entry:
            seen[entry["message_id"]] = entry["message"]  # the latest state of each
    return list(seen.values())


_QUESTION_LINE = re.compile(r"^question via=(\S+) .* id=(\d+) latency_ms=\d+ status=(\S+)")


def logged_questions(records: list[logging.LogRecord]) -> list[tuple[str, int, str]]:
    """Return (via, id, status) of every question the bot logged as handled."""
    found = []
    for record in records:
        match = _QUESTION_LINE.match(record.getMessage())
        if match:
            found.append((match.group(1), int(match.group(2)), match.group(3)))
    return found


_ESCAPED = re.compile(r"\\[^0-9A-Za-z\s]")
_MARKDOWN = frozenset("*_~|`[<")
_LINE_MARKDOWN = frozenset(">#-+")
MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)


def assert_inert(text: str, *, quote_lines: bool = False) -> None:
    """Check rendered markdown: nothing can ping, link, hide or restyle the echoed text.

    Allowed: backslash escapes, the bot's own `**` bold markers and, with quote_lines, its
    own `> ` quote at the start of a line (the context view).
    """
    assert not MASS_MENTION.search(text.replace("\u200d", "")), text
    assert "\u200d\u200d" not in text, "a run of zero-width joiners survived"
    bare = _ESCAPED.sub("", text).replace("**", "")
    assert not _MARKDOWN & set(bare), (sorted(_MARKDOWN & set(bare)), text)
    for line in text.split("\n"):
        stripped = line.lstrip()
        if quote_lines and stripped.startswith("> "):
            stripped = stripped[2:].lstrip()
        assert stripped[:1] not in _LINE_MARKDOWN, (line, text)


def visible(text: str) -> str:
    """Return rendered markdown as a reader sees it: escapes undone, bold and breaks gone."""
    pieces = re.findall(r"\\[^0-9A-Za-z\s]|\*\*|.", text, re.DOTALL)
    shown = (p[1:] if len(p) == 2 and p[0] == "\\" else "" if p == "**" else p for p in pieces)
    return "".join(shown).replace("\u200b", "")


def first_citation(embed: dict[str, Any]) -> str:
    """Return the citation id of the first passage of an answer embed, as a reader sees it."""
    lines = visible(str(embed["description"])).split("\n")
    # A follow-up's answer first says which question it was read with.
    first_line = next(line for line in lines if line and not line.startswith("(read with"))
    assert first_line.startswith("["), embed
    return first_line[1 : first_line.index("]")]
