"""Asking: /ask, /sources and /help, and questions in mentions, replies, DMs and ask channels."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter, parse_day
from bot.discordbot import embeds, notices
from bot.discordbot.answering import where
from bot.discordbot.guilds import GuildConfig
from bot.discordbot.logs import log_question
from bot.discordbot.routing import Action, Decision, Via, bot_role_id, decide, facts_from_message
from bot.discordbot.safetext import plain
from bot.discordbot.sending import (
    NO_MENTIONS,
    apologise,
    defer,
    fill_deferred,
    notify,
    reply,
)
from bot.errors import FilterError
from bot.ingest.models import Article

if TYPE_CHECKING:
    from bot.discordbot.client import QABot

log = logging.getLogger("bot.discordbot.client")

# Discord shows at most 25 autocomplete choices.
AUTOCOMPLETE_LIMIT = 25
# How long autocomplete waits for a server's articles to load on first use (seconds).
AUTOCOMPLETE_WAIT = 2.0


def article_filter(
    article: str | None, source: str | None, after: str | None, before: str | None
) -> ArticleFilter | None:
    """Read /ask's options into a filter (None when none is given); FilterError if bad."""
    today = dt.date.today()
    since = parse_day(after, end=False, today=today, option="after") if after else None
    until = parse_day(before, end=True, today=today, option="before") if before else None
    options = ArticleFilter(
        article=article or None, source=source or None, since=since, until=until
    )
    return options or None


def article_choices(articles: Sequence[Article], typed: str) -> list[app_commands.Choice[str]]:
    """Return up to 25 articles whose title or key holds what was typed, titles shown."""
    needle = typed.strip().lower()
    choices = []
    for article in articles:
        title = article.title.strip() or article.key
        if needle in title.lower() or needle in article.key.lower():
            name = (
                plain(f"{title} ({article.date})" if article.date else title, 100)
                or article.key[:100]
            )
            if len(article.key) <= 100:
                choices.append(app_commands.Choice(name=name, value=article.key))
        if len(choices) == AUTOCOMPLETE_LIMIT:
            break
    return choices


def source_choices(articles: Sequence[Article], typed: str) -> list[app_commands.Choice[str]]:
    """Return up to 25 of the articles' sources holding what was typed, most common first."""
    needle = typed.strip().lower()
    counted = Counter(a.source.strip() for a in articles if a.source and a.source.strip())
    names = [name for name, _ in counted.most_common() if needle in name.lower()]
    return [
        app_commands.Choice(name=plain(name, 100) or "?", value=name[:100])
        for name in names[:AUTOCOMPLETE_LIMIT]
    ]


def _guild_only_commands(command: Any) -> Any:
    # Guild installs only; DMs with the bot are allowed here and checked against ALLOW_DMS.
    command = app_commands.allowed_installs(guilds=True, users=False)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)(command)


class Asking(commands.Cog):
    """Answer questions however they reach the bot."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._loading: set[asyncio.Task[Any]] = set()

    # Slash commands

    @_guild_only_commands
    @app_commands.command(name="ask", description="Ask a question about the indexed articles.")
    @app_commands.describe(
        question="Your question, in plain words",
        article="Answer from this article only",
        source="Answer from this source only (a name or web site)",
        after="Only articles dated on or after this day: 2013-11-28, 2013-11, 2013, 7d",
        before="Only articles dated on or before this day",
        private="Show the answer only to you (default: the server's setting)",
        server="In direct messages: answer from this server's articles (where it allows it)",
    )
    async def ask(
        self,
        interaction: discord.Interaction[Any],
        question: str,
        article: str | None = None,
        source: str | None = None,
        after: str | None = None,
        before: str | None = None,
        private: bool | None = None,
        server: str | None = None,
    ) -> None:
        """Answer /ask: defer at once, answer off the loop, send the embed and buttons."""
        started = time.monotonic()
        guild_id, channel_id, _ = where(interaction)
        bot = self.bot
        try:
            try:
                options = article_filter(article, source, after, before)
            except FilterError as exc:
                await notify(interaction, str(exc))
                log_question(Via.SLASH, guild_id, channel_id, started, "bad-filter", interaction.id)
                return
            if server and guild_id is not None:
                await notify(interaction, notices.SERVER_OPTION_IN_DMS_ONLY)
                log_question(Via.SLASH, guild_id, channel_id, started, "bad-server", interaction.id)
                return
            if await bot.refuse_interaction(interaction):
                log_question(Via.SLASH, guild_id, channel_id, started, "refused", interaction.id)
                return
            config = await self._config(interaction, server)
            if isinstance(config, str):
                await notify(interaction, config)
                log_question(Via.SLASH, guild_id, channel_id, started, "refused", interaction.id)
                return
            private = config.private if private is None else private
            await defer(interaction, ephemeral=private)
            engine, notice = await bot.engine_or_notice(config)
            if engine is None:
                await fill_deferred(interaction, content=notice)
                log_question(Via.SLASH, guild_id, channel_id, started, "no-corpus", interaction.id)
                return
            # /ask in a thread under an answer (or in a DM) continues that conversation.
            context = await bot.conversation(interaction.channel_id)
            answer = await bot.ask_engine(
                engine, question, config.k, previous=context, options=options
            )
            shown = await bot.present(
                answer,
                engine,
                config,
                asker_id=interaction.user.id,
                private=private,
                context=context,
                options=options,
                server=int(server) if server else None,
            )
            message = await fill_deferred(interaction, embed=shown.embed, view=shown.view)
            if not private:
                await bot.remember_shown(shown.answer_id, message)
            log_question(Via.SLASH, guild_id, channel_id, started, answer, interaction.id, question)
        except Exception:
            await apologise(interaction, Via.SLASH)

    @ask.autocomplete("article")  # type: ignore[untyped-decorator]
    async def complete_article(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Offer this server's article titles matching what the user typed."""
        engine = await self._engine_now(interaction)
        if engine is None:
            return []
        return article_choices(engine.articles, current)

    @ask.autocomplete("source")  # type: ignore[untyped-decorator]
    async def complete_source(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Offer this server's sources matching what the user typed."""
        engine = await self._engine_now(interaction)
        if engine is None:
            return []
        return source_choices(engine.articles, current)

    @ask.autocomplete("server")  # type: ignore[untyped-decorator]
    async def complete_server(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Offer, in DMs, the servers whose articles this user may pick."""
        if interaction.guild_id is not None:
            return []
        guilds = await self.bot.dm_servers.choices(interaction.user.id, current)
        return [
            app_commands.Choice(name=plain(g.name, 100) or str(g.id), value=str(g.id))
            for g in guilds
        ]

    async def _config(
        self, interaction: discord.Interaction[Any], server: str | None
    ) -> GuildConfig | str:
        """Return the settings to answer with: this server's, a DM's, or a picked server's
        in a DM (a notice when that pick is refused)."""
        if server and interaction.guild_id is None:
            return await self.bot.dm_servers.config_for(interaction.user.id, server)
        return self.bot.config_for(interaction.guild_id)

    async def _engine_now(self, interaction: discord.Interaction[Any]) -> Engine | None:
        """Return the server's engine, waiting briefly if it is loading (autocomplete must
        answer within Discord's 3 seconds)."""
        config = await self._config(interaction, getattr(interaction.namespace, "server", None))
        if isinstance(config, str):
            return None
        engine = self.bot.engines.current(config.corpus)
        if engine is not None or config.corpus is None:
            return engine
        # Start loading it; a large corpus goes on loading for the question that follows.
        task = asyncio.get_running_loop().create_task(self.bot.engine_or_notice(config))
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)
        with contextlib.suppress(TimeoutError):
            engine, _ = await asyncio.wait_for(asyncio.shield(task), AUTOCOMPLETE_WAIT)
        return engine

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
