"""The bot's connection to Discord: the gateway intents it asks for, and a clean close."""

from __future__ import annotations

import logging
import struct

import aiohttp
import discord
from discord.gateway import DiscordWebSocket

from bot.settings import Settings

log = logging.getLogger("bot.discordbot.client")


def build_intents(settings: Settings) -> discord.Intents:
    """Ask only for what the bot reads: guilds, messages, and message text when enabled."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    # Privileged: the portal must allow it, or Discord closes the gateway with 4014.
    intents.message_content = settings.message_content_intent
    return intents


async def send_normal_closure(ws: DiscordWebSocket | None) -> None:
    """Send the close frame 1000 before discord.py closes the socket its own way.

    The single-connection client's reader is always waiting on the socket, and aiohttp hands
    a close to that reader, which closes with code 4000: Discord then keeps the session for a
    resume and shows the bot online for minutes after it stopped. (Sharded clients cancel
    their readers first and already close with 1000.)
    """
    socket = getattr(ws, "socket", None)
    send_frame = getattr(socket, "send_frame", None)  # aiohttp >= 3.11
    if ws is None or socket is None or send_frame is None or socket.closed:
        return
    ws._close_code = 1000  # tell the reader this closure is ours, not a reason to reconnect
    try:
        await send_frame(struct.pack("!H", 1000), aiohttp.WSMsgType.CLOSE)
    except Exception as exc:  # the socket may already be gone; closing goes on regardless
        log.debug("Could not send the close frame: %s", exc)
