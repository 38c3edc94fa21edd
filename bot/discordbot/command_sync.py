"""Sync the slash commands at start-up: to the development guild always, globally when changed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.discordbot.invite import invite_url
from bot.discordbot.sync_state import SyncState, commands_hash, same_commands
from bot.settings import Settings

log = logging.getLogger("bot.discordbot.client")


class CommandSync:
    """Mixed into the bot: decide whether to sync its commands, and sync them."""

    settings: Settings
    sync_state: SyncState
    global_synced: bool | None
    http: Any

    if TYPE_CHECKING:

        @property
        def tree(self) -> app_commands.CommandTree[Any]: ...

        @property
        def application_id(self) -> int | None: ...

    def command_payloads(self) -> list[dict[str, Any]]:
        """Return the global commands as Discord receives them."""
        return [command.to_dict(self.tree) for command in self.tree.get_commands()]

    async def sync_on_start(self) -> None:
        """Sync to the development guild every start; globally only when commands changed."""
        guild_id = self.settings.discord_guild_id
        if guild_id is not None:
            try:
                await self.sync_guild(guild_id)
            except discord.HTTPException as exc:
                log.error("Could not sync the slash commands to guild %s: %s", guild_id, exc)
            log.info(
                "Global slash commands left as they are while DISCORD_GUILD_ID is set; "
                "run `qabot sync --global` to publish them to every server."
            )
            return
        assert self.application_id is not None  # set by login()
        payloads = self.command_payloads()
        digest = commands_hash(payloads)
        if self.sync_state.load(self.application_id) == digest:
            self.global_synced = False
            log.info("Slash commands unchanged since the last global sync; not syncing.")
            return
        # No record (a fresh container, another machine): ask Discord what it has.
        if await self._discord_has(payloads):
            self.sync_state.save(self.application_id, digest)
            self.global_synced = False
            log.info("Discord already has these slash commands; not syncing.")
            return
        try:
            await self.sync_global()
        except discord.HTTPException as exc:
            # Messages and the existing commands still work; the next start tries again.
            log.error("Could not sync the slash commands globally: %s", exc)

    async def _discord_has(self, payloads: list[dict[str, Any]]) -> bool:
        """Tell whether Discord's global commands already match these payloads."""
        assert self.application_id is not None
        try:
            registered = await self.http.get_global_commands(self.application_id)
        except discord.HTTPException as exc:
            log.debug("Could not fetch the global commands: %s", exc)
            return False
        return same_commands(payloads, [dict(c) for c in registered])

    async def sync_guild(self, guild_id: int) -> int:
        """Copy the commands to one guild and sync them there (they appear at once)."""
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.Forbidden:
            assert self.application_id is not None
            log.error(
                "Could not sync slash commands to guild %s: the bot is not in that server or "
                "was invited without the applications.commands scope. Invite it with %s, or "
                "fix DISCORD_GUILD_ID.",
                guild_id,
                invite_url(self.application_id),
            )
            return 0
        log.info("Synced %d slash commands to guild %s.", len(synced), guild_id)
        return len(synced)

    async def sync_global(self) -> int:
        """Sync the commands globally and remember their hash."""
        assert self.application_id is not None
        synced = await self.tree.sync()
        self.sync_state.save(self.application_id, commands_hash(self.command_payloads()))
        self.global_synced = True
        log.info(
            "Synced %d slash commands globally; Discord can take up to an hour to show them "
            "everywhere.",
            len(synced),
        )
        return len(synced)
