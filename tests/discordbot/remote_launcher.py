"""Run the production bot in this process against a FakeDiscord served by another process.

The test process serves the fake on loopback and passes its URLs in FAKE_API_URL and
FAKE_GATEWAY_URL; this points discord.py at them (as FakeDiscord.install does in-process)
and runs the bot's own entry point with the settings from the environment (no .env file).
"""

from __future__ import annotations

import os

import discord.gateway
import discord.http
import yarl

from bot.discordbot.__main__ import main as run_bot


def main() -> int:
    """Point discord.py at the fake named in the environment and run the bot."""
    discord.http.Route.BASE = os.environ["FAKE_API_URL"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_GATEWAY_URL"])
    return run_bot(env_file=None)


if __name__ == "__main__":
    raise SystemExit(main())
