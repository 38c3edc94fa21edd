"""A burst of 300 questions from 20 users over three channels, DMs and /ask, with a cooldown.

Every question is handled exactly once: answered, or refused by the cooldown as documented
(docs/self-hosting.md): a slash command over the limit always gets a private notice; a
mention or DM gets one notice per cooldown window and later ones in that window are ignored,
so nobody can make the bot spam a channel. Nothing is lost, nothing answered twice, and the
answer store stays within its capacity.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from bot.answer.engine import Engine
from bot.discordbot.answers_store import AnswerStore
from bot.discordbot.client import make_bot
from bot.discordbot.sync_state import SyncState
from tests.discordbot.conftest import settings_for
from tests.discordbot.helpers import (
    assert_pings_nobody,
    bot_messages,
    embed_of,
    is_ephemeral,
    logged_questions,
    shown_messages,
)
from tests.fakediscord import FakeDiscord, running_client
from tests.fakediscord.crowd import SLASH, ask_all, plan

USERS = 20
PER_USER = 15  # 300 questions
ALLOWED = 12  # per user in the window: 3 of each user's 15 are over the limit
STORE_CAPACITY = 50
QUESTIONS = [
    "why is NK courting ASEAN?",
    "how many senior-level exchanges were there?",
    "when did the North hold its third nuclear test?",
    "How do I bake sourdough bread?",  # not found
    "hi there",  # usage hint
    "what did the government say on Thursday?",
]
ANSWERED = {"answered", "not_found", "usage"}  # the engine's outcomes
REFUSED = {"cooldown", "refused"}  # a message / a slash command over the limit


async def test_a_burst_of_300_questions_is_handled_exactly_once(
    fake_discord: FakeDiscord,
    engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = fake_discord.world
    assert world is not None
    channels = [
        world.channel_id,
        fake_discord.add_text_channel(world.guild_id, "news"),
        fake_discord.add_text_channel(world.guild_id, "questions"),
    ]
    users = [world.alice, world.bob]
    users += [fake_discord.add_user(f"user{i}") for i in range(USERS - 2)]
    settings = settings_for(fake_discord, cooldown_questions=ALLOWED, cooldown_seconds=3600)
    store = AnswerStore(capacity=STORE_CAPACITY)
    bot = make_bot(settings, engine, store=store, sync_state=SyncState(tmp_path / "state"))
    questions = plan(fake_discord, users, channels, QUESTIONS, PER_USER)
    assert len(questions) == 300
    assert Counter(q.kind for q in questions) == {"mention": 150, "dm": 75, "slash": 75}

    with caplog.at_level(logging.INFO, logger="bot.discordbot"):
        async with running_client(bot, fake_discord):
            asked = await ask_all(fake_discord, questions)
            await fake_discord.wait_for(
                lambda: len(logged_questions(caplog.records)) >= len(asked), 60.0, "300 handled"
            )
            for item in asked:
                if item.interaction is not None:
                    await fake_discord.wait_for_interaction_done(item.interaction, timeout=10)
            logged = logged_questions(caplog.records)

    # Handled exactly once each: none lost, none twice.
    ids = [question_id for _, question_id, _ in logged]
    assert sorted(ids) == sorted(a.id for a in asked)
    status = {question_id: outcome for _, question_id, outcome in logged}
    assert set(status.values()) <= ANSWERED | REFUSED
    by_id = {a.id: a for a in asked}

    # The cooldown lets exactly ALLOWED questions per user through; both paths occurred.
    allowed = Counter(by_id[i].question.user.id for i, s in status.items() if s in ANSWERED)
    assert allowed == dict.fromkeys((u.id for u in users), ALLOWED)

    # What each user saw, in the order the bot handled their questions.
    replied: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for message in bot_messages(fake_discord):
        reference = message.get("message_reference") or {}
        if reference.get("message_id") is not None:
            replied[int(reference["message_id"])].append(message)
    refused_before: defaultdict[int, int] = defaultdict(int)
    notices = silent = 0
    for _, question_id, outcome in logged:
        item = by_id[question_id]
        user = item.question.user.id
        if item.interaction is not None:
            shown = shown_messages(fake_discord, item.interaction)
            assert len(shown) == 1, shown  # one message, whatever happened
            assert not fake_discord.interaction_failed(item.interaction)  # within 3 s
            if outcome in REFUSED:
                assert is_ephemeral(shown[0]) and "ask again <t:" in shown[0]["content"]
            else:
                assert embed_of(shown[0])["title"]
        else:
            sent = replied[question_id]
            if outcome in ANSWERED:
                assert len(sent) == 1 and embed_of(sent[0])["title"], sent
            elif refused_before[user] == 0:  # the first refusal in the window: told once
                assert len(sent) == 1 and "you can ask again <t:" in sent[0]["content"]
                notices += 1
            else:  # later ones in the same window: ignored on purpose
                assert sent == []
                silent += 1
        if outcome in REFUSED:
            refused_before[user] += 1
    assert notices > 0 and silent > 0
    assert sum(1 for a in asked if a.question.kind == SLASH and status[a.id] in REFUSED) > 0
    assert_pings_nobody(fake_discord)

    # Bounded state: the answer store keeps its capacity, the cooldown one entry per user.
    assert sum(1 for outcome in status.values() if outcome == "answered") > STORE_CAPACITY
    assert len(store) == STORE_CAPACITY
    assert len(bot.cooldown._asked) == USERS
