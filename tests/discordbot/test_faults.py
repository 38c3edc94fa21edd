"""Faults between the bot and Discord: every question still gets exactly one answer.

Rate limits, server errors (before and after Discord did the work), gateway drops, op 7
RECONNECT, op 9 INVALID_SESSION and a slow engine, all through FakeDiscord.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import discord
import discord.http
import discord.webhook.async_
import pytest
import pytest_asyncio

from bot.answer.engine import Engine
from bot.answer.followup import FollowUp
from bot.answer.models import Answer
from bot.discordbot import notices
from bot.discordbot.client import QABot
from tests.discordbot.conftest import BotStarter
from tests.discordbot.helpers import (
    assert_pings_nobody,
    embed_of,
    logged_questions,
    replies,
    shown_messages,
    slash,
)
from tests.fakediscord import FakeDiscord, FakeInteraction

QUESTION = "why is NK courting ASEAN?"
MESSAGES = r"^/channels/\d+/messages$"
CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
ORIGINAL = r"^/webhooks/\d+/[^/]+/messages/@original$"
LONG = 60.0  # generous waits (caps, not targets): a reconnect backs off up to 2 s, a 5xx retry sleeps 1 s


class _ShortRetryPauses:
    """The asyncio module, except that sleep() lasts a fiftieth of what is asked."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(delay / 50, result)


@pytest.fixture
def short_retry_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep discord.py's five attempts after a 5xx but not its 25 s of pauses between them."""
    shim = _ShortRetryPauses()
    monkeypatch.setattr(discord.http, "asyncio", shim)
    monkeypatch.setattr(discord.webhook.async_, "asyncio", shim)


class SlowEngine:
    """An engine whose answers take `seconds` of blocking work, as on a large corpus."""

    def __init__(self, engine: Engine, seconds: float, fake: FakeDiscord) -> None:
        self.engine = engine
        self.seconds = seconds
        self.fake = fake
        self.articles = engine.articles
        self.heartbeats_during: list[int] = []  # heartbeats the fake got during each answer
        self.started = threading.Event()

    def answer(
        self, question: str, k: int = 3, offset: int = 0, previous: FollowUp | None = None
    ) -> Answer:
        before = self.fake.heartbeat_count
        self.started.set()
        time.sleep(self.seconds)  # blocks its thread, like CPU-bound retrieval would
        self.heartbeats_during.append(self.fake.heartbeat_count - before)
        return self.engine.answer(question, k, offset, previous=previous)


@dataclass
class Counted:
    """The running bot, how often its setup_hook ran, and its listeners when it started."""

    bot: QABot
    setup_calls: list[int]
    listeners: dict[str, int]


def listeners(bot: QABot) -> dict[str, int]:
    """Count the event listeners discord.py would call, by event."""
    return {event: len(funcs) for event, funcs in bot.extra_events.items()}


@pytest_asyncio.fixture
async def counted_bot(
    start_bot: BotStarter, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Counted]:
    """Run the bot (cooldown off) and count how often its setup_hook runs."""
    calls: list[int] = []
    original = QABot.setup_hook

    async def counting(self: QABot) -> None:
        calls.append(1)
        await original(self)

    monkeypatch.setattr(QABot, "setup_hook", counting)
    async with start_bot(cooldown_questions=0) as running:
        yield Counted(running, calls, listeners(running))


_records: list[logging.LogRecord] = []


@pytest.fixture(autouse=True)
def questions_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture the bot's log: one line per question handled, and errors with their ids."""
    with caplog.at_level(logging.INFO, logger="bot.discordbot"):
        _records[:] = []
        handler = _ListHandler()
        logging.getLogger("bot.discordbot").addHandler(handler)
        try:
            yield caplog
        finally:
            logging.getLogger("bot.discordbot").removeHandler(handler)


class _ListHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _records.append(record)


def handled(question_id: int | str) -> bool:
    """Tell whether the bot has finished with a question: answered, refused or failed."""
    if any(found == int(question_id) for _, found, _ in logged_questions(_records)):
        return True
    return any(f"={question_id} " in r.getMessage() + " " for r in _records if r.levelno >= 30)


def mention(fake: FakeDiscord) -> str:
    return f"<@{fake.bot_user.id}> {QUESTION}"


async def ask_in_channel(fake: FakeDiscord, channel_id: int | None = None) -> dict[str, Any]:
    world = fake.world
    assert world is not None
    return await fake.user_sends_message(channel_id or world.channel_id, world.alice, mention(fake))


async def one_reply(fake: FakeDiscord, sent: dict[str, Any], timeout: float = LONG) -> Any:
    """Wait until the bot is done with a message, then check it got exactly one reply."""
    await fake.wait_for(
        lambda: handled(sent["id"]) and replies(fake, sent["id"]), timeout, "a reply"
    )
    found = replies(fake, sent["id"])
    assert len(found) == 1, found
    return found[0]


async def one_answer(fake: FakeDiscord, inter: FakeInteraction, timeout: float = LONG) -> Any:
    """Wait until the bot is done with an interaction, then check the user sees one message."""
    await fake.wait_for_interaction_done(inter, timeout=timeout)
    await fake.wait_for(lambda: handled(inter.id), timeout, "the bot to finish")
    shown = shown_messages(fake, inter)
    assert len(shown) == 1, shown
    assert not fake.interaction_failed(inter)
    return shown[0]


def assert_answer(message: dict[str, Any]) -> None:
    assert embed_of(message)["title"] == QUESTION
    assert str(embed_of(message)["description"]).startswith("**\\[")


def assert_handled_once(records: list[logging.LogRecord], *ids: int | str) -> None:
    """Check that the bot's handler ran exactly once for each question id."""
    handled = [question_id for _, question_id, _ in logged_questions(records)]
    for question_id in ids:
        assert handled.count(int(question_id)) == 1, (question_id, handled)


# Rate limits and server errors


async def test_rate_limited_reply_is_retried_and_arrives_once(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    fake_discord.fail_next("POST", MESSAGES, 429, retry_after=0.3, times=2)
    sent = await ask_in_channel(fake_discord)
    dm = await fake_discord.user_sends_message(
        fake_discord.dm_channel_for(world.bob), world.bob, QUESTION
    )
    assert_answer(await one_reply(fake_discord, sent))
    assert_answer(await one_reply(fake_discord, dm))
    assert sum(r.injected for r in fake_discord.requests_matching("POST", MESSAGES)) == 2
    assert_pings_nobody(fake_discord)


async def test_rate_limited_interaction_callback_and_edit_still_answer_once(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    fake_discord.fail_next("POST", CALLBACK, 429, retry_after=0.5)
    fake_discord.fail_next("PATCH", ORIGINAL, 429, retry_after=0.3)
    inter, _ = await slash(fake_discord, "ask", {"question": QUESTION})
    assert_answer(await one_answer(fake_discord, inter))
    assert statuses(fake_discord, "POST", CALLBACK) == [429, 200]  # the defer, retried in time
    assert statuses(fake_discord, "PATCH", ORIGINAL) == [429, 200]


async def test_server_errors_on_sending_are_retried(bot: QABot, fake_discord: FakeDiscord) -> None:
    fake_discord.fail_next("POST", MESSAGES, 500)
    fake_discord.fail_next("POST", CALLBACK, 502)
    fake_discord.fail_next("PATCH", ORIGINAL, 502)
    sent = await ask_in_channel(fake_discord)
    inter = await fake_discord.user_runs_slash_command(
        "ask", {"question": QUESTION}, fake_discord.world.bob, sent_channel(fake_discord)
    )
    assert_answer(await one_reply(fake_discord, sent))
    assert_answer(await one_answer(fake_discord, inter))
    assert statuses(fake_discord, "POST", MESSAGES) == [500, 200]
    assert statuses(fake_discord, "POST", CALLBACK) == [502, 200]
    assert statuses(fake_discord, "PATCH", ORIGINAL) == [502, 200]


def statuses(fake: FakeDiscord, method: str, path: str) -> list[int | None]:
    return [r.status for r in fake.requests_matching(method, path)]


def sent_channel(fake: FakeDiscord) -> int:
    assert fake.world is not None
    return fake.world.channel_id


async def test_lost_responses_do_not_post_an_answer_twice(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    # Discord did the work, but the bot was told 5xx and retried: the retry must not repeat it.
    fake_discord.fail_next("POST", MESSAGES, 502, after_effect=True)
    fake_discord.fail_next("POST", CALLBACK, 500, after_effect=True)
    sent = await ask_in_channel(fake_discord)
    inter = await fake_discord.user_runs_slash_command(
        "ask", {"question": QUESTION}, fake_discord.world.bob, sent_channel(fake_discord)
    )
    assert_answer(await one_reply(fake_discord, sent))
    assert fake_discord.nonce_hits == 1  # the retried send got the first message back
    assert_answer(await one_answer(fake_discord, inter))
    assert fake_discord.interaction(inter).rejected[0]["error"]["code"] == 40060

    fake_discord.fail_next("PATCH", ORIGINAL, 502, after_effect=True)
    inter, _ = await slash(fake_discord, "ask", {"question": QUESTION})
    assert_answer(await one_answer(fake_discord, inter))
    assert len(fake_discord.requests_matching("PATCH", ORIGINAL)) == 3  # 2 + 1 retry


async def test_a_send_that_finally_fails_is_logged_with_ids_and_apologised_for(
    bot: QABot,
    fake_discord: FakeDiscord,
    short_retry_pauses: None,
    questions_log: pytest.LogCaptureFixture,
) -> None:
    fake_discord.fail_next("POST", MESSAGES, 502, times=5)  # every attempt discord.py makes
    sent = await ask_in_channel(fake_discord)
    reply = await one_reply(fake_discord, sent)
    assert reply["content"] == notices.APOLOGY
    assert len(fake_discord.requests_matching("POST", MESSAGES)) == 6  # 5 tries + apology

    fake_discord.fail_next("PATCH", ORIGINAL, 500, times=5)
    inter, _ = await slash(fake_discord, "ask", {"question": QUESTION})
    shown = await one_answer(fake_discord, inter)
    assert shown["content"] == notices.APOLOGY and not shown["embeds"]

    errors = [r for r in questions_log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2
    assert f"message={sent['id']}" in errors[0].getMessage()
    assert f"channel={sent['channel_id']}" in errors[0].getMessage()
    assert f"interaction={inter.id}" in errors[1].getMessage()
    assert all(r.exc_info for r in errors)  # with the DiscordServerError behind it
    assert_pings_nobody(fake_discord)


async def test_an_answer_whose_confirmations_were_all_lost_is_not_followed_by_an_apology(
    bot: QABot, fake_discord: FakeDiscord, short_retry_pauses: None
) -> None:
    # Each of the five attempts reaches Discord, but every response is a 502: the bot thinks
    # sending failed. Its apology carries the question's nonce, so Discord hands back the
    # answer it already has instead of posting "sorry" under it.
    fake_discord.fail_next("POST", MESSAGES, 502, times=5, after_effect=True)
    sent = await ask_in_channel(fake_discord)
    # The answer shows after the first attempt; the retries and the apology come after it.
    await fake_discord.wait_for(lambda: fake_discord.nonce_hits >= 5, LONG, "the apology")
    assert_answer(await one_reply(fake_discord, sent))
    assert fake_discord.nonce_hits == 5  # four retries and the apology


async def test_two_processes_with_one_token_reply_once(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    # A common self-hosting slip: the bot started twice (say by systemd and by hand).
    async with start_bot(cooldown_questions=0), start_bot(cooldown_questions=0):
        assert len(fake_discord.sessions) == 2
        sent = await ask_in_channel(fake_discord)
        inter = await fake_discord.user_runs_slash_command(
            "ask", {"question": QUESTION}, world.bob, world.channel_id
        )
        await fake_discord.wait_for(lambda: fake_discord.nonce_hits == 1, LONG, "both replies")
        assert_answer(await one_reply(fake_discord, sent))
        await fake_discord.wait_for_interaction_done(inter, timeout=LONG)
        await fake_discord.wait_for(
            lambda: len(fake_discord.requests_matching("PATCH", ORIGINAL)) == 2, LONG, "both"
        )
        shown = shown_messages(fake_discord, inter)
        assert len(shown) == 1 and not fake_discord.interaction_failed(inter)
        assert_answer(shown[0])


async def test_when_even_the_apology_fails_the_bot_logs_it_and_keeps_answering(
    bot: QABot,
    fake_discord: FakeDiscord,
    short_retry_pauses: None,
    questions_log: pytest.LogCaptureFixture,
) -> None:
    fake_discord.fail_next("POST", MESSAGES, 502, times=10)
    sent = await ask_in_channel(fake_discord)
    await fake_discord.wait_for(
        lambda: any("Could not send the apology" in r.getMessage() for r in questions_log.records),
        LONG,
        "the apology failing",
    )
    assert replies(fake_discord, sent["id"]) == []
    again = await ask_in_channel(fake_discord)
    assert_answer(await one_reply(fake_discord, again))


# The gateway


async def test_question_during_a_dropped_gateway_is_answered_once_after_resume(
    counted_bot: Counted,
    fake_discord: FakeDiscord,
    questions_log: pytest.LogCaptureFixture,
) -> None:
    world = fake_discord.world
    assert world is not None
    await fake_discord.drop_gateway()  # TCP abort: the bot sees 1006 and resumes
    during = await ask_in_channel(fake_discord)
    await fake_discord.wait_for(lambda: fake_discord.resume_count >= 1, LONG, "a RESUME")
    assert_answer(await one_reply(fake_discord, during))
    assert fake_discord.replayed_event_count >= 1
    after = await ask_in_channel(fake_discord)
    assert_answer(await one_reply(fake_discord, after))
    assert_handled_once(questions_log.records, during["id"], after["id"])
    assert_not_set_up_again(counted_bot, fake_discord, identifies=1)


def assert_not_set_up_again(counted: Counted, fake: FakeDiscord, *, identifies: int) -> None:
    world = fake.world
    assert world is not None
    assert fake.identify_count == identifies
    assert len(counted.setup_calls) == 1
    assert listeners(counted.bot) == counted.listeners
    assert fake.bulk_overwrite_calls == {world.guild_id: 1}  # commands synced once
    commands = sorted(c.name for c in counted.bot.tree.get_commands())
    assert commands == ["ask", "help", "qa", "reload", "sources"]


async def test_op7_reconnect_resumes_and_answers_each_question_once(
    counted_bot: Counted,
    fake_discord: FakeDiscord,
    questions_log: pytest.LogCaptureFixture,
) -> None:
    world = fake_discord.world
    assert world is not None
    await fake_discord.send_reconnect()
    # Sent while the bot reconnects: delivered on the old socket or replayed, never both.
    sent = await ask_in_channel(fake_discord)
    inter = await fake_discord.user_runs_slash_command(
        "ask", {"question": QUESTION}, world.bob, world.channel_id
    )
    await fake_discord.wait_for(lambda: fake_discord.resume_count >= 1, LONG, "a RESUME")
    assert_answer(await one_reply(fake_discord, sent))
    assert_answer(await one_answer(fake_discord, inter))
    assert_handled_once(questions_log.records, sent["id"], inter.id)
    assert_not_set_up_again(counted_bot, fake_discord, identifies=1)


@pytest.mark.parametrize("resumable", [True, False])
async def test_op9_invalid_session_resumes_or_identifies_without_doubling_handlers(
    counted_bot: Counted,
    fake_discord: FakeDiscord,
    questions_log: pytest.LogCaptureFixture,
    resumable: bool,
) -> None:
    world = fake_discord.world
    assert world is not None
    await fake_discord.send_invalid_session(resumable=resumable)
    if resumable:
        await fake_discord.wait_for(lambda: fake_discord.resume_count >= 1, LONG, "a RESUME")
    else:
        await fake_discord.wait_for(lambda: fake_discord.identify_count == 2, LONG, "IDENTIFY")
    await fake_discord.wait_until_connected(LONG)
    sent = await ask_in_channel(fake_discord)
    inter, _ = await slash(fake_discord, "ask", {"question": QUESTION}, user=world.bob)
    assert_answer(await one_reply(fake_discord, sent))
    assert_answer(await one_answer(fake_discord, inter))
    assert_handled_once(questions_log.records, sent["id"], inter.id)
    assert_not_set_up_again(counted_bot, fake_discord, identifies=1 if resumable else 2)


async def test_an_answer_in_progress_survives_a_gateway_drop(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    slow = SlowEngine(engine, 1.0, fake_discord)
    bot.engine = slow  # type: ignore[assignment]
    sent = await ask_in_channel(fake_discord)
    await asyncio.to_thread(slow.started.wait, LONG)
    await fake_discord.drop_gateway()  # answers go over REST, which is unaffected
    assert_answer(await one_reply(fake_discord, sent))
    await fake_discord.wait_for(lambda: fake_discord.resume_count >= 1, LONG, "a RESUME")


# A slow engine


async def test_slow_answers_are_acknowledged_in_time_and_heartbeats_keep_flowing(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    world = fake_discord.world
    assert world is not None
    slow = SlowEngine(engine, 4.0, fake_discord)
    bot.engine = slow  # type: ignore[assignment]
    heartbeats_before = fake_discord.heartbeat_count
    inter = await fake_discord.user_runs_slash_command(
        "ask", {"question": QUESTION}, world.alice, world.channel_id
    )
    dm = await fake_discord.user_sends_message(
        fake_discord.dm_channel_for(world.bob), world.bob, QUESTION
    )
    # The fake refuses a callback more than 3 s after the interaction: deferring comes first.
    assert_answer(await one_answer(fake_discord, inter, timeout=LONG))
    assert fake_discord.interaction_responses(inter)[0]["type"] == 5
    assert_answer(await one_reply(fake_discord, dm))
    # Both 4 s answers ran in the engine's threads while the loop kept the gateway alive: the
    # fake got heartbeats (500 ms apart) during each. Run on the loop, they would see none.
    assert len(slow.heartbeats_during) == 2
    assert all(n >= 2 for n in slow.heartbeats_during), slow.heartbeats_during
    assert fake_discord.heartbeat_count - heartbeats_before >= 4
    assert fake_discord.identify_count == 1 and fake_discord.resume_count == 0  # no zombie
    # Heartbeats were ACKed (discord.py's latency stays infinite until one is). How long the
    # round trip took is the machine's load, not the bot's behaviour: no bound on it here.
    assert math.isfinite(bot.latency)
