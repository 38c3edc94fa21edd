"""Follow-up questions through FakeDiscord: replies to answers, threads under them, DMs.

The exchanges come from eval/followup_questions.jsonl; each is one the engine answers right
with the previous question in view and wrongly (or not at all) without it, checked below
against the engine itself so the test shows the context made the difference.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.answer.engine import Engine
from bot.answer.followup import FollowUp
from bot.answer.models import Answer, Status
from bot.discordbot.answers_store import AnswerStore, StoredAnswer
from bot.discordbot.client import QABot
from bot.discordbot.embeds import READ_WITH
from tests.discordbot.conftest import BotStarter
from tests.discordbot.helpers import (
    button_ids,
    embed_of,
    final_message,
    first_citation,
    reply_to,
    slash,
)
from tests.fakediscord import FakeDiscord

# f02: the reply names neither the test nor the sanctions.
NUCLEAR = "when was the third nuclear test?"
PUNISHED = "who punished the North for it?"
# f17: without context the best match is about China (7.1), not Indonesia (3.1-3.2).
SYSTEMS = "which countries share similar political systems with North Korea?"
LATELY = "and which country has it cooperated more with lately?"
# f21
SLAPPED = "who slapped sanctions on the North?"
DESPITE = "despite what?"


def top(answer: Answer) -> str | None:
    return answer.passages[0].citation if answer.passages else None


async def mention(
    fake: FakeDiscord, channel_id: int, user: Any, question: str, reply_to_id: int | None = None
) -> dict[str, Any]:
    """Ask the bot in a channel (mentioning it) and return its reply message."""
    sent = await fake.user_sends_message(
        channel_id, user, f"<@{fake.bot_user.id}> {question}", reply_to=reply_to_id
    )
    reply: dict[str, Any] = await reply_to(fake, sent["id"])
    return reply


async def answer_then_reply(
    fake: FakeDiscord, question: str, follow_up: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Have Alice ask in the channel and Bob reply to the answer; return both embeds."""
    world = fake.world
    assert world is not None
    answer = await mention(fake, world.channel_id, world.alice, question)
    # Bob replies to the bot's answer, pinging it as a reply does by default.
    sent = await fake.user_sends_message(
        world.channel_id, world.bob, follow_up, reply_to=int(answer["id"])
    )
    return embed_of(answer), embed_of(await reply_to(fake, sent["id"]))


async def test_a_reply_to_an_answer_is_read_as_a_follow_up(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    first = engine.answer(NUCLEAR)
    assert top(first) == "5.1"
    assert engine.answer(PUNISHED).status is Status.NOT_FOUND  # on its own
    assert top(engine.answer(PUNISHED, previous=FollowUp.from_answer(first))) == "5.1"

    answer, reply = await answer_then_reply(fake_discord, NUCLEAR, PUNISHED)
    assert first_citation(answer) == "5.1"
    assert reply["title"] == PUNISHED
    assert first_citation(reply) == "5.1"

    # The same words asked afresh, not as a reply, are read on their own.
    world = fake_discord.world
    assert world is not None
    fresh = embed_of(await mention(fake_discord, world.channel_id, world.bob, PUNISHED))
    assert "say" in fresh["description"]  # not found


async def test_a_question_in_a_thread_under_an_answer_continues_it(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    first = engine.answer(SYSTEMS)
    # Alone it is read alone (the reranker finds 3.1 either way); after the answer, with it.
    assert engine.answer(LATELY).read_with is None
    together = engine.answer(LATELY, previous=FollowUp.from_answer(first))
    assert together.read_with == SYSTEMS and top(together) == "3.1-3.2"

    world = fake_discord.world
    assert world is not None
    answer = await mention(fake_discord, world.channel_id, world.alice, SYSTEMS)
    # A thread started on the answer has the answer's id.
    thread_id = fake_discord.add_thread(world.channel_id, "follow-ups", thread_id=int(answer["id"]))
    await fake_discord.wait_for(
        lambda: isinstance(bot.get_channel(thread_id), discord.Thread), 5.0, "thread cached"
    )
    reply = embed_of(await mention(fake_discord, thread_id, world.bob, LATELY))
    assert first_citation(reply) == "3.1-3.2"
    assert reply["description"].startswith(f"(read with your previous question: {SYSTEMS})")


async def test_slash_ask_in_a_thread_continues_the_latest_answer_there(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    assert top(engine.answer(DESPITE)) != "5.1"
    assert top(engine.answer(DESPITE, previous=FollowUp.from_answer(engine.answer(SLAPPED)))) == (
        "5.1"
    )
    world = fake_discord.world
    assert world is not None
    thread_id = fake_discord.add_thread(world.channel_id, "questions")
    await fake_discord.wait_for(
        lambda: isinstance(bot.get_channel(thread_id), discord.Thread), 5.0, "thread cached"
    )
    await mention(fake_discord, thread_id, world.alice, SLAPPED)  # the latest answer there
    _, responses = await slash(fake_discord, "ask", {"question": DESPITE}, channel_id=thread_id)
    assert first_citation(embed_of(final_message(responses))) == "5.1"
    # In the channel itself there is no conversation to continue.
    _, responses = await slash(fake_discord, "ask", {"question": DESPITE})
    assert first_citation(embed_of(final_message(responses))) != "5.1"


async def test_direct_messages_are_a_conversation(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    world = fake_discord.world
    assert world is not None
    dm = fake_discord.dm_channel_for(world.alice)
    await fake_discord.user_sends_message(dm, world.alice, NUCLEAR)
    await fake_discord.wait_for_bot_message(dm)
    sent = await fake_discord.user_sends_message(dm, world.alice, PUNISHED)
    assert first_citation(embed_of(await reply_to(fake_discord, sent["id"]))) == "5.1"


async def test_more_pages_through_the_follow_up_reading(
    start_bot: BotStarter, fake_discord: FakeDiscord, engine: Engine
) -> None:
    k = 1  # the follow-up reading finds two passages: one per page
    context = FollowUp.from_answer(engine.answer(NUCLEAR))
    expected = engine.answer(PUNISHED, k, offset=k, previous=context)
    assert expected.passages and not engine.answer(PUNISHED, k, offset=k).passages

    world = fake_discord.world
    assert world is not None
    async with start_bot(answer_k=k, cooldown_questions=0):
        answer = await mention(fake_discord, world.channel_id, world.alice, NUCLEAR)
        reply = await mention(
            fake_discord, world.channel_id, world.alice, PUNISHED, reply_to_id=int(answer["id"])
        )
        more = button_ids(reply)[1]
        click = await fake_discord.user_clicks_button(int(reply["id"]), more, world.alice)
        page = embed_of(final_message(await fake_discord.wait_for_interaction_done(click)))
        assert first_citation(page) == expected.passages[0].citation


async def test_a_reply_to_a_forgotten_answer_is_read_on_its_own(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    answer = await mention(fake_discord, world.channel_id, world.alice, NUCLEAR)
    bot.store.clear()  # as after a restart, or once the answer left the bounded store
    reply = await mention(
        fake_discord, world.channel_id, world.bob, PUNISHED, reply_to_id=int(answer["id"])
    )
    embed = embed_of(reply)
    assert embed["title"] == PUNISHED and "say" in embed["description"]  # not found


# The store's links


def stored(question: str = "q") -> StoredAnswer:
    return StoredAnswer.of(Answer(question, Status.ANSWERED), 3, 1, False)


def test_links_lead_to_remembered_answers_only() -> None:
    store = AnswerStore(capacity=2)
    a = store.add(stored("a"))
    store.link(a, message_id=10, conversation_id=20)
    found = store.for_message(10)
    assert found is not None and found.answer.question == "a"
    assert store.for_conversation(20) is found
    assert store.for_conversation(10) is found  # a thread started on the answer's message
    b = store.add(stored("b"))
    store.link(b, message_id=11, conversation_id=20)
    latest = store.for_conversation(20)
    assert latest is not None and latest.answer.question == "b"
    store.add(stored("c"))
    store.add(stored("d"))  # a and b are forgotten
    assert store.for_message(10) is None and store.for_conversation(20) is None
    store.link("gone", message_id=12)  # an answer no longer stored is not linked
    assert store.for_message(12) is None


def test_links_stay_within_their_bound() -> None:
    store = AnswerStore(capacity=3)
    for i in range(50):
        answer_id = store.add(stored())
        store.link(answer_id, message_id=1000 + i, conversation_id=i)
    assert len(store) == 3
    assert len(store._links) <= 2 * store.capacity
    assert store.for_message(1049) is not None and store.for_message(1000) is None


def test_a_follow_up_is_kept_with_answered_answers_only() -> None:
    previous = FollowUp("when was the third nuclear test?", ("5.1",))
    answered = StoredAnswer.of(Answer(PUNISHED, Status.ANSWERED), 3, 1, False, previous)
    assert answered.context is previous
    assert answered.follow_up is not None and answered.follow_up.question == PUNISHED
    assert answered.follow_up.context == previous.question  # one level of history
    declined = StoredAnswer.of(Answer(PUNISHED, Status.NOT_FOUND), 3, 1, False, previous)
    assert declined.follow_up is None


async def test_a_reply_to_a_slash_answer_is_read_as_a_follow_up(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    _, responses = await slash(fake_discord, "ask", {"question": NUCLEAR})
    answer = final_message(responses)
    sent = await fake_discord.user_sends_message(
        world.channel_id, world.bob, PUNISHED, reply_to=int(answer["id"])
    )
    assert first_citation(embed_of(await reply_to(fake_discord, sent["id"]))) == "5.1"


# f43: a bare "why not?" after a claim that gives no reason.
EXPECT = "does Seoul expect Kim Jong-un to visit China?"
WHY_NOT = "why not?"


async def test_a_reply_asking_why_shows_the_reading_and_the_claim_with_its_reason(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    assert engine.answer(WHY_NOT).status is Status.USAGE  # on its own
    answer, reply = await answer_then_reply(fake_discord, EXPECT, WHY_NOT)
    assert first_citation(answer) == "12.1"
    assert reply["description"].startswith(f"{READ_WITH}{EXPECT})\n\n")
    # The official's next words ('"...no real evidence...," he said.') give the reason.
    assert first_citation(reply) == "12.1-13.1"
