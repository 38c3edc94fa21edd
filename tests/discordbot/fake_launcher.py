"""Run the production `run()` against a FakeDiscord served from a background thread.

For subprocess tests only: ``python -m tests.discordbot.fake_launcher [--refuse-intents]
[--accept-bot-token] [--scenario NAME]``. Settings come from the environment (no .env file).
When the bot stops, print the gateway closes the fake saw as one ``gateway-closes=...`` line on
stdout and exit with run()'s code.

Scenarios make the bot fail in one way each, for the token-hygiene tests:
``unreachable`` (nothing listens where Discord should be), ``fake-stops`` (Discord goes away
while the bot is connected; it retries until stopped), ``handler-error`` (the engine raises
while answering a mention), ``setup-crash`` (an unexpected error while starting). The last
three stop the bot with SIGTERM once the failure has been logged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from typing import Any

from bot.answer.engine import Engine
from bot.discordbot.__main__ import main as run_bot
from bot.discordbot.client import QABot
from tests.fakediscord import FakeDiscord

FAKE_TOKEN = "fake-token-abc.def.ghi"
SCENARIOS = ("unreachable", "fake-stops", "handler-error", "setup-crash")
STEP_TIMEOUT = 60.0  # a cap for a loaded machine


class _Watch(logging.Handler):
    """Let the scenario thread wait for a log line from the bot."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.lines.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, text: str) -> None:
        with self.changed:
            if not self.changed.wait_for(
                lambda: any(text in line for line in self.lines), STEP_TIMEOUT
            ):
                raise TimeoutError(f"no log line with {text!r}")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there once the probe is closed


def _break(scenario: str) -> None:
    """Plant the failure a scenario needs in the bot's code."""
    if scenario == "handler-error":

        def answer(self: Engine, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the engine failed while answering")

        Engine.answer = answer  # type: ignore[method-assign]
    elif scenario == "setup-crash":

        async def setup_hook(self: QABot) -> None:
            raise RuntimeError("an unexpected failure during start-up")

        QABot.setup_hook = setup_hook  # type: ignore[method-assign]


async def _drive(fake: FakeDiscord, scenario: str, watch: _Watch) -> None:
    """Make the failure happen, wait until the bot logged it, then stop the bot.

    The bot is stopped even when a step fails or times out, and the failure is logged: a
    child left running would only show as a bare "did not exit" at the test's cap.
    """
    if scenario not in ("handler-error", "fake-stops"):
        return  # the bot stops by itself
    try:
        await asyncio.to_thread(watch.wait_for, "Connected to Discord")
        if scenario == "handler-error":
            world = fake.world
            assert world is not None
            sent = await fake.user_sends_message(
                world.channel_id, world.alice, f"<@{fake.bot_user.id}> why is NK courting ASEAN?"
            )
            await fake.wait_for_bot_message(
                predicate=lambda m: (
                    (m.get("message_reference") or {}).get("message_id") == sent["id"]
                ),
                timeout=STEP_TIMEOUT,
            )
        else:
            await fake.stop()  # the gateway and the API are gone: connection refused from now on
            await asyncio.to_thread(watch.wait_for, "Attempting a reconnect")
    except Exception:
        logging.getLogger("fake_launcher").exception("The %s scenario failed.", scenario)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)


def main() -> int:
    """Start the fake, point discord.py at it, run the bot, report, stop the fake."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--refuse-intents", action="store_true")
    parser.add_argument("--accept-bot-token", action="store_true", help="fake takes $DISCORD_TOKEN")
    parser.add_argument("--scenario", choices=SCENARIOS)
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-discord", daemon=True)
    thread.start()

    async def boot() -> FakeDiscord:
        options: dict[str, Any] = {"heartbeat_interval_ms": 500}
        if args.refuse_intents:
            options["allowed_privileged_intents"] = 0
        token = os.environ.get("DISCORD_TOKEN", "") if args.accept_bot_token else FAKE_TOKEN
        fake = FakeDiscord(token=token, **options)
        await fake.start()  # also points discord.py's REST base and gateway at the fake
        fake.populate_default_world()
        if args.scenario == "unreachable":
            await fake.stop()
            port = _closed_port()
            fake.port = port
            fake.install()  # discord.py now dials a port where nothing listens
        return fake

    fake = asyncio.run_coroutine_threadsafe(boot(), loop).result(timeout=STEP_TIMEOUT)
    if args.scenario:
        watch = _Watch()
        for name in ("bot", "discord"):  # not the root logger: run() sets up its own there
            logging.getLogger(name).addHandler(watch)
        _break(args.scenario)
        asyncio.run_coroutine_threadsafe(_drive(fake, args.scenario, watch), loop)
    code = run_bot(env_file=None)
    closes = asyncio.run_coroutine_threadsafe(_closes(fake), loop).result(timeout=STEP_TIMEOUT)
    print(f"gateway-closes={closes}", flush=True)
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=STEP_TIMEOUT)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    return code


async def _closes(fake: FakeDiscord) -> list[tuple[str, int | None]]:
    # The fake records a close when its side of the socket has finished, which can come a
    # while after the client's close() returned on a loaded machine.
    with contextlib.suppress(TimeoutError):  # then report what was seen; the test says more
        await fake.wait_for(lambda: not fake.connections, STEP_TIMEOUT, "sockets closed")
    return list(fake.gateway_closes)


if __name__ == "__main__":
    raise SystemExit(main())
