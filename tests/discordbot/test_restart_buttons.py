"""Buttons on filtered and follow-up answers after a restart, through FakeDiscord.

A new process remembers no answer; it reads what the recomputation needs (the filter, the
question an answer was read with, the passages per page) from the state database, and the
question texts from the message itself unless the server keeps question text.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.answer.followup import FollowUp
from bot.discordbot.cogs.buttons import ARTICLE_CHANGED_NOTICE
from bot.discordbot.notices import EXPIRED_NOTICE
from bot.live import LiveEngine
from tests.discordbot.helpers import embed_of, first_citation, is_ephemeral, reply_to, visible
from tests.discordbot.test_followups import NUCLEAR, PUNISHED
from tests.discordbot.test_guilds import TUNNEL_QUESTION, Servers, click, run, text_of
from tests.discordbot.test_redis import LONG_QUESTION
from tests.fakediscord import FakeDiscord

LONG = LONG_QUESTION
LONG_TUNNEL = TUNNEL_QUESTION + " Please say when the Plimbo tunnel closes for its repairs." * 5


@pytest.fixture
def servers(fake_discord: FakeDiscord, tmp_path: Path) -> Servers:
    return Servers(fake_discord, tmp_path)


async def mention(servers: Servers, question: str, reply_to_id: int | None = None) -> dict:
    fake = servers.fake
    sent = await fake.user_sends_message(
        servers.a_channel, servers.alice, f"<@{fake.bot_user.id}> {question}", reply_to=reply_to_id
    )
    reply: dict = await reply_to(fake, sent["id"], timeout=20.0)
    return reply


def kept_texts(servers: Servers) -> list[tuple[object, ...]]:
    with sqlite3.connect(servers.tmp / "state.sqlite3") as db:
        return db.execute("SELECT question, previous, previous_context FROM answers").fetchall()


async def test_a_filtered_answer_s_buttons_work_after_a_restart(servers: Servers) -> None:
    fake = servers.fake
    options = {"question": TUNNEL_QUESTION, "article": "bridge"}
    async with servers.running():
        answer = await run(fake, "ask", options, servers.alice, servers.b_channel)
        assert "Zorblat" in text_of(answer) and "closes in July" not in text_of(answer)
        first = first_citation(embed_of(answer))
        # Without the filter the same question cites the other article: the filter matters.
        unfiltered = await run(
            fake, "ask", {"question": TUNNEL_QUESTION}, servers.alice, servers.b_channel
        )
        assert "closes in July" in text_of(unfiltered)
    async with servers.running():  # a new process: the filter comes from the state database
        context = await click(fake, answer, "ctx", servers.alice)
        assert is_ephemeral(context) and first_citation(embed_of(context)) == first
        assert "Zorblat" in text_of(context) and "closes in July" not in text_of(context)


async def test_a_follow_up_answer_s_buttons_work_after_a_restart(servers: Servers) -> None:
    k = 1  # the follow-up reading has a second page; the question alone has none
    engine = LiveEngine(servers.tmp / "a").engine
    expected = engine.answer(
        PUNISHED, k, offset=k, previous=FollowUp.from_answer(engine.answer(NUCLEAR))
    )
    assert expected.passages and not engine.answer(PUNISHED, k, offset=k).passages

    async with servers.running(answer_k=k):
        first = await mention(servers, NUCLEAR)
        follow = await mention(servers, PUNISHED, reply_to_id=int(first["id"]))
        assert visible(embed_of(follow)["description"]).startswith("(read with")
    assert kept_texts(servers) == [(None, None, None)] * 2  # the server keeps no question text
    async with servers.running(answer_k=k):  # a new process
        page = await click(servers.fake, follow, "more", servers.alice)
        assert first_citation(embed_of(page)) == expected.passages[0].citation
        context = await click(servers.fake, follow, "ctx", servers.alice)
        assert first_citation(embed_of(context)) == first_citation(embed_of(follow))


async def test_question_text_kept_by_choice_serves_long_questions(servers: Servers) -> None:
    fake = servers.fake
    async with servers.running():
        await run(fake, "qa settings", {"store_questions": True}, servers.alice, servers.a_channel)
        answer = await run(fake, "ask", {"question": LONG}, servers.alice, servers.a_channel)
        assert embed_of(answer)["title"].endswith("…")  # the message cannot say the question
        plain = await run(fake, "ask", {"question": LONG_TUNNEL}, servers.alice, servers.b_channel)
        assert plain.get("components")
    assert sum(row[0] == LONG for row in kept_texts(servers)) == 1  # only where opted in
    async with servers.running():
        context = await click(fake, answer, "ctx", servers.alice)
        assert first_citation(embed_of(context)) == first_citation(embed_of(answer))
        # Server B keeps no question text: its long question cannot be recomputed.
        assert (await click(fake, plain, "ctx", servers.alice))["content"] == EXPIRED_NOTICE
        # Turning the choice off forgets the kept text.
        await run(fake, "qa settings", {"store_questions": False}, servers.alice, servers.a_channel)
    assert all(row == (None, None, None) for row in kept_texts(servers))


async def test_a_changed_article_is_still_said_after_a_restart(servers: Servers) -> None:
    fake = servers.fake
    options = {"question": TUNNEL_QUESTION, "article": "bridge"}
    async with servers.running():
        answer = await run(fake, "ask", options, servers.alice, servers.b_channel)
    bridge = servers.tmp / "b" / "bridge.md"
    bridge.write_text(bridge.read_text(encoding="utf-8") + "\nA new closing line.\n")
    async with servers.running():
        changed = await click(fake, answer, "ctx", servers.alice)
        assert changed["content"] == ARTICLE_CHANGED_NOTICE


def test_a_state_database_of_the_first_schema_is_migrated(tmp_path: Path) -> None:
    from bot.discordbot.state import _MIGRATIONS, SavedAnswer, StateDB

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(f"{_MIGRATIONS[1]} PRAGMA user_version = 1;")
        db.execute("INSERT INTO guild_settings VALUES (7, 'k', '2', 1, 0)")
    state = StateDB(path)
    assert state.guild_values(7) == {"k": 2}  # kept
    saved = SavedAnswer("abc", 7, 1.0, 2, 0, 5, False, {"article": "x"}, True, ("3.1",))
    state.save_answer(saved)
    assert state.saved_answer("abc") == saved
    assert state.forget_before(7, 2.0) == 1 and state.saved_answer("abc") is None
