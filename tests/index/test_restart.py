"""A restart on a saved index: only what the first answer needs, and every change noticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"

# Modules a one-shot question on a saved index has no use for: YAML front matter and
# worker processes are for indexing, asyncio for watching, dotenv for a .env file.
NOT_NEEDED = ("yaml", "asyncio", "dotenv", "concurrent.futures.process", "platformdirs")


def test_a_restart_imports_nothing_the_first_answer_does_not_need(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CORPUS_", "INDEX_"))},
        "PYTHONPATH": str(REPO),
        "INDEX_DIR": str(tmp_path / "index"),
        "SEMANTIC": "false",
    }
    code = (
        "import sys; from bot.cli.main import main; "
        f"code = main(['ask', '--corpus', {str(CORPUS)!r}, 'why is NK courting ASEAN?']); "
        f"print('loaded:', *[m for m in {NOT_NEEDED!r} if m in sys.modules], file=sys.stderr); "
        "sys.exit(code)"
    )
    for _ in range(2):  # a build, then a restart
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert "ASEAN" in done.stdout
    assert done.stderr.splitlines()[-1] == "loaded:"
