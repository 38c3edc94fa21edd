"""Live reload through FakeDiscord: the owner's /reload, refusals, failures and the watcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.answer.engine import Engine
from bot.discordbot import notices
from bot.discordbot.client import QABot, make_bot
from bot.discordbot.sync_state import SyncState
from bot.index.storage import parsing
from tests.discordbot.conftest import CORPUS, settings_for
from tests.discordbot.helpers import (
    embed_of,
    final_message,
    first_citation,
    is_ephemeral,
    reply_to,
    slash,
    visible,
)
from tests.fakediscord import FakeDiscord
from tests.fakediscord.harness import running_client

SEED = CORPUS / "yonhap-nk-asean-sanctions.txt"
LONG_AGO = 1_600_000_000  # older than any scan: the saved index trusts the file's stat
TUNNEL = "Tunnel news\n\nThe Plimbo tunnel closes in July for repairs, the city said.\n"
TUNNEL_QUESTION = "When does the Plimbo tunnel close?"
TUNNEL_SENTENCE = "The Plimbo tunnel closes in July for repairs"
WAIT = 20.0  # far above what a reload or the watcher needs


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A corpus folder of its own holding the seed article and its alias file."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in (SEED.name, "aliases.toml"):
        shutil.copy(CORPUS / name, folder / name)
        os.utime(folder / name, (LONG_AGO, LONG_AGO))
    return folder


@contextlib.asynccontextmanager
async def serving(
    fake: FakeDiscord, tmp_path: Path, corpus: Path, **env: Any
) -> AsyncIterator[QABot]:
    """Run the bot as `qabot run` builds it: a LiveEngine over the folder and INDEX_DIR."""
    settings = settings_for(
        fake, corpus_dir=corpus, index_dir=tmp_path / "index", cooldown_questions=0, **env
    )
    bot = make_bot(settings, sync_state=SyncState(tmp_path / "state"))  # loads in setup_hook
    async with running_client(bot, fake, timeout=WAIT) as running:
        yield running


async def until(condition: Callable[[], bool], step: Callable[[], object] | None = None) -> None:
    """Wait for condition (doing step between looks), failing after WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while not condition():
            if step is not None:
                step()
            await asyncio.sleep(0.05)


def owner_in_guild(fake: FakeDiscord) -> Any:
    world = fake.world
    assert world is not None and fake.owner.guild_ids is not None
    fake.owner.guild_ids.add(world.guild_id)
    return fake.owner


async def ask(fake: FakeDiscord, question: str) -> dict[str, Any]:
    """Mention the bot with a question and return the embed of its reply."""
    world = fake.world
    assert world is not None
    sent = await fake.user_sends_message(
        world.channel_id, world.alice, f"<@{fake.bot_user.id}> {question}"
    )
    return embed_of(await reply_to(fake, sent["id"], timeout=WAIT))


def answers_tunnel(embed: dict[str, Any]) -> bool:
    return TUNNEL_SENTENCE in visible(str(embed.get("description")))


async def reload_as(fake: FakeDiscord, user: Any) -> dict[str, Any]:
    inter = await fake.user_runs_slash_command("reload", None, user, _channel(fake))
    responses = await fake.wait_for_interaction_done(inter, timeout=WAIT)
    assert responses[0]["kind"] == "callback" and responses[0]["type"] == 5  # deferred at once
    message = final_message(responses)
    assert is_ephemeral(message)
    assert not fake.interaction_failed(inter)
    return message


def _channel(fake: FakeDiscord) -> int:
    assert fake.world is not None
    return fake.world.channel_id


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields") or []}


async def test_owner_reload_answers_from_a_new_article(
    fake_discord: FakeDiscord, tmp_path: Path, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(fake_discord, tmp_path, corpus, watch_corpus="false") as bot:
        assert bot.live is not None and bot.watcher is None
        before = bot.engine
        assert not answers_tunnel(await ask(fake_discord, TUNNEL_QUESTION))
        (corpus / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
        with caplog.at_level(logging.INFO):
            message = await reload_as(fake_discord, owner_in_guild(fake_discord))
        embed = embed_of(message)
        assert embed["title"] == "Reloaded"
        sentences = len(before.sentences) if before is not None else 0
        assert f"Articles: 1 → 2 · sentences: {sentences} → " in embed["description"]
        assert fields(embed) == {"Added (1)": "• tunnel.txt"}
        assert embed["footer"]["text"].startswith("Took ")
        reply = await ask(fake_discord, TUNNEL_QUESTION)
        assert answers_tunnel(reply)
        assert first_citation(reply) == "tunnel:1.1"
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("reload asked for by the owner: user=") for line in lines)
    reloaded = [line for line in lines if line.startswith("Reloaded in ")]
    assert len(reloaded) == 1 and "1 added. Now 2 articles" in reloaded[0], lines


async def test_reload_is_refused_to_others(
    fake_discord: FakeDiscord, tmp_path: Path, corpus: Path
) -> None:
    world = fake_discord.world
    assert world is not None
    async with serving(fake_discord, tmp_path, corpus, watch_corpus="false") as bot:
        before = bot.engine
        (corpus / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
        message = await reload_as(fake_discord, world.alice)
        assert message["content"] == notices.RELOAD_REFUSED
        assert message.get("embeds") in (None, [])
        assert bot.engine is before
        assert not answers_tunnel(await ask(fake_discord, TUNNEL_QUESTION))


async def test_a_failed_reload_keeps_answering_from_the_last_good_index(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serving(fake_discord, tmp_path, corpus, watch_corpus="false") as bot:
        owner = owner_in_guild(fake_discord)
        before = bot.engine
        assert before is not None
        (corpus / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
        locked = corpus / "locked.txt"
        locked.write_text("Locked news\n\nNobody can read this file.\n", encoding="utf-8")
        locked.chmod(0)
        if os.geteuid() == 0:  # root reads any file: refuse it the way mode 000 would
            read_article = parsing.read_article

            def refuse(root: str, rel: str) -> Any:
                if rel.endswith("locked.txt"):
                    raise PermissionError(13, "Permission denied")
                return read_article(root, rel)

            monkeypatch.setattr(parsing, "read_article", refuse)
        with caplog.at_level(logging.INFO):
            embed = embed_of(await reload_as(fake_discord, owner))
        assert embed["title"] == "Reload failed — still answering from the previous index"
        assert "Serving 1 article" in embed["description"]
        assert "cannot read locked.txt (Permission denied)" in fields(embed)["What failed"]
        assert bot.engine is before
        # The article added beside the unreadable one is not served either: all or nothing.
        assert not answers_tunnel(await ask(fake_discord, TUNNEL_QUESTION))
        assert first_citation(await ask(fake_discord, "why is NK courting ASEAN?")) == "1.1"
        failed = [r for r in caplog.records if r.getMessage().startswith("Reload failed: ")]
        assert len(failed) == 1 and failed[0].levelno == logging.WARNING
        assert "cannot read locked.txt" in failed[0].getMessage()
        assert "Still answering from the previous index (1 article" in failed[0].getMessage()

        # Fixed, plus a binary file: the reload goes through and says what it skipped.
        monkeypatch.undo()
        locked.unlink()
        (corpus / "garbage.txt").write_bytes(b"\xff\xfe\x00\x01binary\x80\x81")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            embed = embed_of(await reload_as(fake_discord, owner))
        assert embed["title"] == "Reloaded"
        assert "garbage.txt" in fields(embed)["Skipped (1)"]
        assert answers_tunnel(await ask(fake_discord, TUNNEL_QUESTION))
        skipped = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert skipped == [
            "Skipped while reloading the corpus: skipped garbage.txt: the file looks binary, "
            "not text"
        ]


async def test_questions_during_a_reload_are_answered_once_from_the_old_index(
    fake_discord: FakeDiscord, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    building = threading.Event()
    release = threading.Event()
    build = Engine.from_snapshot

    def slow_build(*args: Any, **kwargs: Any) -> Engine:
        building.set()
        assert release.wait(WAIT)
        return build(*args, **kwargs)

    world = fake_discord.world
    assert world is not None
    async with serving(fake_discord, tmp_path, corpus, watch_corpus="false") as bot:
        owner = owner_in_guild(fake_discord)
        before = bot.engine
        (corpus / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
        monkeypatch.setattr(Engine, "from_snapshot", slow_build)
        inter = await fake_discord.user_runs_slash_command("reload", None, owner, world.channel_id)
        assert await asyncio.to_thread(building.wait, WAIT)  # the new index is being built
        during = [
            await fake_discord.user_sends_message(
                world.channel_id, world.alice, f"<@{fake_discord.bot_user.id}> {TUNNEL_QUESTION}"
            )
            for _ in range(3)
        ]
        embeds = [embed_of(await reply_to(fake_discord, sent["id"])) for sent in during]
        assert not any(answers_tunnel(e) for e in embeds)  # the old index answered
        assert bot.engine is before
        release.set()
        responses = await fake_discord.wait_for_interaction_done(inter, timeout=WAIT)
        assert embed_of(final_message(responses))["title"] == "Reloaded"
        assert answers_tunnel(await ask(fake_discord, TUNNEL_QUESTION))
        for sent in during:  # each question got exactly one reply
            replies = [
                m
                for m in fake_discord.messages(world.channel_id)
                if (m.get("message_reference") or {}).get("message_id") == sent["id"]
            ]
            assert len(replies) == 1


async def test_the_watcher_picks_up_a_new_article_without_reload(
    fake_discord: FakeDiscord, tmp_path: Path, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        async with serving(fake_discord, tmp_path, corpus, watch_corpus="true") as bot:
            watcher = bot.watcher
            assert watcher is not None and watcher.thread.is_alive()

            def served() -> bool:
                engine = bot.engine
                return engine is not None and len(engine.articles) == 2

            # Written until seen: the watch starts in its thread just after the bot does.
            tunnel = corpus / "tunnel.txt"
            await until(served, lambda: tunnel.write_text(TUNNEL, encoding="utf-8"))
            assert answers_tunnel(await ask(fake_discord, TUNNEL_QUESTION))
        assert not watcher.thread.is_alive()  # closing the bot stops the watcher
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("Watching ") and "WATCH_CORPUS" in line for line in lines)
    assert any(line.startswith("Reloaded in ") and "1 added" in line for line in lines), lines


async def test_reload_on_a_fixed_engine_says_there_is_nothing_to_reload(
    fake_discord: FakeDiscord, tmp_path: Path, engine: Engine
) -> None:
    settings = settings_for(fake_discord, cooldown_questions=0)
    bot = make_bot(settings, engine, sync_state=SyncState(tmp_path / "state"))
    async with running_client(bot, fake_discord, timeout=WAIT):
        message = await reload_as(fake_discord, owner_in_guild(fake_discord))
        assert message["content"] == notices.RELOAD_UNAVAILABLE
        _, responses = await slash(fake_discord, "ask", {"question": "why is NK courting ASEAN?"})
        assert first_citation(embed_of(final_message(responses))) == "1.1"
