"""Declare the slash commands; their callbacks hand over to the bot's handlers."""

from __future__ import annotations

from typing import Any, Protocol

import discord
from discord import app_commands

SlashCommand = app_commands.Command[Any, ..., None]


class Handlers(Protocol):
    """What the slash commands call into."""

    async def handle_ask(
        self, interaction: discord.Interaction[Any], question: str, private: bool
    ) -> None: ...

    async def handle_sources(self, interaction: discord.Interaction[Any]) -> None: ...

    async def handle_help(self, interaction: discord.Interaction[Any]) -> None: ...

    async def handle_reload(self, interaction: discord.Interaction[Any]) -> None: ...


def build_commands(handlers: Handlers) -> list[SlashCommand]:
    """Build /ask, /sources, /help and /reload, usable in servers and in DMs with the bot."""

    @app_commands.command(name="ask", description="Ask a question about the indexed articles.")
    @app_commands.describe(
        question="Your question, in plain words",
        private="Show the answer only to you (default: no)",
    )
    async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
        await handlers.handle_ask(interaction, question, private)

    @app_commands.command(name="sources", description="List the articles the bot answers from.")
    async def sources(interaction: discord.Interaction) -> None:
        await handlers.handle_sources(interaction)

    @app_commands.command(name="help", description="Explain how to ask the bot questions.")
    async def help_(interaction: discord.Interaction) -> None:
        await handlers.handle_help(interaction)

    # Only the application's owner (or its team's admins and developers) may run it; the
    # handler checks. Servers show it to administrators only, unless they grant it to others.
    @app_commands.command(
        name="reload", description="Owner only: re-read the articles folder and swap the index."
    )
    @app_commands.default_permissions(administrator=True)
    async def reload(interaction: discord.Interaction) -> None:
        await handlers.handle_reload(interaction)

    commands: list[SlashCommand] = [ask, sources, help_, reload]
    for command in commands:
        # Guild installs only; DMs with the bot are allowed here and checked against ALLOW_DMS.
        app_commands.allowed_installs(guilds=True, users=False)(command)
        app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)(command)
    return commands
