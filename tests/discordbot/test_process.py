"""The bot as a process: exit codes, signals, and start-up failures told in one line."""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import fields
from pathlib import Path

import pytest

from bot.discordbot import app
from bot.settings import Settings
from tests.discordbot.conftest import CORPUS, REPO, BotStarter, settings_for
from tests.discordbot.fake_launcher import FAKE_TOKEN
from tests.fakediscord import FakeDiscord

SETTING_KEYS = {f.name.upper() for f in fields(Settings) if f.name != "sources"}
START_TIMEOUT = 90.0  # a cap for a loaded 2-core machine, not a speed target
STOP_TIMEOUT = 45.0


def child_env(tmp_path: Path, **env: str) -> dict[str, str]:
    """Build a clean environment: no stray settings from the shell, state kept in tmp."""
    environ = {k: v for k, v in os.environ.items() if k not in SETTING_KEYS}
    environ.update(
        CORPUS_DIR=str(CORPUS),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
        SEMANTIC="false",  # the model costs seconds per process; one in-process test loads it
        WATCH_CORPUS="false",
    )
    environ.update(env)
    return environ


class Child:
    """A subprocess whose stderr lines are collected as they arrive."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_line(self, needle: str, timeout: float) -> None:
        """Wait until a stderr line contains needle; fail with the output so far if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if needle in line:
                return
        self.kill()
        pytest.fail(f"no stderr line with {needle!r}; got:\n{''.join(self.lines)}")

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait for the exit; return (code, stdout, stderr)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"process did not exit within {timeout}s:\n{''.join(self.lines)}")
        assert self.proc.stdout is not None
        stdout = self.proc.stdout.read()  # small: only the launcher's report line
        self._reader.join(timeout=5)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.proc.returncode, stdout, "".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def launch(tmp_path: Path, *extra: str, **env: str) -> Child:
    """Run the production run() against a fake Discord in a child process."""
    return Child(["-m", "tests.discordbot.fake_launcher", *extra], child_env(tmp_path, **env), REPO)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ERROR" in line or "CRITICAL" in line]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_closes_the_gateway_cleanly_and_exits_zero(
    tmp_path: Path, signum: signal.Signals
) -> None:
    child = launch(tmp_path, DISCORD_TOKEN=FAKE_TOKEN)
    try:
        child.wait_for_line("Connected to Discord", START_TIMEOUT)
        child.proc.send_signal(signum)
        code, stdout, stderr = child.finish(STOP_TIMEOUT)
    finally:
        child.kill()
    assert code == 0, stderr
    assert f"Received {signum.name}" in stderr
    assert "gateway-closes=[('client', 1000)]" in stdout
    assert "Traceback" not in stderr
    assert FAKE_TOKEN not in stderr + stdout


def test_refused_token_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    wrong = "d3Jvbmc.dG9rZW4.aGVyZQ"
    child = launch(tmp_path, DISCORD_TOKEN=wrong)
    try:
        code, stdout, stderr = child.finish(START_TIMEOUT)
    finally:
        child.kill()
    assert code == 2, stderr
    errors = error_lines(stderr)
    assert len(errors) == 1, stderr
    assert "DISCORD_TOKEN" in errors[0] and "401" in errors[0]
    assert "Traceback" not in stderr
    assert wrong not in stderr + stdout


def test_refused_intent_is_explained(tmp_path: Path) -> None:
    child = launch(
        tmp_path, "--refuse-intents", DISCORD_TOKEN=FAKE_TOKEN, MESSAGE_CONTENT_INTENT="true"
    )
    try:
        code, _, stderr = child.finish(START_TIMEOUT)
    finally:
        child.kill()
    assert code == 2, stderr
    errors = error_lines(stderr)
    assert len(errors) == 1, stderr
    assert "PrivilegedIntentsRequired" in errors[0] and "MESSAGE_CONTENT_INTENT" in errors[0]
    assert "Traceback" not in stderr


def test_missing_token_via_the_module_entry_point(tmp_path: Path) -> None:
    child = Child(["-m", "bot.discordbot"], child_env(tmp_path), tmp_path)  # no .env here
    code, _, stderr = child.finish(STOP_TIMEOUT)
    assert code == 2
    assert stderr.strip().splitlines() == [
        "qabot: DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in .env "
        "(see .env.example) or in the environment."
    ]


def test_run_without_a_token_returns_2(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        code = app.run(settings_for(None))
    assert code == 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "DISCORD_TOKEN is not set" in errors[0].getMessage()


def test_ask_channels_without_intent_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.discordbot"):
        app._log_settings(settings_for(None, ask_channel_ids="123", discord_token=FAKE_TOKEN))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "ask channels will only see messages that mention the bot" in text
    assert "DISCORD_TOKEN from the environment" in text
    assert FAKE_TOKEN not in text


async def test_sync_command_to_guild_and_globally(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    world = fake_discord.world
    assert world is not None
    settings = settings_for(fake_discord)
    assert await app._sync(settings, False) == 0
    assert len(fake_discord.registered_commands(world.guild_id)) == 5
    assert fake_discord.registered_commands(None) == []
    assert await app._sync(settings, True) == 0
    assert len(fake_discord.registered_commands(None)) == 5
    no_guild = settings_for(fake_discord, discord_guild_id=None)
    assert await app._sync(no_guild, False) == 2  # nowhere to sync without --global


async def test_sync_with_a_refused_token(fake_discord: FakeDiscord) -> None:
    settings = settings_for(fake_discord, discord_token="d3Jvbmc.dG9rZW4.aGVyZQ")
    assert await app._sync(settings, True) == 2


async def test_global_sync_state_feeds_the_next_start(
    start_bot: BotStarter, fake_discord: FakeDiscord
) -> None:
    async with start_bot(discord_guild_id=None) as first:
        assert first.application_id is not None
        assert first.sync_state.load(first.application_id) is not None


def test_unusable_corpus_is_one_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(None, discord_token=FAKE_TOKEN, corpus_dir=tmp_path / "missing")
    with caplog.at_level(logging.INFO):
        assert app.run(settings) == 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "CORPUS_DIR" in errors[0].getMessage()
    assert errors[0].exc_info is None
