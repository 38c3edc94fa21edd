"""Asking: /ask, /sources and /help, and questions in mentions, replies, DMs and ask channels."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordbot import embeds, notices
from bot.discordbot.client import where
from bot.discordbot.guilds import GuildConfig
from bot.discordbot.logs import log_question
from bot.discordbot.routing import Action, Decision, Via, bot_role_id, decide, facts_from_message
from bot.discordbot.sending import (
    NO_MENTIONS,
    apologise,
    defer,
    fill_deferred,
    reply,
)

if TYPE_CHECKING:
    from bot.discordbot.client import QABot

log = logging.getLogger("bot.discordbot.client")


def _guild_only_commands(command: Any) -> Any:
    # Guild installs only; DMs with the bot are allowed here and checked against ALLOW_DMS.
    command = app_commands.allowed_installs(guilds=True, users=False)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)(command)


class Asking(commands.Cog):
    """Answer questions however they reach the bot."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    # Slash commands

    @_guild_only_commands
    @app_commands.command(name="ask", description="Ask a question about the indexed articles.")
    @app_commands.describe(
        question="Your question, in plain words",
        private="Show the answer only to you (default: the server's setting)",
    )
    async def ask(
        self, interaction: discord.Interaction[Any], question: str, private: bool | None = None
    ) -> None:
        """Answer /ask: defer at once, answer off the loop, send the embed and buttons."""
        started = time.monotonic()
        guild_id, channel_id, _ = where(interaction)
        bot = self.bot
        try:
            if await bot.refuse_interaction(interaction):
                log_question(Via.SLASH, guild_id, channel_id, started, "refused", interaction.id)
                return
            config = bot.config_for(guild_id)
            private = config.private if private is None else private
            await defer(interaction, ephemeral=private)
            engine, notice = await bot.engine_or_notice(config)
            if engine is None:
                await fill_deferred(interaction, content=notice)
                log_question(Via.SLASH, guild_id, channel_id, started, "no-corpus", interaction.id)
                return
            # /ask in a thread under an answer (or in a DM) continues that conversation.
            context = await bot.conversation(interaction.channel_id)
            answer = await bot.ask_engine(engine, question, config.k, previous=context)
            shown = await bot.present(
                answer,
                engine,
                config,
                asker_id=interaction.user.id,
                private=private,
                context=context,
            )
            message = await fill_deferred(interaction, embed=shown.embed, view=shown.view)
            if not private:
                await bot.remember_shown(shown.answer_id, message)
            log_question(Via.SLASH, guild_id, channel_id, started, answer, interaction.id, question)
        except Exception:
            await apologise(interaction, Via.SLASH)

    @_guild_only_commands
    @app_commands.command(name="sources", description="List the articles the bot answers from.")
    async def sources(self, interaction: discord.Interaction[Any]) -> None:
        """List this server's articles, visible only to the asker."""
        try:
            bot = self.bot
            if await bot.refuse_interaction(interaction, counts=False):
                return
            config = bot.config_for(interaction.guild_id)
            await defer(interaction, ephemeral=True)  # the server's engine may load first
            engine, notice = await bot.engine_or_notice(config)
            if engine is None:
                await fill_deferred(interaction, content=notice)
                return
            await fill_deferred(interaction, embed=embeds.sources_embed(engine.articles))
        except Exception:
            await apologise(interaction, Via.SLASH)

    @_guild_only_commands
    @app_commands.command(name="help", description="Explain how to ask the bot questions.")
    async def help_(self, interaction: discord.Interaction[Any]) -> None:
        """Explain how to ask here, visible only to the asker."""
        try:
            bot = self.bot
            config = bot.config_for(interaction.guild_id)
            engine = bot.engines.current(config.corpus)
            embed = embeds.help_embed(
                bot_name=bot.user.display_name if bot.user else "the bot",
                allow_dms=config.allow_dms,
                ask_channel_ids=config.ask_channels if config.message_content_intent else (),
                cooldown_questions=config.cooldown_questions,
                cooldown_seconds=config.cooldown_seconds,
                articles=len(engine.articles) if engine is not None else None,
                has_corpus=config.corpus is not None,
            )
            await interaction.response.send_message(
                embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except Exception:
            await apologise(interaction, Via.SLASH)

    # Messages: mentions, replies, DMs and ask channels

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer messages addressed to the bot; ignore everything else."""
        bot = self.bot
        if bot.user is None:
            return
        guild_id = message.guild.id if message.guild else None
        config = bot.config_for(guild_id)
        role_id = bot_role_id(message)
        facts = facts_from_message(message, bot.user.id, role_id)
        decision = decide(facts, config.policy, bot.user.id, role_id)
        if decision.action is Action.IGNORE:
            return
        try:
            await self._answer_message(message, decision, config)
        except Exception:
            log.exception(
                "Answering a message failed: message=%s guild=%s channel=%s user=%s",
                message.id,
                guild_id,
                message.channel.id,
                message.author.id,
            )
            try:
                await reply(message, content=notices.APOLOGY)
            except discord.HTTPException:
                log.warning("Could not send the apology for message %s.", message.id)

    async def _answer_message(
        self, message: discord.Message, decision: Decision, config: GuildConfig
    ) -> None:
        bot = self.bot
        started = time.monotonic()
        via = decision.via or Via.MENTION
        guild_id = config.guild_id
        channel_id = message.channel.id
        verdict = await bot.shared.check_cooldown(
            message.author.id,
            questions=config.cooldown_questions,
            seconds=config.cooldown_seconds,
        )
        if not verdict.allowed:
            if verdict.notify:
                await reply(message, content=notices.cooldown_notice(verdict.retry_after))
            log_question(via, guild_id, channel_id, started, "cooldown", message.id)
            return
        if decision.action is Action.DMS_OFF:
            await reply(message, content=notices.DMS_OFF_NOTICE)
            log_question(via, guild_id, channel_id, started, "dms-off", message.id)
            return
        if decision.action is Action.UNREADABLE:
            await reply(message, content=notices.UNREADABLE_NOTICE)
            log_question(via, guild_id, channel_id, started, "unreadable", message.id)
            return
        engine, notice = await bot.engine_or_notice(config)
        if engine is None:
            await reply(message, content=notice)
            log_question(via, guild_id, channel_id, started, "no-corpus", message.id)
            return
        reference = message.reference
        context = await bot.conversation(
            message.channel.id, reference.message_id if reference else None
        )
        answer = await bot.ask_engine(engine, decision.question, config.k, previous=context)
        shown = await bot.present(
            answer, engine, config, asker_id=message.author.id, private=False, context=context
        )
        sent = await reply(message, embed=shown.embed, view=shown.view)
        await bot.remember_shown(shown.answer_id, sent)
        log_question(via, guild_id, channel_id, started, answer, message.id, decision.question)
