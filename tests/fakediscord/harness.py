"""Run a real discord.py client against a FakeDiscord inside a test, with hard timeouts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import discord

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def running_client(
    client: ClientT,
    fake: FakeDiscord,
    *,
    token: str | None = None,
    timeout: float = 10.0,
    guild_ready_timeout: float | None = 0.05,
) -> AsyncIterator[ClientT]:
    """Start `client` against `fake`, wait for on_ready, and always close it afterwards.

    discord.py waits `guild_ready_timeout` (2 s by default) after the last GUILD_CREATE
    before firing on_ready; a small value keeps tests fast. Pass None to keep the client's.
    """
    if guild_ready_timeout is not None:
        client._connection.guild_ready_timeout = guild_ready_timeout
    task = asyncio.create_task(client.start(token or fake.token), name="discord-client")
    try:
        async with asyncio.timeout(timeout):
            while not client.is_ready():
                if task.done():
                    task.result()
                    raise RuntimeError("client.start() returned before the client was ready")
                await asyncio.sleep(0.01)
        yield client
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), timeout)
        if not task.done():
            task.cancel()
        # asyncio.wait neither raises the task's error nor swallows our own cancellation.
        await asyncio.wait([task], timeout=timeout)
        if task.done() and not task.cancelled():
            task.exception()
