"""Fixtures for end-to-end tests: the real bot class and discord.py against FakeDiscord."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.answer.engine import Engine
from bot.discordbot.client import QABot, make_bot
from bot.discordbot.sync_state import SyncState
from bot.live import LiveEngine
from bot.settings import Settings, load_settings
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import fake_discord  # noqa: F401  (a fixture)
from tests.fakediscord.harness import running_client

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"


def settings_for(fake: FakeDiscord | None, **env: Any) -> Settings:
    """Build settings as `qabot run` would, from an environment only (no .env file).

    Lexical ranking unless a test asks for SEMANTIC (the model costs seconds to load), and
    no folder watching unless a test asks for WATCH_CORPUS.
    """
    environ = {"CORPUS_DIR": str(CORPUS), "SEMANTIC": "false", "WATCH_CORPUS": "false"}
    if fake is not None:
        environ["DISCORD_TOKEN"] = fake.token
        if fake.world is not None:
            environ["DISCORD_GUILD_ID"] = str(fake.world.guild_id)
    for key, value in env.items():
        if value is None:
            environ.pop(key.upper(), None)
        else:
            environ[key.upper()] = str(value)
    return load_settings(env_file=None, environ=environ)


@pytest.fixture(scope="session")
def live() -> LiveEngine:
    """Load the repository's corpus once, in memory, as the bot serves it (never reloaded)."""
    return LiveEngine(CORPUS)


@pytest.fixture(scope="session")
def engine(live: LiveEngine) -> Engine:
    """Return the engine the bot answers from."""
    return live.engine


BotStarter = Callable[..., contextlib.AbstractAsyncContextManager[QABot]]


@pytest_asyncio.fixture
async def start_bot(
    fake_discord: FakeDiscord,  # noqa: F811
    live: LiveEngine,
    tmp_path: Path,
) -> AsyncIterator[BotStarter]:
    """Yield a function that runs the real bot against the fake until its block ends."""

    @contextlib.asynccontextmanager
    async def start(**env: Any) -> AsyncIterator[QABot]:
        settings = settings_for(fake_discord, **env)
        bot = make_bot(settings, live, sync_state=SyncState(tmp_path / "state"))
        async with running_client(bot, fake_discord) as running:
            yield running

    yield start


@pytest_asyncio.fixture
async def bot(start_bot: BotStarter) -> AsyncIterator[QABot]:
    """Run the bot with default settings (guild sync, cooldown off) for one test."""
    async with start_bot(cooldown_questions=0) as running:
        yield running
