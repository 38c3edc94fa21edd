"""Which servers' articles a user may pick in DMs: the operator, the server and membership agree.

With ``DM_SERVER_ARTICLES`` on, a question asked in DMs (``/ask server:``) may answer from a
server's articles when that server set ``dm_articles`` (guilds.toml or ``/qa settings``) and
the user is a member of it — asked of Discord, remembered for a minute. The settings used are
the server's (its corpus, passages per answer), but the question stays a DM's: nothing of it
is kept for that server's ``/qa gaps``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from bot.discordbot import notices
from bot.discordbot.guilds import GuildConfig

if TYPE_CHECKING:
    from bot.discordbot.client import QABot

log = logging.getLogger(__name__)

# How long a membership answer from Discord is trusted, and how many are remembered.
MEMBERSHIP_SECONDS = 60.0
MEMBERSHIP_LIMIT = 10_000
# Discord shows at most 25 autocomplete choices.
CHOICES = 25


class DMServers:
    """Decide, per user, which servers' articles a DM question may use."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._members: dict[tuple[int, int], tuple[float, bool]] = {}

    def offered(self) -> list[discord.Guild]:
        """Return the servers that let their articles be picked in DMs (membership aside)."""
        bot = self.bot
        if not bot.settings.dm_server_articles:
            return []
        picked = []
        for guild in bot.guilds:
            config = bot.config_for(guild.id)
            if config.dm_articles and config.corpus is not None:
                picked.append(guild)
        return picked

    async def is_member(self, guild: discord.Guild, user_id: int) -> bool:
        """Tell whether the user is a member of the server (cached for a minute)."""
        key = (guild.id, user_id)
        now = time.monotonic()
        known = self._members.get(key)
        if known is not None and now - known[0] < MEMBERSHIP_SECONDS:
            return known[1]
        member = guild.get_member(user_id) is not None
        if not member:
            try:
                await guild.fetch_member(user_id)
                member = True
            except (discord.NotFound, discord.Forbidden):
                member = False
        if len(self._members) >= MEMBERSHIP_LIMIT:
            self._members.clear()
        self._members[key] = (now, member)
        return member

    async def choices(self, user_id: int, typed: str) -> list[discord.Guild]:
        """Return up to 25 servers the user may pick whose name holds what was typed."""
        needle = typed.strip().lower()
        found = []
        for guild in self.offered():
            if needle in guild.name.lower() and await self.is_member(guild, user_id):
                found.append(guild)
                if len(found) == CHOICES:
                    break
        return found

    async def config_for(self, user_id: int, server: str | int) -> GuildConfig | str:
        """Return the settings a DM answers with from a picked server, or the refusal notice.

        The server id is dropped from them (guild_id None): the question stays a DM's.
        """
        if not self.bot.settings.dm_server_articles:
            return notices.DM_SERVERS_OFF_NOTICE
        guild_id = int(server) if str(server).isdigit() else None
        guild = self.bot.get_guild(guild_id) if guild_id is not None else None
        if guild is None or guild not in self.offered() or not await self.is_member(guild, user_id):
            log.info("dm server refused: user=%s server=%s", user_id, guild_id or "-")
            return notices.DM_SERVER_REFUSED_NOTICE
        return replace(self.bot.config_for(guild.id), guild_id=None)
