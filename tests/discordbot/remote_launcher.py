"""Run the production bot in this process against a FakeDiscord served by another process.

The test process serves the fake on loopback and passes its URLs in FAKE_API_URL and
FAKE_GATEWAY_URL; this points discord.py at them (as FakeDiscord.install does in-process)
and runs ``bot.discordbot.app.run`` with the settings from the environment.
"""

from __future__ import annotations

import sys

import discord.gateway
import discord.http
import yarl

from bot.discordbot.app import run
from bot.settings import SettingsError, load_settings


def main() -> int:
    """Point discord.py at the fake named in the environment and run the bot."""
    import os

    discord.http.Route.BASE = os.environ["FAKE_API_URL"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_GATEWAY_URL"])
    try:
        settings = load_settings(env_file=None, require_token=True)
    except SettingsError as exc:
        print(f"qabot: {exc}", file=sys.stderr)
        return 2
    return run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
