"""Admin commands: the owner's /reload, and /qa for members with the Manage Server permission.

Discord hides /qa from members without Manage Server by default, but a server can grant it
to anyone, so the permission is checked again on every use, button clicks included.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordbot import embeds, notices
from bot.discordbot.engines import counts
from bot.discordbot.guilds import GuildConfig
from bot.discordbot.routing import Via
from bot.discordbot.safetext import fit_embed, safe_text
from bot.discordbot.sending import NO_MENTIONS, apologise, defer, fill_deferred, notify

if TYPE_CHECKING:
    from bot.discordbot.client import QABot
    from bot.discordbot.cogs.feedback import Feedback

log = logging.getLogger("bot.discordbot.client")

ADMIN_ONLY_NOTICE = "Only members with the Manage Server permission can change the bot here."
NO_STATE_NOTICE = "This bot keeps no settings database, so nothing can be changed from Discord."
GAPS_DAYS = (7, 30)
ADD_REFUSED_NOTICE = "Only the bot's owner can add articles from the web."


def pinned_notice(names: list[str]) -> str:
    """Say which settings the operator fixed in guilds.toml."""
    return (
        f"The bot's operator pinned {', '.join(names)} in guilds.toml: "
        "it can only be changed there."
    )


def settings_embed(config: GuildConfig) -> discord.Embed:
    """Show a server's settings, marking the pinned ones."""

    def channels(ids: frozenset[int]) -> str:
        return ", ".join(f"<#{c}>" for c in sorted(ids)) or "none"

    rows = [
        (
            "allowed channels",
            channels(config.allowed_channels) if config.allowed_channels else "every channel",
            "allowed_channels",
        ),
        ("ask channels", channels(config.ask_channels), "ask_channels"),
        ("k (passages per answer)", str(config.k), "k"),
        (
            "cooldown",
            f"{config.cooldown_questions} questions per {config.cooldown_seconds:g} s",
            "cooldown_questions",
        ),
        ("private by default", "yes" if config.private else "no", "private"),
        ("store question text", "yes" if config.store_questions else "no", "store_questions"),
        ("retention", f"{config.retention_days} days", "retention_days"),
        ("articles usable in DMs", "yes" if config.dm_articles else "no", "dm_articles"),
    ]
    lines = [
        f"• {label}: {value}{' (pinned in guilds.toml)' if name in config.pinned else ''}"
        for label, value, name in rows
    ]
    embed = discord.Embed(
        title="Settings for this server", description="\n".join(lines), colour=embeds.USAGE_COLOUR
    )
    return fit_embed(embed)


class GapsButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"qa:gaps:(?P<days>7|30)"
):
    """Switch the /qa gaps report between 7 and 30 days (Manage Server checked on click)."""

    def __init__(self, days: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Last {days} days",
                style=discord.ButtonStyle.secondary,
                custom_id=f"qa:gaps:{days}",
            )
        )
        self.days = days

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> GapsButton:
        """Rebuild the button from its custom id."""
        return cls(int(match.group("days")))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Show the report for the other period, if the clicker still may."""
        bot: Any = interaction.client
        admin: Admin = bot.get_cog("Admin")
        try:
            if await admin.refuse(interaction):
                return
            embed, view = admin.gaps_report(interaction, self.days)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception:
            await apologise(interaction, Via.SLASH)


class Admin(commands.Cog):
    """/reload for the owner; /qa channels, settings, reload and gaps for server admins."""

    qa = app_commands.Group(
        name="qa",
        description="Set up the bot in this server (Manage Server).",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def refuse(self, interaction: discord.Interaction[Any]) -> bool:
        """Refuse (privately) anyone without Manage Server in this server; True if refused."""
        if interaction.guild_id is not None and interaction.permissions.manage_guild:
            return False
        log.info(
            "admin command refused: user=%s guild=%s lacks Manage Server",
            interaction.user.id,
            interaction.guild_id or "-",
        )
        await notify(interaction, ADMIN_ONLY_NOTICE)
        return True

    async def _change(
        self, interaction: discord.Interaction[Any], values: dict[str, Any]
    ) -> GuildConfig | None:
        """Store admins' changes unless pinned; notify and None when refused."""
        bot = self.bot
        guild_id = interaction.guild_id
        assert guild_id is not None
        config = bot.config_for(guild_id)
        pinned = sorted(name for name in values if name in config.pinned)
        if pinned:
            await notify(interaction, pinned_notice(pinned))
            return None
        if bot.state is None:
            await notify(interaction, NO_STATE_NOTICE)
            return None
        bot.state.set_guild_values(guild_id, values, by=interaction.user.id)
        if values.get("store_questions") is False:
            bot.state.forget_text(guild_id)
        bot.forget_config(guild_id)
        log.info(
            "settings changed: guild=%s user=%s %s",
            guild_id,
            interaction.user.id,
            ", ".join(sorted(values)),
        )
        return bot.config_for(guild_id)

    # /qa channels

    @qa.command(name="channels", description="Choose where the bot answers in this server.")
    @app_commands.describe(
        action="allow, disallow, make an ask channel (every message is a question), or stop that",
        channel="The channel (default: this one)",
    )
    async def channels(
        self,
        interaction: discord.Interaction[Any],
        action: Literal["allow", "disallow", "ask", "unask", "show"],
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Allow or disallow a channel, or make it an ask channel."""
        try:
            if await self.refuse(interaction):
                return
            config = self.bot.config_for(interaction.guild_id)
            if action == "show":
                await interaction.response.send_message(
                    embed=settings_embed(config), ephemeral=True, allowed_mentions=NO_MENTIONS
                )
                return
            channel_id = channel.id if channel is not None else interaction.channel_id
            assert channel_id is not None
            allowed, ask = set(config.allowed_channels), set(config.ask_channels)
            if action == "allow":
                allowed.add(channel_id)
            elif action == "disallow":
                if not allowed:
                    # Everything was allowed: keep every other channel the bot can see.
                    guild = interaction.guild
                    allowed = {c.id for c in guild.text_channels} if guild is not None else set()
                allowed.discard(channel_id)
                ask.discard(channel_id)
            elif action == "ask":
                ask.add(channel_id)
                if allowed:
                    allowed.add(channel_id)
            else:
                ask.discard(channel_id)
            values = {"allowed_channels": sorted(allowed), "ask_channels": sorted(ask)}
            if values["ask_channels"] == sorted(config.ask_channels):
                del values["ask_channels"]
            if values["allowed_channels"] == sorted(config.allowed_channels):
                del values["allowed_channels"]
            if not values:
                await notify(interaction, "Nothing to change: the channel is already set so.")
                return
            changed = await self._change(interaction, values)
            if changed is not None:
                await interaction.response.send_message(
                    embed=settings_embed(changed), ephemeral=True, allowed_mentions=NO_MENTIONS
                )
        except Exception:
            await apologise(interaction, Via.SLASH)

    # /qa settings

    @qa.command(name="settings", description="Show or change how the bot answers here.")
    @app_commands.describe(
        k="Passages per answer (1-10)",
        cooldown_questions="Questions each member may ask per cooldown window (0: no limit)",
        cooldown_seconds="The cooldown window in seconds",
        private="Answer /ask privately unless the asker says otherwise",
        store_questions="Keep question text for /qa gaps (otherwise only counts and citations)",
        retention_days="Days questions and votes are kept",
        dm_articles="Let members pick this server's articles in DMs (if the operator allows)",
    )
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        k: app_commands.Range[int, 1, 10] | None = None,
        cooldown_questions: app_commands.Range[int, 0, 1000] | None = None,
        cooldown_seconds: app_commands.Range[float, 0.0, 86400.0] | None = None,
        private: bool | None = None,
        store_questions: bool | None = None,
        retention_days: app_commands.Range[int, 1, 3650] | None = None,
        dm_articles: bool | None = None,
    ) -> None:
        """Change the given settings, or show them all when none is given."""
        try:
            if await self.refuse(interaction):
                return
            given = {
                "k": k,
                "cooldown_questions": cooldown_questions,
                "cooldown_seconds": cooldown_seconds,
                "private": private,
                "store_questions": store_questions,
                "retention_days": retention_days,
                "dm_articles": dm_articles,
            }
            values = {name: value for name, value in given.items() if value is not None}
            config: GuildConfig | None = self.bot.config_for(interaction.guild_id)
            if values:
                config = await self._change(interaction, values)
            if config is not None:
                await interaction.response.send_message(
                    embed=settings_embed(config), ephemeral=True, allowed_mentions=NO_MENTIONS
                )
        except Exception:
            await apologise(interaction, Via.SLASH)

    # /qa reload

    @qa.command(name="reload", description="Re-read this server's articles folder.")
    async def qa_reload(self, interaction: discord.Interaction[Any]) -> None:
        """Reload the corpus this server answers from."""
        try:
            if await self.refuse(interaction):
                return
            await defer(interaction, ephemeral=True)
            config = self.bot.config_for(interaction.guild_id)
            await self._reload(interaction, config)
        except Exception:
            await apologise(interaction, Via.SLASH)

    async def _reload(self, interaction: discord.Interaction[Any], config: GuildConfig) -> None:
        if config.corpus is None:
            await fill_deferred(interaction, content=notices.NO_CORPUS_NOTICE)
            return
        await self.bot.engine_for(config)  # built first if no one asked yet
        live = self.bot.engines.live_for(config.corpus)
        if live is None:
            await fill_deferred(interaction, content=notices.RELOAD_UNAVAILABLE)
            return
        log.info("reload asked for: user=%s guild=%s", interaction.user.id, interaction.guild_id)
        before = counts(live.engine)
        result = await live.areload()  # in a worker thread; questions go on meanwhile
        await fill_deferred(
            interaction, embed=embeds.reload_embed(result, before, counts(live.engine))
        )

    # /qa add (the application's owner)

    @qa.command(name="add", description="Owner only: save a web article into this server's folder.")
    @app_commands.describe(url="The article's address (http:// or https://)")
    async def add(self, interaction: discord.Interaction[Any], url: str) -> None:
        """Fetch an article page into the server's corpus folder and reload it."""
        try:
            await defer(interaction, ephemeral=True)
            if not await self.bot.is_owner(interaction.user):
                await fill_deferred(interaction, content=ADD_REFUSED_NOTICE)
                return
            config = self.bot.config_for(interaction.guild_id)
            if config.corpus is None:
                await fill_deferred(interaction, content=notices.NO_CORPUS_NOTICE)
                return
            from bot.feeds.service import add_urls

            log.info("add asked for by the owner: guild=%s", interaction.guild_id)
            report = await asyncio.to_thread(add_urls, [url], config.corpus, self.bot.settings)
            lines = report.lines() or ["Nothing was saved."]
            if report.changed:
                await self.bot.engine_for(config)
                live = self.bot.engines.live_for(config.corpus)
                if live is not None:
                    result = await live.areload()
                    lines.append(result.message)
            embed = discord.Embed(
                title="Added" if report.changed else "Not added",
                description=safe_text("\n".join(lines), 4000, keep_newlines=True),
                colour=embeds.RELOADED_COLOUR if report.changed else embeds.RELOAD_FAILED_COLOUR,
            )
            await fill_deferred(interaction, embed=embed)
        except Exception:
            await apologise(interaction, Via.SLASH)

    # /qa gaps

    @qa.command(name="gaps", description="What the articles could not answer, and thumbs-down.")
    @app_commands.describe(days="How far back to look")
    async def gaps(self, interaction: discord.Interaction[Any], days: Literal[7, 30] = 7) -> None:
        """Report declined and unsure questions, most-asked articles and 👎 answers."""
        try:
            if await self.refuse(interaction):
                return
            if self.bot.state is None:
                await notify(interaction, NO_STATE_NOTICE)
                return
            embed, view = self.gaps_report(interaction, days)
            await interaction.response.send_message(
                embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except Exception:
            await apologise(interaction, Via.SLASH)

    def gaps_report(
        self, interaction: discord.Interaction[Any], days: int
    ) -> tuple[discord.Embed, discord.ui.View]:
        """Build the report and the button to switch its period."""
        feedback: Feedback = self.bot.get_cog("Feedback")  # type: ignore[assignment]
        assert interaction.guild_id is not None
        embed = feedback.gaps(interaction.guild_id, days)
        view = discord.ui.View(timeout=None)
        view.add_item(GapsButton(30 if days == 7 else 7))
        return embed, view

    # /reload (the application's owner)

    # Only the application's owner (or its team's admins and developers) may run it; the
    # handler checks. Servers show it to administrators only, unless they grant it to others.
    @app_commands.command(
        name="reload", description="Owner only: re-read the articles folder and swap the index."
    )
    @app_commands.default_permissions(administrator=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def reload(self, interaction: discord.Interaction[Any]) -> None:
        """Reload the articles for the application's owner; refuse everyone else, privately."""
        try:
            # Deferred first: the owner check may ask Discord, and the reload takes a while.
            await defer(interaction, ephemeral=True)
            user = interaction.user
            if not await self.bot.is_owner(user):
                log.info(
                    "reload refused: user=%s guild=%s channel=%s is not the owner",
                    user.id,
                    interaction.guild_id or "-",
                    interaction.channel_id or "-",
                )
                await fill_deferred(interaction, content=notices.RELOAD_REFUSED)
                return
            log.info("reload asked for by the owner: user=%s", user.id)
            await self._reload(interaction, self.bot.config_for(interaction.guild_id))
        except Exception:
            await apologise(interaction, Via.SLASH)
