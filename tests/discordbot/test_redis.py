"""Bot processes sharing cooldowns and answers through a real redis-server on loopback.

Each bot below is what one process holds: its own answer store and cooldown table, its own
Redis connection; they share only Redis and the fake Discord. Two shards in two bots count
one user's questions together, a button is answered by a bot that never saw the answer,
and a Redis that goes away mid-run costs one log line, not an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.discordbot import notices
from bot.discordbot.client import QABot, make_bot
from bot.discordbot.sync_state import SyncState
from tests.discordbot.conftest import REPO, settings_for
from tests.discordbot.helpers import button_ids, embed_of, final_message, first_citation
from tests.fakediscord import FakeDiscord, FakeUser
from tests.fakediscord.harness import running_client

REDIS = shutil.which("redis-server")
QUESTION = "why is NK courting ASEAN?"
# Longer than an embed title: after a restart only the shared store can serve its buttons.
LONG_QUESTION = QUESTION + " Please tell me why North Korea wants closer ties with ASEAN." * 5
WAIT = 20.0


class RedisServer:
    """A redis-server of the test's own on a free loopback port, without persistence."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # A missing server fails these tests rather than skipping them: .ci/run installs it.
        assert REDIS is not None, "redis-server is not installed: apt-get install redis-server"
        self.process = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT
        while not self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def answers(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn,
        ):
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=WAIT)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def shard_of(guild_id: int) -> int:
    return (guild_id >> 22) % 2


class Shards:
    """Guild A on one gateway shard, guild B on the other, and a bot for either shard."""

    def __init__(self, fake: FakeDiscord, tmp_path: Path) -> None:
        world = fake.world
        assert world is not None
        self.fake = fake
        self.tmp = tmp_path
        self.a, self.a_channel = world.guild_id, world.channel_id
        self.b = fake.add_guild(guild_id=self.a ^ (1 << 22), name="Other shard")
        self.b_channel = fake.add_text_channel(self.b, "general")
        assert shard_of(self.a) != shard_of(self.b)
        self.alice, self.bob = world.alice, world.bob
        self.count = 0

    @contextlib.asynccontextmanager
    async def bot_for(self, guild_id: int, **env: Any) -> AsyncIterator[QABot]:
        """Run a bot (one process's worth of state) for the shard serving guild_id."""
        self.count += 1
        settings = settings_for(
            self.fake,
            shard_count=2,
            shard_ids=str(shard_of(guild_id)),
            state_db=self.tmp / f"state-{self.count}.sqlite3",
            **env,
        )
        bot = make_bot(settings, sync_state=SyncState(self.tmp / f"sync-{self.count}"))
        async with running_client(bot, self.fake, timeout=WAIT) as running:
            await running.sync_guild(self.b)
            yield running


@pytest.fixture
def shards(fake_discord: FakeDiscord, tmp_path: Path) -> Shards:
    return Shards(fake_discord, tmp_path)


async def ask(fake: FakeDiscord, user: FakeUser, channel_id: int, question: str) -> Any:
    inter = await fake.user_runs_slash_command("ask", {"question": question}, user, channel_id)
    return final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))


async def test_a_cooldown_is_counted_across_two_processes(
    shards: Shards, redis_server: RedisServer
) -> None:
    fake = shards.fake
    limits = {"redis_url": redis_server.url, "cooldown_questions": 2, "cooldown_seconds": 600}
    async with (
        shards.bot_for(shards.a, **limits) as first,
        shards.bot_for(shards.b, **limits) as second,
    ):
        assert first.shared.shared and second.shared.shared
        for _ in range(2):
            answer = await ask(fake, shards.alice, shards.a_channel, QUESTION)
            assert first_citation(embed_of(answer)) == "1.1"
        # The other process, another server: still over the limit.
        refused = await ask(fake, shards.alice, shards.b_channel, QUESTION)
        assert "you can ask again <t:" in refused["content"]
        assert first_citation(embed_of(await ask(fake, shards.bob, shards.b_channel, QUESTION)))
        # Each process's own table saw only its own questions.
        assert len(first.cooldown._asked) == 0 and len(second.cooldown._asked) == 0


async def test_without_redis_each_process_counts_alone(shards: Shards) -> None:
    fake = shards.fake
    limits = {"cooldown_questions": 2, "cooldown_seconds": 600}
    async with shards.bot_for(shards.a, **limits), shards.bot_for(shards.b, **limits):
        for _ in range(2):
            await ask(fake, shards.alice, shards.a_channel, QUESTION)
        answer = await ask(fake, shards.alice, shards.b_channel, QUESTION)
        assert first_citation(embed_of(answer)) == "1.1"


async def test_a_button_is_answered_by_another_process(
    shards: Shards, redis_server: RedisServer
) -> None:
    fake = shards.fake
    env = {"redis_url": redis_server.url, "cooldown_questions": 0}
    async with shards.bot_for(shards.a, **env):
        answer = await ask(fake, shards.alice, shards.a_channel, LONG_QUESTION)
        assert embed_of(answer)["title"].endswith("…")  # the question cannot be read back
        first = first_citation(embed_of(answer))
    async with shards.bot_for(shards.a, **env) as other:
        assert len(other.store) == 0
        context_id = button_ids(answer)[0]
        inter = await fake.user_clicks_button(int(answer["id"]), context_id, shards.alice)
        context = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
        assert first_citation(embed_of(context)) == first

    # The same without Redis: the new process cannot know the answer, and says so.
    async with shards.bot_for(shards.a, cooldown_questions=0):
        answer = await ask(fake, shards.alice, shards.a_channel, LONG_QUESTION)
    async with shards.bot_for(shards.a, cooldown_questions=0):
        inter = await fake.user_clicks_button(
            int(answer["id"]), button_ids(answer)[0], shards.alice
        )
        notice = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
        assert notice["content"] == notices.EXPIRED_NOTICE


async def test_redis_stopped_mid_run_keeps_answering_and_logs_once(
    shards: Shards, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake = shards.fake
    env = {"redis_url": redis_server.url, "cooldown_questions": 3, "cooldown_seconds": 600}
    with caplog.at_level(logging.INFO):
        async with shards.bot_for(shards.a, **env) as bot:
            assert first_citation(
                embed_of(await ask(fake, shards.alice, shards.a_channel, QUESTION))
            )
            redis_server.stop()
            answers = [await ask(fake, shards.bob, shards.a_channel, QUESTION) for _ in range(4)]
            # Answered, and the per-process cooldown took over (3 per window for bob).
            assert all(first_citation(embed_of(a)) == "1.1" for a in answers[:3])
            assert "you can ask again" in answers[3]["content"]
            # Buttons go on from the process's own store (alice: not over her limit here).
            inter = await fake.user_clicks_button(
                int(answers[0]["id"]), button_ids(answers[0])[0], shards.alice
            )
            context = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
            assert first_citation(embed_of(context)) == "1.1"
            assert not bot.shared.shared
    lost = [r for r in caplog.records if "is unreachable" in r.getMessage()]
    assert len(lost) == 1, [r.getMessage() for r in lost]
    assert "per-process" in lost[0].getMessage()


async def test_a_cooldown_is_counted_across_two_os_processes(
    shards: Shards, redis_server: RedisServer, tmp_path: Path
) -> None:
    """The same, with the second bot a real `qabot run` in its own OS process."""
    from tests.discordbot.test_process import START_TIMEOUT, STOP_TIMEOUT, Child, child_env

    fake = shards.fake
    limits = {"redis_url": redis_server.url, "cooldown_questions": 2, "cooldown_seconds": 600}
    env = child_env(
        tmp_path / "child",
        DISCORD_TOKEN=fake.token,
        DISCORD_GUILD_ID=str(shards.a),
        SHARD_COUNT="2",
        SHARD_IDS=str(shard_of(shards.b)),
        REDIS_URL=redis_server.url,
        COOLDOWN_QUESTIONS="2",
        COOLDOWN_SECONDS="600",
        FAKE_API_URL=fake.base_url,
        FAKE_GATEWAY_URL=fake.gateway_url,
    )
    child = Child(["-m", "tests.discordbot.remote_launcher"], env, REPO)
    try:
        # In a thread: the fake serving the child runs on this event loop.
        await asyncio.to_thread(child.wait_for_line, "Connected to Discord", START_TIMEOUT)
        async with shards.bot_for(shards.a, **limits):  # this process: guild A's shard
            for _ in range(2):
                answer = await ask(fake, shards.alice, shards.a_channel, QUESTION)
                assert first_citation(embed_of(answer)) == "1.1"
            # Guild B is served by the other OS process: alice is over the limit there too.
            refused = await ask(fake, shards.alice, shards.b_channel, QUESTION)
            assert "you can ask again <t:" in refused["content"]
            answer = await ask(fake, shards.bob, shards.b_channel, QUESTION)
            assert first_citation(embed_of(answer)) == "1.1"
    finally:
        child.proc.send_signal(signal.SIGTERM)
        code, _, stderr = await asyncio.to_thread(child.finish, STOP_TIMEOUT)
    assert code == 0, stderr
    assert "Sharing cooldowns and answers through Redis" in stderr
