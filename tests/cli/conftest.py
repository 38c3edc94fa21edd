"""Run the real `qabot` command line as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
CORPUS = REPO / "corpus"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def qabot(tmp_path: Path) -> Run:
    """Return a function that runs `python -m bot ARGS` in a clean directory."""

    def run(
        *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environ = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "CORPUS_", "ANSWER_", "INDEX_", "SEMANTIC"))
        }
        environ.update(
            {
                "PYTHONPATH": str(REPO),
                "XDG_DATA_HOME": str(tmp_path / "data"),
                "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "COLUMNS": "88",
                # Loading the embedding model costs seconds per process; the CLI's own
                # behaviour is tested lexically, and test_semantic_cli runs it with the model.
                "SEMANTIC": "false",
            }
        )
        environ.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environ,
            timeout=120,
        )

    return run
