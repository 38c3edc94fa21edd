"""Run the production `run()` against a FakeDiscord served from a background thread.

For subprocess tests only: ``python -m tests.discordbot.fake_launcher [--refuse-intents]``.
Settings come from the environment (no .env file). When the bot stops, print the gateway
closes the fake saw as one ``gateway-closes=...`` line on stdout and exit with run()'s code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading

from bot.discordbot.app import run
from bot.settings import SettingsError, load_settings
from tests.fakediscord import FakeDiscord

FAKE_TOKEN = "fake-token-abc.def.ghi"


def main() -> int:
    """Start the fake, point discord.py at it, run the bot, report, stop the fake."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--refuse-intents", action="store_true")
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-discord", daemon=True)
    thread.start()

    async def boot() -> FakeDiscord:
        options = {"allowed_privileged_intents": 0} if args.refuse_intents else {}
        fake = FakeDiscord(token=FAKE_TOKEN, heartbeat_interval_ms=500, **options)  # type: ignore[arg-type]
        await fake.start()  # also points discord.py's REST base and gateway at the fake
        fake.populate_default_world()
        return fake

    fake = asyncio.run_coroutine_threadsafe(boot(), loop).result(timeout=10)
    try:
        settings = load_settings(env_file=None, require_token=True)
    except SettingsError as exc:
        print(f"qabot: {exc}", file=sys.stderr)
        return 2
    code = run(settings)
    closes = asyncio.run_coroutine_threadsafe(_closes(fake), loop).result(timeout=10)
    print(f"gateway-closes={closes}", flush=True)
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    return code


async def _closes(fake: FakeDiscord) -> list[tuple[str, int | None]]:
    # Give the fake a moment to notice a close the client just sent.
    for _ in range(50):
        if not fake.connections:
            break
        await asyncio.sleep(0.02)
    return list(fake.gateway_closes)


if __name__ == "__main__":
    raise SystemExit(main())
