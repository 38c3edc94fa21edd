"""Pytest fixtures for FakeDiscord; bind them in a test module or conftest.

Either `from tests.fakediscord.fixtures import fake_discord  # noqa: F401` (then ruff wants
`# noqa: F811` on each parameter), or, quieter, `fake_discord = fixtures.fake_discord` after
`from tests.fakediscord import fixtures`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord.gateway
import discord.http
import pytest_asyncio

from .server import FakeDiscord

FIXTURE_HEARTBEAT_MS = 500


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """Yield a started FakeDiscord seeded with one guild, #general, alice and bob (`.world`)."""
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake = FakeDiscord(heartbeat_interval_ms=FIXTURE_HEARTBEAT_MS)
    await fake.start()
    try:
        fake.populate_default_world()
        yield fake
    finally:
        try:
            await fake.stop()
        finally:
            # Belt and braces: never leak the loopback URLs into later tests.
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
