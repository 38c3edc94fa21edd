"""Mention and markdown injection, end to end: in questions and in the articles themselves.

A corpus article carries @everyone, @here, role, user and channel mentions, a masked link, a
code fence, spoilers and a flood of zero-width joiners, and so do the questions. Whatever the
bot sends must ping nobody, stay within Discord's limits (the fake refuses anything else) and
show the text as written rather than let it restyle, link or hide anything.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.answer.engine import Engine
from bot.discordbot import app
from bot.discordbot.client import QABot, make_bot
from bot.discordbot.sync_state import SyncState
from tests.discordbot.conftest import settings_for
from tests.discordbot.fake_launcher import FAKE_TOKEN
from tests.discordbot.helpers import (
    assert_inert,
    assert_pings_nobody,
    bot_messages,
    button_ids,
    embed_of,
    final_message,
    reply_to,
    slash,
    visible,
)
from tests.fakediscord import FakeDiscord, running_client

ROLE, USER, CHANNEL = 111111111111111111, 222222222222222222, 333333333333333333
ZWJ_FLOOD = "\u200d" * 4000
HOSTILE = (
    f"@everyone @here <@&{ROLE}> <@{USER}> <@!{USER}> <#{CHANNEL}> [x](https://evil.example) "
    "```py print(1)``` ||spoiler|| **bold** __under__ ~~strike~~ `code` <t:1700000000:R>"
)
ARTICLE = f"""Envoy @everyone pings <@&{ROLE}> in ASEAN row

The envoy wrote @everyone and @here in the ASEAN minutes, pinging <@&{ROLE}>, <@{USER}> and <#{CHANNEL}> at once.

The envoy hid a masked link [click here](https://evil.example/steal) in the ASEAN sanctions report.

The envoy pasted a code fence ```py print("pwned") ``` into the ASEAN cable.

The envoy marked ||the secret ASEAN deal|| as a spoiler among **bold** __underlined__ ~~struck~~ words.

The envoy padded the ASEAN memo with joiners{ZWJ_FLOOD}between the words.

> The envoy quoted a line
# The envoy headed a line
-# The envoy whispered a line
"""
QUESTIONS = [
    f"what did the envoy write @everyone @here <@&{ROLE}> <@{USER}> <#{CHANNEL}>?",
    "which masked link [x](https://evil.example) did the envoy hide?",
    "what code fence did the envoy paste ```py print(1)```?",
    "what ||secret|| deal did the envoy mark as a **spoiler**?",
    f"what did the envoy pad the memo with{ZWJ_FLOOD}?",
    f"> # -# {HOSTILE} what did the envoy quote?",
]


@pytest_asyncio.fixture
async def hostile_bot(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[QABot]:
    """Run the bot over a corpus of one hostile article."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "envoy.txt").write_text(ARTICLE, encoding="utf-8")
    assert fake_discord.world is not None
    fake_discord.add_role(fake_discord.world.guild_id, "mods")
    settings = settings_for(fake_discord, corpus_dir=corpus, cooldown_questions=0)
    engine = Engine.from_folder(corpus)
    bot = make_bot(settings, engine, sync_state=SyncState(tmp_path / "state"))
    async with running_client(bot, fake_discord) as running:
        yield running


def assert_safe_embed(message: dict[str, Any], *, quote_lines: bool = False) -> dict[str, Any]:
    embed = embed_of(message)
    for part in (embed.get("title") or "", embed.get("description") or ""):
        assert_inert(part, quote_lines=quote_lines)
    return embed


async def test_hostile_questions_and_passages_by_slash_and_mention(
    hostile_bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    for question in QUESTIONS:
        _, responses = await slash(fake_discord, "ask", {"question": question})
        by_slash = assert_safe_embed(final_message(responses))
        sent = await fake_discord.user_sends_message(
            world.channel_id, world.alice, f"<@{fake_discord.bot_user.id}> {question}"
        )
        by_mention = assert_safe_embed(await reply_to(fake_discord, sent["id"]))
        assert by_mention["title"] == by_slash["title"]
        assert by_mention["description"] == by_slash["description"]
    assert_pings_nobody(fake_discord)
    for message in bot_messages(fake_discord):  # what Discord itself parsed out of them
        assert message["mentions"] == [] and message["mention_roles"] == []
        assert not message["mention_everyone"]


async def test_escaped_text_still_shows_what_was_written(
    hostile_bot: QABot, fake_discord: FakeDiscord
) -> None:
    _, responses = await slash(fake_discord, "ask", {"question": QUESTIONS[0]})
    embed = assert_safe_embed(final_message(responses))
    title = visible(embed["title"])
    assert f"@everyone @here <@&{ROLE}> <@{USER}> <#{CHANNEL}>" in title
    shown = visible(embed["description"])
    assert f"pinging <@&{ROLE}>, <@{USER}> and <#{CHANNEL}> at once" in shown

    _, responses = await slash(fake_discord, "ask", {"question": QUESTIONS[1]})
    shown = visible(assert_safe_embed(final_message(responses))["description"])
    assert "[click here](https://evil.example/steal)" in shown  # shown, not a hidden link

    _, responses = await slash(fake_discord, "ask", {"question": QUESTIONS[3]})
    shown = visible(assert_safe_embed(final_message(responses))["description"])
    assert "||the secret ASEAN deal||" in shown  # not a spoiler that hides it

    _, responses = await slash(fake_discord, "ask", {"question": QUESTIONS[4]})
    embed = assert_safe_embed(final_message(responses))
    assert "\u200d" not in embed["title"] + embed["description"]
    assert "joiners" in embed["description"]


async def test_hostile_answers_through_the_buttons_and_sources(
    hostile_bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    _, responses = await slash(fake_discord, "ask", {"question": "what did the envoy do?"})
    answer = final_message(responses)
    assert_safe_embed(answer)
    ctx_id, more_id = button_ids(answer)[:2]
    click = await fake_discord.user_clicks_button(int(answer["id"]), ctx_id, world.alice)
    context = final_message(await fake_discord.wait_for_interaction_done(click))
    assert_safe_embed(context, quote_lines=True)
    click = await fake_discord.user_clicks_button(int(answer["id"]), more_id, world.alice)
    assert_safe_embed(final_message(await fake_discord.wait_for_interaction_done(click)))
    _, responses = await slash(fake_discord, "sources")
    listing = embed_of(final_message(responses))["description"]
    # The article's hostile headline is escaped inside the bot's own bold link text.
    assert_inert(listing.replace("• ", "").replace(" — ", " "))
    assert f"@everyone pings <@&{ROLE}>" in visible(listing)


async def test_hostile_direct_messages(hostile_bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    dm = fake_discord.dm_channel_for(world.bob)
    for question in (HOSTILE, ZWJ_FLOOD, f"{HOSTILE}\n" * 40):
        sent = await fake_discord.user_sends_message(dm, world.bob, question)
        assert_safe_embed(await reply_to(fake_discord, sent["id"]))
    assert_pings_nobody(fake_discord)


def test_hostile_file_names_cannot_forge_log_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "bad\nERROR forged: the bot was hacked.txt").write_bytes(b"\x00binary")
    (tmp_path / "\x1b[2J\x1b[31mred.md").write_bytes(b"\x00binary")
    settings = settings_for(None, discord_token=FAKE_TOKEN, corpus_dir=tmp_path)
    with caplog.at_level(logging.INFO):
        assert app.run(settings) == 2  # nothing usable: stops before reaching Discord
    logged = [r.getMessage() for r in caplog.records]
    assert any("bad\\nERROR forged" in line for line in logged)
    assert any("\\x1b[2J" in line for line in logged)
    assert not any("\n" in line or "\x1b" in line for line in logged)
