"""Run the `qabot` command line: in-process through main(argv), or as a real subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli.main import main

REPO = Path(__file__).parents[2]
CORPUS = REPO / "corpus"
# Settings a developer's shell may hold that would change what the tests see.
_SETTING_PREFIXES = (
    "DISCORD_",
    "CORPUS_",
    "ANSWER_",
    "INDEX_",
    "SEMANTIC",
    "EMBEDDING_",
    "MESSAGE_CONTENT",
    "ASK_CHANNEL",
    "ALLOWED_CHANNEL",
    "ALLOW_DMS",
    "COOLDOWN_",
    "LOG_LEVEL",
    "SHARD_",
    "WATCH_CORPUS",
    "TORCH_THREADS",
    "NO_COLOR",
)

Run = Callable[..., subprocess.CompletedProcess[str]]


@dataclass
class Result:
    """What one in-process run printed and returned."""

    code: int
    stdout: str
    stderr: str


class TerminalInput(io.TextIOWrapper):
    """Standard input that says it is a terminal (and holds nothing)."""

    def isatty(self) -> bool:
        return True


class FakeTerminal(io.StringIO):
    """Standard output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


Cli = Callable[..., Result]


def clean_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Leave no setting of the developer's shell, and keep state under home."""
    for key in list(os.environ):
        if key.startswith(_SETTING_PREFIXES):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("COLUMNS", "88")
    # The CLI's own behaviour is tested lexically; test_semantic_cli runs it with the model.
    monkeypatch.setenv("SEMANTIC", "false")


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> Cli:
    """Return a function that runs main(ARGS) in-process in a clean folder; stdin is bytes."""
    clean_environment(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)

    def run(
        *args: str,
        stdin: bytes | str = b"",
        env: dict[str, str] | None = None,
        terminal: bool = False,
    ) -> Result:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        kind = TerminalInput if terminal else io.TextIOWrapper
        with monkeypatch.context() as patch:  # env and stdin hold for this run only
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            patch.setattr(sys, "stdin", kind(io.BytesIO(data), encoding="utf-8"))
            code = main(list(args))
        out, err = capsysbinary.readouterr()
        # Strict decoding: everything qabot prints must be valid UTF-8.
        return Result(code, out.decode("utf-8"), err.decode("utf-8"))

    return run


@pytest.fixture
def qabot(tmp_path: Path) -> Run:
    """Return a function that runs `python -m bot ARGS` in a clean directory."""

    def run(
        *args: str, stdin: str | bytes = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(_SETTING_PREFIXES)}
        environ.update(
            {
                "PYTHONPATH": str(REPO),
                "XDG_DATA_HOME": str(tmp_path / "data"),
                "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "XDG_STATE_HOME": str(tmp_path / "state"),
                "COLUMNS": "88",
                "SEMANTIC": "false",
            }
        )
        environ.update(env or {})
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=stdin.encode() if isinstance(stdin, str) else stdin,
            capture_output=True,
            cwd=tmp_path,
            env=environ,
            timeout=300,
        )
        return subprocess.CompletedProcess(
            result.args,
            result.returncode,
            result.stdout.decode("utf-8"),
            result.stderr.decode("utf-8"),
        )

    return run
