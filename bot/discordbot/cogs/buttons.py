"""The buttons under an answer: Show context, More and Share in channel, across restarts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.answer.engine import Engine
from bot.discordbot import embeds, notices
from bot.discordbot.answer_buttons import (
    CONTEXT,
    MORE,
    SHARE,
    ButtonState,
    cited_marks,
    marks_known,
)
from bot.discordbot.answer_recipe import Recipe, asker_of
from bot.discordbot.answering import where
from bot.discordbot.answers_store import StoredAnswer
from bot.discordbot.guilds import GuildConfig
from bot.discordbot.logs import log_question
from bot.discordbot.routing import Via
from bot.discordbot.sending import NO_MENTIONS, apologise, defer, fill_deferred, notify

if TYPE_CHECKING:
    from bot.discordbot.client import QABot

ARTICLE_CHANGED_NOTICE = (
    "The article this answer quoted has changed or been removed since; ask again for a fresh "
    "answer."
)
SHARED_NOTICE = "Shared in this channel."
NOTHING_TO_SHARE_NOTICE = "There is no channel to share a direct message's answer in."


@dataclass(frozen=True)
class Clicked:
    """The answer a button belongs to, with the engine and settings of its server."""

    stored: StoredAnswer
    engine: Engine
    config: GuildConfig


class Buttons(commands.Cog):
    """Serve the answer buttons, whichever process or restart sent them."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def clicked(self, interaction: discord.Interaction[Any], state: ButtonState) -> None:
        """Handle a click on Show context, More or Share in channel."""
        started = time.monotonic()
        guild_id, channel_id, _ = where(interaction)
        try:
            if state.kind == SHARE:
                await self.share(interaction, state)
                return
            # Show context and More are questions too: the channel and the cooldown apply.
            if await self.bot.refuse_interaction(interaction):
                log_question(Via.BUTTON, guild_id, channel_id, started, "refused", interaction.id)
                return
            if state.kind == CONTEXT:
                await self.show_context(interaction, state)
            elif state.kind == MORE:
                await self.more(interaction, state, started)
        except Exception:
            await apologise(interaction, Via.BUTTON)

    async def find(
        self, interaction: discord.Interaction[Any], state: ButtonState
    ) -> Clicked | None:
        """Find the answer a button belongs to, or recompute it; notify and None if not."""
        bot = self.bot
        if state.server is not None and interaction.guild_id is None:
            # A DM's answer from a server's articles: the user must still be allowed them.
            picked = await bot.dm_servers.config_for(interaction.user.id, state.server)
            if isinstance(picked, str):
                await fill_deferred(interaction, content=picked)
                return None
            config = picked
        else:
            config = bot.config_for(interaction.guild_id)
        engine, notice = await bot.engine_or_notice(config)
        if engine is None:
            await fill_deferred(interaction, content=notice)
            return None
        if not marks_known(engine, state.marks):
            await fill_deferred(interaction, content=ARTICLE_CHANGED_NOTICE)
            return None
        stored = await bot.shared.get(state.answer_id)
        if stored is not None and stored.guild_id != config.guild_id:
            stored = None  # never another server's answer
        if stored is None:
            stored = await self.recompute(interaction, state, engine, config)
            if stored is None:
                return None
        return Clicked(stored, engine, config)

    async def recompute(
        self,
        interaction: discord.Interaction[Any],
        state: ButtonState,
        engine: Engine,
        config: GuildConfig,
    ) -> StoredAnswer | None:
        """Answer again what no store remembers, as it was asked; notify and None if not.

        The state database says how it was asked (filter, passages per page, what it was
        read with); the question texts come from there where the server keeps them, else
        from the message. Only a cited article that changed makes the answer differ.
        """
        bot = self.bot
        message = interaction.message
        saved = bot.state.saved_answer(state.answer_id) if bot.state is not None else None
        if saved is not None and saved.guild_id != config.guild_id:
            saved = None
        recipe = Recipe.of(saved, message, config)
        if recipe is None:
            await fill_deferred(interaction, content=notices.EXPIRED_NOTICE)
            return None
        answer = await bot.ask_engine(
            engine,
            recipe.question,
            recipe.k,
            state.offset,
            previous=recipe.context,
            options=recipe.options,
        )
        if cited_marks(engine, answer) != state.marks:
            await fill_deferred(interaction, content=ARTICLE_CHANGED_NOTICE)
            return None
        stored = StoredAnswer.of(
            answer,
            recipe.k,
            recipe.asker_id,
            recipe.private,
            recipe.context,
            config.guild_id,
            recipe.options,
        )
        await bot.shared.add(state.answer_id, stored)
        return stored

    async def show_context(self, interaction: discord.Interaction[Any], state: ButtonState) -> None:
        """Show the sentences around each passage, to the clicker only."""
        await defer(interaction, ephemeral=True)
        found = await self.find(interaction, state)
        if found is not None:
            await fill_deferred(interaction, embed=embeds.context_embed(found.stored.answer))

    async def more(
        self, interaction: discord.Interaction[Any], state: ButtonState, started: float
    ) -> None:
        """Show the next passages: in the channel for the asker, privately for anyone else."""
        guild_id, channel_id, _ = where(interaction)
        message = interaction.message
        asker = asker_of(message)
        ephemeral_answer = bool(message is not None and message.flags.ephemeral)
        # Someone else's public answer: page through it privately rather than post for them.
        private = ephemeral_answer or interaction.user.id != asker
        await defer(interaction, ephemeral=private)
        found = await self.find(interaction, state)
        if found is None:
            return
        stored, engine, config = found.stored, found.engine, found.config
        previous = stored.answer
        # The next page of the same reading: a follow-up keeps the context it was read with.
        answer = await self.bot.ask_engine(
            engine,
            previous.question,
            stored.k,
            offset=previous.offset + stored.k,
            previous=stored.context,
            options=stored.options,
        )
        shown = await self.bot.present(
            answer,
            engine,
            config,
            asker_id=stored.asker_id,
            private=private,
            context=stored.context,
            asked=False,
            options=stored.options,
            server=state.server,
        )
        sent = await fill_deferred(interaction, embed=shown.embed, view=shown.view)
        if not private:
            await self.bot.remember_shown(shown.answer_id, sent)
        log_question(
            Via.BUTTON, guild_id, channel_id, started, answer, interaction.id, previous.question
        )

    async def share(self, interaction: discord.Interaction[Any], state: ButtonState) -> None:
        """Post a private answer in the channel for everyone, saying who shared it."""
        channel = interaction.channel
        if interaction.guild_id is None or not isinstance(channel, discord.abc.Messageable):
            await notify(interaction, NOTHING_TO_SHARE_NOTICE)
            return
        if await self.bot.refuse_interaction(interaction, counts=False):
            return
        await defer(interaction, ephemeral=True)
        found = await self.find(interaction, state)
        if found is None:
            return
        stored, engine, config = found.stored, found.engine, found.config
        shown = await self.bot.present(
            stored.answer,
            engine,
            config,
            asker_id=interaction.user.id,
            private=False,
            context=stored.context,
            asked=False,
        )
        sent = await channel.send(
            content=f"Shared by <@{interaction.user.id}>:",
            embed=shown.embed,
            view=shown.view or discord.utils.MISSING,
            allowed_mentions=NO_MENTIONS,
        )
        await self.bot.remember_shown(shown.answer_id, sent)
        await fill_deferred(interaction, content=SHARED_NOTICE)
