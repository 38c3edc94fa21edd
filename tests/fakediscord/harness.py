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
    timeout: float = 60.0,  # a cap for a loaded 2-core machine, not a speed target
    guild_ready_timeout: float | None = 0.05,
    skip_identify_delay: bool = True,
) -> AsyncIterator[ClientT]:
    """Start `client` against `fake`, wait for on_ready, and always close it afterwards.

    discord.py waits `guild_ready_timeout` (2 s by default) after the last GUILD_CREATE
    before firing on_ready; a small value keeps tests fast (None keeps the client's). Its
    `before_identify_hook` also sleeps 5 s before every IDENTIFY but the first (re-identify
    after an invalid session, extra shards); `skip_identify_delay` replaces that hook on this
    instance only, unless the client's class overrides the hook itself.
    """
    if guild_ready_timeout is not None:
        client._connection.guild_ready_timeout = guild_ready_timeout
    hook_is_default = type(client).before_identify_hook is discord.Client.before_identify_hook
    if skip_identify_delay and hook_is_default:

        async def _no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
            return None

        client.before_identify_hook = _no_identify_delay  # type: ignore[method-assign]
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
