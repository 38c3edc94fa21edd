"""The bot token never shows: not in logs, errors, repr() of the settings or crash output.

The bot runs as a process with a recognisable token and fails in every way we can make it
(Discord refuses the token, Discord cannot be reached, Discord goes away while connected, the
engine raises in a handler, an unexpected error at start), at LOG_LEVEL=DEBUG; everything it
wrote (stdout, stderr, every file under its state and cache folders) is searched for the
token and for each of its parts.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from tests.discordbot.test_process import START_TIMEOUT, Child, child_env, launch

PARTS = ("QABOT-hygiene-part-one", "hygiene-two", "hygiene-part-three-secret")
TOKEN = ".".join(base64.urlsafe_b64encode(p.encode()).decode().rstrip("=") for p in PARTS)


def secrets_in(text: str) -> list[str]:
    """Return every piece of the token found in text."""
    pieces = [TOKEN, TOKEN[:12], TOKEN[-12:], *TOKEN.split("."), *PARTS]
    return [piece for piece in pieces if piece in text]


def written_files(folder: Path) -> str:
    """Read every file below folder (state, cache, logs) as text."""
    return "\n".join(
        path.read_bytes().decode("utf-8", "replace") for path in folder.rglob("*") if path.is_file()
    )


@pytest.mark.parametrize(
    ("args", "code", "evidence", "traceback"),
    [
        ((), 2, "Discord refused DISCORD_TOKEN (401 Unauthorized)", False),
        (("--accept-bot-token", "--scenario", "unreachable"), 1, "Could not reach Discord", False),
        (("--accept-bot-token", "--scenario", "fake-stops"), 0, "Attempting a reconnect", True),
        (
            ("--accept-bot-token", "--scenario", "handler-error"),
            0,
            "Answering a message failed",
            True,
        ),
        (
            ("--accept-bot-token", "--scenario", "setup-crash"),
            1,
            "The bot stopped unexpectedly",
            True,
        ),
    ],
    ids=["refused", "unreachable", "discord-goes-away", "handler-error", "crash"],
)
def test_the_token_is_in_nothing_the_bot_writes_when_it_fails(
    tmp_path: Path, args: tuple[str, ...], code: int, evidence: str, traceback: bool
) -> None:
    child = launch(tmp_path, *args, DISCORD_TOKEN=TOKEN, LOG_LEVEL="DEBUG")
    try:
        exit_code, stdout, stderr = child.finish(START_TIMEOUT)
    finally:
        child.kill()
    assert exit_code == code, stderr
    assert evidence in stderr  # the failure really happened
    assert ("Traceback" in stderr) == traceback  # crash output is searched too
    assert secrets_in(stdout) == []
    assert secrets_in(stderr) == []
    assert secrets_in(written_files(tmp_path)) == []


def test_settings_never_show_the_token(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={TOKEN}\n")
    settings = load_settings(env_file, environ={})
    for shown in (repr(settings), str(settings), " ".join(settings.describe_sources())):
        assert secrets_in(shown) == []
    assert settings.discord_token is not None and settings.discord_token.reveal() == TOKEN


@pytest.mark.parametrize(
    "key",
    [
        "DISCORD_GUILD_ID",
        "ANSWER_K",
        "COOLDOWN_SECONDS",
        "ALLOWED_CHANNEL_IDS",
        "ALLOW_DMS",
        "LOG_LEVEL",
        "SHARD_COUNT",
    ],
)
def test_a_token_pasted_on_the_wrong_line_is_not_echoed(key: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(None, environ={key: TOKEN}, require_token=False)
    message = str(info.value)
    assert message.startswith(key)
    assert "looks like a bot token" in message
    assert secrets_in(message) == []


def run_with_env_file(tmp_path: Path, mode: int) -> tuple[int, str]:
    """Run `qabot run` in a folder whose .env has the given mode; the corpus is missing."""
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\nCORPUS_DIR={tmp_path / 'none'}\n")
    (tmp_path / ".env").chmod(mode)
    env = child_env(tmp_path)
    env.pop("CORPUS_DIR")  # from .env, like a real set-up
    child = Child(["-m", "bot", "run"], env, tmp_path)
    try:
        code, stdout, stderr = child.finish(START_TIMEOUT)
    finally:
        child.kill()
    assert secrets_in(stdout + stderr) == []
    return code, stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_an_env_file_others_can_read_is_warned_about_at_start(tmp_path: Path) -> None:
    code, stderr = run_with_env_file(tmp_path, 0o644)
    assert code == 2  # the missing corpus stops it before it reaches Discord
    warnings = [line for line in stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, stderr
    assert "holds DISCORD_TOKEN but other users can read it (mode rw-r--r--)" in warnings[0]
    assert "run `chmod 600 .env`" in warnings[0]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_private_env_file_gets_no_warning(tmp_path: Path) -> None:
    code, stderr = run_with_env_file(tmp_path, stat.S_IRUSR | stat.S_IWUSR)
    assert code == 2
    assert "WARNING" not in stderr, stderr
