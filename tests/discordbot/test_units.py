"""The pure parts: message decisions, cooldown, answer store, sync state, invite URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import discord
import pytest

from bot.answer.models import Answer, Status
from bot.discordbot.answer_buttons import ButtonState, answer_view, parse_custom_id
from bot.discordbot.answers_store import AnswerStore, StoredAnswer
from bot.discordbot.cooldown import Cooldown
from bot.discordbot.invite import invite_url, required_permissions
from bot.discordbot.routing import (
    Action,
    MessageFacts,
    Policy,
    Via,
    decide,
    strip_mentions,
)
from bot.discordbot.sync_state import SyncState, commands_hash, same_commands

BOT = 1000
ALICE = 2000
CHANNEL = 3000


def facts(content: str = "why?", **kw: object) -> MessageFacts:
    return MessageFacts(author_id=ALICE, channel_id=CHANNEL, content=content, **kw)  # type: ignore[arg-type]


# Decisions


def test_plain_channel_message_is_ignored() -> None:
    assert decide(facts(), Policy(), BOT).action is Action.IGNORE


def test_mention_is_answered_without_the_mention() -> None:
    d = decide(facts(f"<@{BOT}>, why is NK courting ASEAN?", mentions_bot=True), Policy(), BOT)
    assert (d.action, d.via, d.question) == (
        Action.ANSWER,
        Via.MENTION,
        "why is NK courting ASEAN?",
    )


def test_reply_to_the_bot_counts_as_addressing_it() -> None:
    d = decide(facts("and why?", replies_to_bot=True, mentions_bot=True), Policy(), BOT)
    assert (d.action, d.via, d.question) == (Action.ANSWER, Via.REPLY, "and why?")


def test_reply_without_ping_and_without_intent_is_unreadable() -> None:
    d = decide(facts("", replies_to_bot=True), Policy(), BOT)
    assert d.action is Action.UNREADABLE
    d = decide(facts("", replies_to_bot=True), Policy(message_content_intent=True), BOT)
    assert d.action is Action.ANSWER and d.question == ""


def test_bots_self_and_system_messages_are_ignored() -> None:
    for kw in ({"author_is_bot": True}, {"is_self": True}, {"is_system": True}):
        d = decide(facts(f"<@{BOT}> q", mentions_bot=True, is_dm=True, **kw), Policy(), BOT)
        assert d.action is Action.IGNORE


def test_dms_follow_allow_dms() -> None:
    assert decide(facts("q", is_dm=True), Policy(), BOT).via is Via.DM
    off = decide(facts("q", is_dm=True), Policy(allow_dms=False), BOT)
    assert off.action is Action.DMS_OFF


def test_allowed_channels_include_threads_under_them() -> None:
    policy = Policy(allowed_channel_ids=frozenset({CHANNEL}))
    assert decide(facts("q", mentions_bot=True), policy, BOT).action is Action.ANSWER
    elsewhere = facts("q", mentions_bot=True)
    elsewhere = MessageFacts(**{**elsewhere.__dict__, "channel_id": 1})
    assert decide(elsewhere, policy, BOT).action is Action.IGNORE
    thread = MessageFacts(**{**elsewhere.__dict__, "parent_id": CHANNEL})
    assert decide(thread, policy, BOT).action is Action.ANSWER


def test_ask_channels_need_the_content_intent() -> None:
    ask = frozenset({CHANNEL})
    assert decide(facts("q"), Policy(ask_channel_ids=ask), BOT).action is Action.IGNORE
    on = Policy(ask_channel_ids=ask, message_content_intent=True)
    assert decide(facts("q"), on, BOT).via is Via.ASK_CHANNEL
    assert decide(facts(""), on, BOT).action is Action.IGNORE  # an image post


def test_strip_mentions_handles_nick_and_role_forms() -> None:
    assert strip_mentions(f"<@!{BOT}> hi <@{BOT}>", BOT) == "hi"
    assert strip_mentions("<@&55>: what?", BOT, 55) == "what?"
    assert strip_mentions("<@77> what?", BOT) == "<@77> what?"


# Cooldown


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_cooldown_allows_n_per_window_and_notifies_once() -> None:
    clock = Clock()
    cd = Cooldown(2, 30, clock=clock)
    assert cd.check(1).allowed and cd.check(1).allowed
    third = cd.check(1)
    assert not third.allowed and third.notify and third.retry_after == pytest.approx(30)
    clock.now += 10
    fourth = cd.check(1)
    assert not fourth.allowed and not fourth.notify and fourth.retry_after == pytest.approx(20)
    assert cd.check(2).allowed  # other users are unaffected
    clock.now += 20
    assert cd.check(1).allowed


def test_cooldown_zero_disables() -> None:
    assert all(Cooldown(0, 30).check(1).allowed for _ in range(100))
    assert all(Cooldown(5, 0).check(1).allowed for _ in range(100))


def test_cooldown_table_is_bounded() -> None:
    clock = Clock()
    cd = Cooldown(1, 30, clock=clock, max_users=100)
    for user in range(1000):
        cd.check(user)
    assert len(cd._asked) <= 100


# Answer store and buttons


def stored(has_more: bool = True) -> StoredAnswer:
    answer = Answer(question="q", status=Status.ANSWERED, passages=(), has_more=has_more)
    return StoredAnswer(answer=answer, k=3, asker_id=ALICE, private=False)


def test_store_forgets_least_recently_used() -> None:
    store = AnswerStore(capacity=2)
    a, b = store.add(stored()), store.add(stored())
    assert store.get(a) is not None  # a is now the most recent
    c = store.add(stored())
    assert store.get(b) is None and store.get(a) is not None and store.get(c) is not None
    assert len(store) == 2


def test_store_ids_fit_custom_ids_and_parse_back() -> None:
    answer_id = AnswerStore().add(stored())
    for kind in ("ctx", "more", "share", "up", "down"):
        state = ButtonState(kind, answer_id, 3, ("abcde", "fghij"))
        assert parse_custom_id(state.custom_id) == state
    assert parse_custom_id(f"qa:ctx:{answer_id}") is None  # an older version's id
    assert parse_custom_id("qa:nope:x:0:") is None
    assert parse_custom_id("something-else") is None
    # Twelve cited articles still fit in Discord's 100 characters.
    assert len(ButtonState("more", answer_id, 9999, ("abcde",) * 12).custom_id) <= 100


async def test_answer_view_disables_more_without_further_passages() -> None:
    from bot.answer.models import Passage

    p = Passage("1.1", "t", "k", "T", None, 1.0, (), ())
    answer = Answer(question="q", status=Status.ANSWERED, passages=(p,), has_more=False)
    view = answer_view("abc", answer, ("abcde",))
    assert view is not None
    buttons = view.to_components()[0]["components"]
    assert [b["custom_id"] for b in buttons] == [
        f"qa:{kind}:abc:0:abcde" for kind in ("ctx", "more", "up", "down")
    ]
    assert buttons[1]["disabled"] is True
    private = answer_view("abc", answer, ("abcde",), private=True)
    assert private is not None
    ids = [b["custom_id"] for b in private.to_components()[0]["components"]]
    assert "qa:share:abc:0:abcde" in ids
    assert answer_view("abc", Answer(question="q", status=Status.NOT_FOUND)) is None


# Sync state and invite


def test_commands_hash_ignores_key_and_command_order() -> None:
    a = [{"name": "ask", "description": "x"}, {"name": "help", "description": "y"}]
    b = [{"description": "y", "name": "help"}, {"description": "x", "name": "ask"}]
    assert commands_hash(a) == commands_hash(b)
    assert commands_hash(a) != commands_hash(a[:1])


def test_sync_state_round_trips_per_application(tmp_path: Path) -> None:
    state = SyncState(tmp_path / "nested")
    assert state.load(1) is None
    state.save(1, "abc")
    assert state.load(1) == "abc" and state.load(2) is None
    state.path(2).write_text("not json")
    assert state.load(2) is None


def test_sync_state_survives_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    SyncState(blocker / "sub").save(1, "abc")  # logs, does not raise


def test_invite_url_has_exactly_the_needed_permissions() -> None:
    url = urlparse(invite_url(123))
    query = parse_qs(url.query)
    assert query["client_id"] == ["123"]
    assert query["scope"] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    assert perms == required_permissions()
    # View Channels 1<<10, Send Messages 1<<11, Embed Links 1<<14, Read Message History 1<<16,
    # Send Messages in Threads 1<<38.
    assert perms.value == (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 38)
    assert {name for name, on in perms if on} == {
        "read_messages",  # discord.py's name for View Channels
        "send_messages",
        "send_messages_in_threads",
        "embed_links",
        "read_message_history",
    }


def test_same_commands_ignores_what_discord_adds() -> None:
    ours = [
        {
            "name": "ask",
            "description": "Ask",
            "type": 1,
            "options": [{"type": 3, "name": "q", "description": "Q", "required": True}],
            "contexts": [0, 1],
            "integration_types": [0],
            "nsfw": False,
            "dm_permission": True,
            "default_member_permissions": None,
        }
    ]
    theirs = [
        {
            **ours[0],
            "id": "1",
            "application_id": "2",
            "version": "3",
            "contexts": [1, 0],
            "name_localizations": None,
        }
    ]
    assert same_commands(ours, theirs)
    changed = [{**theirs[0], "description": "Ask a question"}]
    assert not same_commands(ours, changed)
    assert not same_commands(ours, [])
    assert not same_commands(ours, [*theirs, {**theirs[0], "name": "old"}])
