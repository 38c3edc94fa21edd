"""Issue 14's acceptance: a folder of every hostile file plus the shipped article still works.

The bot is started as a user would (python -m bot ask, a real child process): it
must start, answer "why is NK courting ASEAN?" from the shipped article, and say
one line per skipped file, naming it (escaped) and why. The child's run is capped
generously (it is not a timing assertion); bench/hostile_corpus.py measures it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.live import LiveEngine
from tests.ingest.hostile import build_hostile_corpus, remove_tree

QUESTION = "why is NK courting ASEAN?"


@pytest.fixture
def hostile(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "corpus"
    skipped = build_hostile_corpus(folder)
    yield folder, skipped
    remove_tree(folder)


def ask(folder: Path, index: Path) -> tuple[dict[str, object], list[str], str]:
    env = {
        **os.environ,
        "CORPUS_DIR": str(folder),
        "INDEX_DIR": str(index),
        "SEMANTIC": "false",  # the embedding model's start-up is measured in its own bench
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", QUESTION],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 0, stderr
    stdout = done.stdout.decode("utf-8")
    return json.loads(stdout), stderr.splitlines(), stdout + stderr


def test_a_folder_of_hostile_files_starts_answers_and_names_each_skipped_file(
    hostile: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, skipped = hostile
    for start in ("first start, building the index", "second start, from the saved index"):
        answer, lines, everything = ask(folder, tmp_path / "index")
        assert answer["status"] == "answered", start
        passages = answer["passages"]
        assert isinstance(passages, list)
        assert all(str(p["citation"]).startswith("yonhap-nk-asean:") for p in passages)
        assert any("to weaken sanctions" in str(p["text"]) for p in passages), passages
        skip_lines = [line for line in lines if line.startswith("qabot: skipped ")]
        for name, why in skipped.items():
            said = [line for line in skip_lines if line.startswith(f"qabot: skipped {name}: ")]
            assert len(said) == 1, (start, name, skip_lines)
            assert why in said[0], said[0]
        assert len(skip_lines) == len(skipped), skip_lines
        # Nothing from a file name or front matter reaches the terminal as an escape.
        assert "\x1b" not in everything and "\x07" not in everything


def test_hostile_files_added_while_running_cost_a_reload_one_line_each(tmp_path: Path) -> None:
    # Deep front matter crashed :reload (RecursionError) and killed the folder watcher.
    folder = tmp_path / "corpus"
    folder.mkdir()
    shipped = Path(__file__).parents[2] / "corpus"
    for name in ("yonhap-nk-asean-sanctions.txt", "aliases.toml"):
        (folder / name).write_bytes((shipped / name).read_bytes())
    live = LiveEngine(folder, index_dir=tmp_path / "index")
    try:
        skipped = build_hostile_corpus(folder)
        result = live.reload()
        assert result.ok, result.message
        for name, why in skipped.items():
            said = [p for p in result.problems if p.startswith(f"skipped {name}: ")]
            assert len(said) == 1 and why in said[0], (name, result.problems)
        answer = live.answer(QUESTION)
        assert any("to weaken sanctions" in p.text for p in answer.passages)
        again = live.reload()  # and again: the same files are skipped the same way
        assert again.ok and sorted(again.problems) == sorted(result.problems)
    finally:
        live.wait_saved(60)
        remove_tree(folder)
