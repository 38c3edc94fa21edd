"""Bot processes sharing cooldowns and answers through a real redis-server on loopback.

The main test runs real ``qabot run`` children, each serving one gateway shard of the test's
fake Discord with its own state database, as processes on two machines would: a member's
cooldown is counted across both; a button on an answer one process made is answered by
another that never saw it (the shard's process replaced, as in a rolling deploy); and when
redis-server stops mid-run both go on answering with per-process state, each saying so once
in its log. The controls without Redis run bots in this process (one process's worth of
state each).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from tests.discordbot.conftest import settings_for
from tests.discordbot.helpers import button_ids, embed_of, final_message, first_citation
from tests.discordbot.test_process import START_TIMEOUT, STOP_TIMEOUT, Child, child_env
from tests.fakediscord import FakeDiscord, FakeInteraction, FakeUser
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


async def test_without_redis_each_process_counts_alone(shards: Shards) -> None:
    fake = shards.fake
    limits = {"cooldown_questions": 2, "cooldown_seconds": 600}
    async with shards.bot_for(shards.a, **limits), shards.bot_for(shards.b, **limits):
        for _ in range(2):
            await ask(fake, shards.alice, shards.a_channel, QUESTION)
        answer = await ask(fake, shards.alice, shards.b_channel, QUESTION)
        assert first_citation(embed_of(answer)) == "1.1"


async def test_without_redis_a_new_process_cannot_know_an_answer(shards: Shards) -> None:
    """The control for the shared store: the button says plainly that the answer expired."""
    fake = shards.fake
    async with shards.bot_for(shards.a, cooldown_questions=0):
        answer = await ask(fake, shards.alice, shards.a_channel, LONG_QUESTION)
    async with shards.bot_for(shards.a, cooldown_questions=0):
        inter = await fake.user_clicks_button(
            int(answer["id"]), button_ids(answer)[0], shards.alice
        )
        notice = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
        assert notice["content"] == notices.EXPIRED_NOTICE


REFUSED = "you can ask again <t:"


class Processes:
    """Start bot processes for the shards of two guilds, and stop them all at the end."""

    def __init__(self, shards: Shards, redis_url: str) -> None:
        self.fake = shards.fake
        self.tmp = shards.tmp
        self.redis_url = redis_url
        self.children: list[Child] = []

    async def start(self, name: str, guild_id: int) -> Child:
        """Run `qabot run` for the shard serving guild_id, with its own state folder."""
        env = child_env(
            self.tmp / name,
            DISCORD_TOKEN=self.fake.token,
            SHARD_COUNT="2",
            SHARD_IDS=str(shard_of(guild_id)),
            REDIS_URL=self.redis_url,
            COOLDOWN_QUESTIONS="2",
            COOLDOWN_SECONDS="600",
            FAKE_API_URL=self.fake.base_url,
            FAKE_GATEWAY_URL=self.fake.gateway_url,
        )
        # No .env: the working folder is the child's own.
        (self.tmp / name).mkdir(parents=True, exist_ok=True)
        child = Child(["-m", "tests.discordbot.remote_launcher"], env, self.tmp / name)
        self.children.append(child)
        # In a thread: the fake serving the child runs on this event loop.
        await asyncio.to_thread(child.wait_for_line, "Connected to Discord", START_TIMEOUT)
        return child

    async def stop(self, child: Child) -> str:
        """Stop a child with SIGTERM; check it exits 0; return its whole log."""
        child.proc.send_signal(signal.SIGTERM)
        code, _, stderr = await asyncio.to_thread(child.finish, STOP_TIMEOUT)
        self.children.remove(child)
        assert code == 0, stderr
        return stderr

    def kill_all(self) -> None:
        for child in self.children:
            child.kill()


async def answered_by(child: Child, inter: FakeInteraction, fake: FakeDiscord) -> dict[str, Any]:
    """Wait for the user to see the interaction's result and for `child` to log it."""
    message = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
    await asyncio.to_thread(child.wait_for_line, f" id={inter.id} ", WAIT)
    return message


async def ask_child(
    fake: FakeDiscord, child: Child, user: FakeUser, channel_id: int, question: str = QUESTION
) -> dict[str, Any]:
    inter = await fake.user_runs_slash_command("ask", {"question": question}, user, channel_id)
    return await answered_by(child, inter, fake)


async def click_context(
    fake: FakeDiscord, message: dict[str, Any], user: FakeUser
) -> dict[str, Any]:
    """Click Show context on an answer (the process serving its server's shard handles it)."""
    inter = await fake.user_clicks_button(int(message["id"]), button_ids(message)[0], user)
    shown = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
    return shown


async def test_two_bot_processes_share_one_redis(shards: Shards, redis_server: RedisServer) -> None:
    fake = shards.fake
    run = Processes(shards, redis_server.url)
    alice, bob = shards.alice, shards.bob
    carol = fake.add_user("carol", guild_ids=[shards.a, shards.b])
    try:
        first, second = await asyncio.gather(
            run.start("first", shards.a), run.start("second", shards.b)
        )
        # A member's cooldown (2 per 10 minutes) is counted across both processes.
        answer = await ask_child(fake, first, alice, shards.a_channel, LONG_QUESTION)
        assert embed_of(answer)["title"].endswith("…")  # the question cannot be read back
        cited = first_citation(embed_of(answer))
        assert (
            first_citation(embed_of(await ask_child(fake, second, alice, shards.b_channel)))
            == "1.1"
        )
        assert REFUSED in (await ask_child(fake, second, alice, shards.b_channel))["content"]
        assert REFUSED in (await ask_child(fake, first, alice, shards.a_channel))["content"]

        # The first process goes (a rolling deploy); its replacement keeps its own, empty
        # state database: only Redis knows the answer behind the button.
        await run.stop(first)
        replacement = await run.start("replacement", shards.a)
        context = await click_context(fake, answer, bob)
        assert first_citation(embed_of(context)) == cited

        # Redis stops: both go on answering, each with its own cooldown table now.
        redis_server.stop()
        in_a = [await ask_child(fake, replacement, carol, shards.a_channel) for _ in range(3)]
        assert [first_citation(embed_of(m)) for m in in_a[:2]] == ["1.1", "1.1"]
        assert REFUSED in in_a[2]["content"]
        in_b = [await ask_child(fake, second, carol, shards.b_channel) for _ in range(2)]
        assert [first_citation(embed_of(m)) for m in in_b] == ["1.1", "1.1"]  # counted alone
        # A button goes on from the process's own store.
        context = await click_context(fake, in_b[0], bob)
        assert first_citation(embed_of(context)) == "1.1"

        logs = [await run.stop(replacement), await run.stop(second)]
    finally:
        run.kill_all()
    for log in logs:
        assert "Sharing cooldowns and answers through Redis" in log
        lost = [line for line in log.splitlines() if "is unreachable" in line]
        assert len(lost) == 1 and "per-process" in lost[0], lost
        assert fake.token not in log
