"""Run the Discord bot: ``python -m bot.discordbot`` (the same as ``qabot run``)."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.discordbot.app import run
from bot.settings import SettingsError, load_settings


def main(env_file: Path | str | None = ".env") -> int:
    """Load the settings (a token is required) and run the bot; None: the environment only."""
    try:
        settings = load_settings(env_file, require_token=True)
    except SettingsError as exc:
        print(f"qabot: {exc}", file=sys.stderr)
        return 2
    return run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
