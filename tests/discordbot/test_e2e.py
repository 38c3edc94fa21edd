"""End to end: the real bot class and discord.py client against FakeDiscord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.answer.engine import Engine
from bot.answer.models import Status
from bot.discordbot import notices, safetext
from bot.discordbot.client import QABot, ShardedQABot, feature_cogs
from tests.discordbot.conftest import BotStarter
from tests.discordbot.helpers import (
    assert_pings_nobody,
    bot_messages,
    button_ids,
    embed_of,
    final_message,
    is_ephemeral,
    reply_to,
    slash,
)
from tests.fakediscord import FakeDiscord

QUESTION = "why is NK courting ASEAN?"


def first_citation(embed: dict[str, Any]) -> str:
    first_line = str(embed["description"]).split("\n", 1)[0]
    assert first_line.startswith("**\\["), first_line
    return first_line[len("**\\[") : first_line.index("]")]


def bot_mention(fake: FakeDiscord) -> str:
    return f"<@{fake.bot_user.id}>"


# /ask


async def test_ask_answers_with_the_right_citation(bot: QABot, fake_discord: FakeDiscord) -> None:
    inter, responses = await slash(fake_discord, "ask", {"question": QUESTION})
    assert responses[0]["kind"] == "callback" and responses[0]["type"] == 5  # deferred at once
    message = final_message(responses)
    assert not is_ephemeral(message)
    embed = embed_of(message)
    assert embed["title"] == QUESTION
    assert first_citation(embed) in {"1.1", "0.1"}
    # the answering phrase in bold (the reason the article gives)
    assert "**weaken sanctions" in embed["description"]
    assert "Yonhap News" in embed["footer"]["text"]
    ids = button_ids(message)
    kinds = [custom_id.split(":")[1] for custom_id in ids]
    assert kinds == ["ctx", "more", "up", "down"]  # no Share on a public answer
    assert not fake_discord.interaction_failed(inter)
    assert_pings_nobody(fake_discord)


async def test_private_ask_is_ephemeral(bot: QABot, fake_discord: FakeDiscord) -> None:
    _, responses = await slash(fake_discord, "ask", {"question": QUESTION, "private": True})
    assert responses[0]["type"] == 5
    assert is_ephemeral(final_message(responses))


async def test_off_topic_question_is_not_found(
    bot: QABot, fake_discord: FakeDiscord, engine: Engine
) -> None:
    question = "How do I bake sourdough bread?"
    expected = engine.answer(question)
    assert expected.status is Status.NOT_FOUND
    _, responses = await slash(fake_discord, "ask", {"question": question})
    message = final_message(responses)
    embed = embed_of(message)
    assert embed["title"] == question
    assert embed["description"] == safetext.safe_text(expected.message, 4096, keep_newlines=True)
    assert "say" in embed["description"]  # "The article doesn't say. It covers: …"
    assert button_ids(message) == []


async def test_six_thousand_character_question_gets_the_usage_hint(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    inter, responses = await slash(fake_discord, "ask", {"question": "why " * 1500})
    embed = embed_of(final_message(responses))
    assert embed["title"] == "How to ask"
    assert "too long" in embed["description"]
    assert not fake_discord.interaction_failed(inter)


async def test_greeting_gets_the_usage_hint(bot: QABot, fake_discord: FakeDiscord) -> None:
    _, responses = await slash(fake_discord, "ask", {"question": "hi there"})
    assert embed_of(final_message(responses))["title"] == "How to ask"


async def test_sources_and_help(bot: QABot, fake_discord: FakeDiscord) -> None:
    _, responses = await slash(fake_discord, "sources")
    message = final_message(responses)
    assert is_ephemeral(message)
    embed = embed_of(message)
    assert "N. Korea striving for closer ties" in embed["description"]
    assert "Yonhap News" in embed["description"] and "sentences" in embed["description"]
    _, responses = await slash(fake_discord, "help")
    help_embed = embed_of(final_message(responses))
    assert "/ask" in help_embed["description"] and "Show context" in help_embed["description"]


# Mentions, replies, DMs, ask channels


async def test_mention_is_answered_as_a_reply(bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    sent = await fake_discord.user_sends_message(
        world.channel_id, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
    )
    reply = await reply_to(fake_discord, sent["id"])
    assert reply["message_reference"]["message_id"] == sent["id"]
    embed = embed_of(reply)
    assert embed["title"] == QUESTION  # the mention is stripped
    assert first_citation(embed) in {"1.1", "0.1"}
    assert_pings_nobody(fake_discord)


async def test_reply_to_an_answer_counts_as_addressing_the_bot(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    sent = await fake_discord.user_sends_message(
        world.channel_id, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
    )
    answer = await reply_to(fake_discord, sent["id"])
    follow_up = await fake_discord.user_sends_message(
        world.channel_id,
        world.bob,
        "how many senior-level exchanges were there?",
        reply_to=int(answer["id"]),
    )
    reply = await reply_to(fake_discord, follow_up["id"])
    embed = embed_of(reply)
    assert embed["title"] == "how many senior-level exchanges were there?"
    assert embed["description"].startswith("**\\[")  # answered with cited passages


async def test_reply_without_ping_and_without_intent_explains_itself(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    sent = await fake_discord.user_sends_message(
        world.channel_id, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
    )
    answer = await reply_to(fake_discord, sent["id"])
    quiet = await fake_discord.user_sends_message(
        world.channel_id, world.alice, "and why?", reply_to=int(answer["id"]), reply_ping=False
    )
    reply = await reply_to(fake_discord, quiet["id"])
    assert reply["content"] == notices.UNREADABLE_NOTICE


async def test_reply_without_ping_is_read_with_the_intent(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    async with start_bot(message_content_intent="true", cooldown_questions=0):
        sent = await fake_discord.user_sends_message(
            world.channel_id, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
        )
        answer = await reply_to(fake_discord, sent["id"])
        quiet = await fake_discord.user_sends_message(
            world.channel_id,
            world.alice,
            "when did the North hold its third nuclear test?",
            reply_to=int(answer["id"]),
            reply_ping=False,
        )
        reply = await reply_to(fake_discord, quiet["id"])
        assert embed_of(reply)["title"] == "when did the North hold its third nuclear test?"


async def test_direct_message_is_answered(bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    dm = fake_discord.dm_channel_for(world.alice)
    sent = await fake_discord.user_sends_message(dm, world.alice, QUESTION)
    reply = await reply_to(fake_discord, sent["id"])
    assert int(reply["channel_id"]) == dm
    assert first_citation(embed_of(reply)) in {"1.1", "0.1"}


async def test_direct_messages_can_be_turned_off(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    async with start_bot(allow_dms="false", cooldown_questions=0):
        dm = fake_discord.dm_channel_for(world.alice)
        sent = await fake_discord.user_sends_message(dm, world.alice, QUESTION)
        reply = await reply_to(fake_discord, sent["id"])
        assert reply["content"] == notices.DMS_OFF_NOTICE


async def test_message_not_addressed_to_the_bot_gets_nothing(
    bot: QABot, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    plain = await fake_discord.user_sends_message(world.channel_id, world.alice, QUESTION)
    from_bot = await fake_discord.user_sends_message(
        world.channel_id, world.bob, f"{bot_mention(fake_discord)} {QUESTION}"
    )
    # Events are handled in order, so once the later mention is answered the plain message
    # has been seen and ignored.
    await reply_to(fake_discord, from_bot["id"])
    replied_to = [
        (m.get("message_reference") or {}).get("message_id") for m in bot_messages(fake_discord)
    ]
    assert plain["id"] not in replied_to
    assert len(bot_messages(fake_discord)) == 1


async def test_other_bots_are_ignored(bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    other = fake_discord.add_user("otherbot", bot=True)
    ignored = await fake_discord.user_sends_message(
        world.channel_id, other, f"{bot_mention(fake_discord)} {QUESTION}"
    )
    person = await fake_discord.user_sends_message(
        world.channel_id, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
    )
    await reply_to(fake_discord, person["id"])
    replied_to = [
        (m.get("message_reference") or {}).get("message_id") for m in bot_messages(fake_discord)
    ]
    assert ignored["id"] not in replied_to


async def test_ask_channel_answers_every_message_with_the_intent(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    async with start_bot(
        ask_channel_ids=world.channel_id, message_content_intent="true", cooldown_questions=0
    ):
        sent = await fake_discord.user_sends_message(world.channel_id, world.alice, QUESTION)
        reply = await reply_to(fake_discord, sent["id"])
        assert first_citation(embed_of(reply)) in {"1.1", "0.1"}


async def test_allowed_channels_restrict_answers(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    other = fake_discord.add_text_channel(world.guild_id, "questions")
    thread = fake_discord.add_thread(other, "a thread")
    async with start_bot(allowed_channel_ids=other, cooldown_questions=0):
        _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
        message = final_message(responses)
        assert is_ephemeral(message)
        assert message["content"] == f"I only answer in <#{other}>."
        ignored = await fake_discord.user_sends_message(
            world.channel_id, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
        )
        in_thread = await fake_discord.user_sends_message(
            thread, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
        )
        await reply_to(fake_discord, in_thread["id"])
        replied_to = [
            (m.get("message_reference") or {}).get("message_id") for m in bot_messages(fake_discord)
        ]
        assert ignored["id"] not in replied_to


# Safety


async def test_mentions_in_questions_ping_nobody(bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    role = fake_discord.add_role(world.guild_id, "mods")
    question = f"why is NK courting ASEAN @everyone @here <@&{role}> <@&123> <@{world.bob.id}>?"
    _, responses = await slash(fake_discord, "ask", {"question": question})
    title = embed_of(final_message(responses))["title"]
    assert "@\u200beveryone" in title and "@\u200bhere" in title
    assert f"\\<@&{role}>" in title and "\\<@&123>" in title and f"\\<@{world.bob.id}>" in title
    sent = await fake_discord.user_sends_message(
        world.channel_id, world.alice, f"{bot_mention(fake_discord)} {question}"
    )
    reply = await reply_to(fake_discord, sent["id"])
    assert embed_of(reply)["title"] == title
    _, responses = await slash(fake_discord, "ask", {"question": "@everyone <@&123>"})
    assert_pings_nobody(fake_discord)


async def test_cooldown_notice(start_bot: BotStarter, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with start_bot(cooldown_questions=2, cooldown_seconds=30):
        for _ in range(2):
            _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
            assert embed_of(final_message(responses))["title"] == QUESTION
        _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
        notice = final_message(responses)
        assert is_ephemeral(notice)
        assert "ask again <t:" in notice["content"] and ":R>" in notice["content"]
        # Bob is not limited by Alice's questions; his third message is.
        for _ in range(2):
            sent = await fake_discord.user_sends_message(
                world.channel_id, world.bob, f"{bot_mention(fake_discord)} {QUESTION}"
            )
            assert embed_of(await reply_to(fake_discord, sent["id"]))["title"] == QUESTION
        sent = await fake_discord.user_sends_message(
            world.channel_id, world.bob, f"{bot_mention(fake_discord)} {QUESTION}"
        )
        reply = await reply_to(fake_discord, sent["id"])
        assert "you can ask again <t:" in reply["content"]
        assert_pings_nobody(fake_discord)


async def test_handler_failure_apologises_and_logs_ids(
    bot: QABot, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        articles: tuple[Any, ...] = ()

        def answer(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    world = fake_discord.world
    assert world is not None
    bot.engine = Broken()  # type: ignore[assignment]
    with caplog.at_level(logging.ERROR, logger="bot.discordbot"):
        inter, responses = await slash(fake_discord, "ask", {"question": QUESTION})
        assert final_message(responses)["content"] == notices.APOLOGY
        sent = await fake_discord.user_sends_message(
            world.channel_id, world.alice, f"{bot_mention(fake_discord)} {QUESTION}"
        )
        assert (await reply_to(fake_discord, sent["id"]))["content"] == notices.APOLOGY
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"interaction={inter.id}" in logged and f"message={sent['id']}" in logged
    assert not fake_discord.interaction_failed(inter)


# Buttons


async def test_show_context_and_more(bot: QABot, fake_discord: FakeDiscord, engine: Engine) -> None:
    world = fake_discord.world
    assert world is not None
    _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
    answer = final_message(responses)
    ctx_id, more_id = button_ids(answer)[:2]
    first_page = embed_of(answer)["description"]

    click = await fake_discord.user_clicks_button(int(answer["id"]), ctx_id, world.bob)
    context = final_message(await fake_discord.wait_for_interaction_done(click))
    assert is_ephemeral(context)
    description = embed_of(context)["description"]
    expected = engine.answer(QUESTION)
    assert description.count("\n> ") == len(expected.passages)  # each passage, quoted
    neighbours = [p.context_before or p.context_after for p in expected.passages]
    assert any(neighbours)
    for sentence in filter(None, neighbours):
        assert safetext.escape(sentence)[:60] in description

    click = await fake_discord.user_clicks_button(int(answer["id"]), more_id, world.alice)
    responses = await fake_discord.wait_for_interaction_done(click)
    assert responses[0]["type"] == 5
    more = final_message(responses)
    assert not is_ephemeral(more)  # the asker pages publicly
    more_embed = embed_of(more)
    assert first_citation(more_embed) not in first_page
    assert "passages 4–" in more_embed["footer"]["text"]

    # Someone else paging through Alice's answer sees the next page privately.
    click = await fake_discord.user_clicks_button(int(answer["id"]), more_id, world.bob)
    assert is_ephemeral(final_message(await fake_discord.wait_for_interaction_done(click)))
    assert_pings_nobody(fake_discord)


async def test_more_is_disabled_on_the_last_page(bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
    message = final_message(responses)
    for _ in range(20):
        row = message["components"][0]["components"]
        if row[1].get("disabled"):
            break
        click = await fake_discord.user_clicks_button(
            int(message["id"]), row[1]["custom_id"], world.alice
        )
        message = final_message(await fake_discord.wait_for_interaction_done(click))
    else:
        pytest.fail("More never became disabled")
    with pytest.raises(ValueError, match="disabled"):
        await fake_discord.user_clicks_button(int(message["id"]), row[1]["custom_id"], world.alice)


async def test_buttons_recompute_a_forgotten_answer(bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
    answer = final_message(responses)
    first = first_citation(embed_of(answer))
    bot.store.clear()  # as after a restart, or once the answer left the bounded store
    context_id, more_id = button_ids(answer)[:2]
    click = await fake_discord.user_clicks_button(int(answer["id"]), context_id, world.alice)
    context = embed_of(final_message(await fake_discord.wait_for_interaction_done(click)))
    assert first_citation(context) == first  # recomputed from the question on the message
    bot.store.clear()
    click = await fake_discord.user_clicks_button(int(answer["id"]), more_id, world.alice)
    page = embed_of(final_message(await fake_discord.wait_for_interaction_done(click)))
    assert first_citation(page) != first and "passages 4" in page["footer"]["text"]

    # A button id the bot never made (an older version's) gets the expired notice.
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Old", custom_id="legacy:v0:123"))
    channel = bot.get_channel(world.channel_id)
    assert isinstance(channel, discord.TextChannel)
    old = await channel.send(
        "old answer", view=view, allowed_mentions=discord.AllowedMentions.none()
    )
    click = await fake_discord.user_clicks_button(old.id, "legacy:v0:123", world.alice)
    notice = final_message(await fake_discord.wait_for_interaction_done(click))
    assert notice["content"] == notices.EXPIRED_NOTICE
    assert not fake_discord.interaction_failed(click)


# Start-up and command sync


async def test_commands_sync_to_the_guild_when_set(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    async with start_bot() as running:
        names = sorted(c["name"] for c in fake_discord.registered_commands(world.guild_id))
        assert names == ["ask", "help", "qa", "reload", "sources"]
        assert fake_discord.registered_commands(None) == []
        assert fake_discord.bulk_overwrite_calls.get(None, 0) == 0
        assert running.global_synced is None


async def test_global_sync_is_skipped_when_commands_are_unchanged(
    start_bot: BotStarter, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_bot(discord_guild_id=None) as first:
        assert first.global_synced is True
    assert fake_discord.bulk_overwrite_calls.get(None) == 1
    names = sorted(c["name"] for c in fake_discord.registered_commands(None))
    assert names == ["ask", "help", "qa", "reload", "sources"]

    async with start_bot(discord_guild_id=None) as second:  # the state file says unchanged
        assert second.global_synced is False
        _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
        assert first_citation(embed_of(final_message(responses))) in {"1.1", "0.1"}
    assert fake_discord.bulk_overwrite_calls.get(None) == 1

    # No state file (a new container): the commands Discord has are compared instead.
    assert second.application_id is not None
    second.sync_state.path(second.application_id).unlink()
    async with start_bot(discord_guild_id=None) as third:
        assert third.global_synced is False
    assert fake_discord.bulk_overwrite_calls.get(None) == 1
    assert second.sync_state.load(second.application_id) is not None

    # A changed command set syncs again.
    class Extra(commands.Cog):
        @app_commands.command(name="extra", description="A new command")
        async def extra(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message("extra")

    def with_extra(bot: Any) -> list[Any]:
        return [*feature_cogs(bot), Extra()]

    monkeypatch.setattr("bot.discordbot.client.feature_cogs", with_extra)
    async with start_bot(discord_guild_id=None) as fourth:
        assert fourth.global_synced is True
    assert fake_discord.bulk_overwrite_calls.get(None) == 2
    assert len(fake_discord.registered_commands(None)) == 6


async def test_sharded_bot_answers_and_closes_cleanly(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    # One process running the shard that owns the test guild (as with SHARD_IDS per process);
    # running both would add discord.py's 5 s pause between shard logins.
    shard_id = (world.guild_id >> 22) % 2
    async with start_bot(shard_count=2, shard_ids=str(shard_id), cooldown_questions=0) as running:
        assert isinstance(running, ShardedQABot)
        assert running.shard_count == 2 and running.shard_ids == [shard_id]
        _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
        assert first_citation(embed_of(final_message(responses))) in {"1.1", "0.1"}
    await fake_discord.wait_for(lambda: not fake_discord.connections, 5.0, "sockets closed")
    assert fake_discord.gateway_closes == [("client", 1000)]


async def test_close_ends_the_session_with_code_1000(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    async with start_bot():
        pass
    await fake_discord.wait_for(lambda: not fake_discord.connections, 5.0, "sockets closed")
    assert fake_discord.gateway_closes == [("client", 1000)]
    assert not fake_discord.sessions  # Discord drops the session: the bot shows offline


async def test_start_up_logs_name_counts_and_invite(
    start_bot: BotStarter,
    fake_discord: FakeDiscord,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.discordbot"):
        async with start_bot():
            await asyncio.sleep(0)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Logged in as QABot" in text
    assert f"Indexed 1 article, {len(engine.sentences)} sentences" in text
    assert f"client_id={fake_discord.app_id}" in text and "permissions=274877991936" in text
    assert "scope=bot+applications.commands" in text
    assert fake_discord.token not in text


async def test_slash_ask_in_a_direct_message(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    world = fake_discord.world
    assert world is not None
    dm = fake_discord.dm_channel_for(world.alice)
    # Guild commands exist only in their guild; DMs need the global ones.
    async with start_bot(discord_guild_id=None, cooldown_questions=0):
        _, responses = await slash(fake_discord, "ask", {"question": QUESTION}, channel_id=dm)
        assert first_citation(embed_of(final_message(responses))) in {"1.1", "0.1"}
    async with start_bot(discord_guild_id=None, allow_dms="false"):
        _, responses = await slash(fake_discord, "ask", {"question": QUESTION}, channel_id=dm)
        notice = final_message(responses)
        assert is_ephemeral(notice) and notice["content"] == notices.DMS_OFF_NOTICE


async def test_bare_mention_gets_the_usage_hint(bot: QABot, fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    sent = await fake_discord.user_sends_message(
        world.channel_id, world.alice, bot_mention(fake_discord)
    )
    embed = embed_of(await reply_to(fake_discord, sent["id"]))
    assert embed["title"] == "How to ask"
    assert "Ask a question" in embed["description"]


async def test_refused_guild_sync_is_logged_and_the_bot_still_answers(
    start_bot: BotStarter, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    world = fake_discord.world
    assert world is not None
    fake_discord.fail_next(
        "PUT",
        r"^/applications/\d+/guilds/\d+/commands$",
        403,
        {"message": "Missing Access", "code": 50001},
    )
    with caplog.at_level(logging.ERROR, logger="bot.discordbot"):
        async with start_bot(cooldown_questions=0) as running:
            sent = await fake_discord.user_sends_message(
                world.channel_id,
                world.alice,
                f"<@{running.user.id if running.user else 0}> {QUESTION}",
            )
            assert first_citation(embed_of(await reply_to(fake_discord, sent["id"]))) in {
                "1.1",
                "0.1",
            }
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "applications.commands" in errors[0]
    assert all(r.exc_info is None for r in caplog.records)


async def test_failed_global_sync_is_logged_and_retried_next_start(
    start_bot: BotStarter, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake_discord.fail_next(
        "PUT", r"^/applications/\d+/commands$", 400, {"message": "Bad", "code": 0}
    )
    with caplog.at_level(logging.ERROR, logger="bot.discordbot"):
        async with start_bot(discord_guild_id=None) as first:
            assert first.global_synced is None
    assert any("Could not sync" in r.getMessage() for r in caplog.records)
    async with start_bot(discord_guild_id=None) as second:
        assert second.global_synced is True
