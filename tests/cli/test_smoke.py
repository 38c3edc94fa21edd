"""A few runs of the real entry point as a subprocess: signals, pipes and encodings are real here."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.cli.conftest import CORPUS, REPO, Run

CAP = 300  # seconds; a cap so a broken build fails instead of hanging, never a budget


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CORPUS_", "INDEX_"))},
        "PYTHONPATH": str(REPO),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "SEMANTIC": "false",
        **extra,
    }


def _ask_json(
    tmp_path: Path, corpus: Path = CORPUS, *, new_session: bool = False
) -> subprocess.Popen[bytes]:
    """Start `qabot ask --json` reading questions from a pipe (new_session: own group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--corpus", str(corpus), "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path),
        start_new_session=new_session,
    )


def test_version_and_help_need_nothing(qabot: Run) -> None:
    version = qabot("--version", env={"ANSWER_K": "lots"})
    assert version.returncode == 0
    assert version.stdout.startswith("qabot 0.1.0 (Python ")
    bare = qabot(env={"ANSWER_K": "lots"})
    assert bare.returncode == 0 and "examples:" in bare.stdout


def test_json_is_utf8_whatever_the_locale(qabot: Run) -> None:
    stdin = "Pyongyang’s aim with ASEAN?\n".encode() + b"caf\xe9?\n"
    result = qabot(
        "ask",
        "--corpus",
        str(CORPUS),
        "--json",
        stdin=stdin,
        env={"PYTHONIOENCODING": "latin-1", "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == ["Pyongyang’s aim with ASEAN?", "caf\ufffd?"]


def test_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    process = _ask_json(tmp_path)
    assert process.stdin is not None and process.stdout is not None
    stdin = process.stdin

    def feed() -> None:
        # Far more answers than a pipe holds, so the program is still writing when we leave.
        with contextlib.suppress(BrokenPipeError):
            stdin.write(b"why is NK courting ASEAN?\n" * 3000)
            stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    assert json.loads(process.stdout.readline())["answered"] is True
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=CAP) == 141
    assert process.stderr is not None and process.stderr.read() == b""


def test_ctrl_c_in_ask_exits_130_with_one_line(tmp_path: Path) -> None:
    process = _ask_json(tmp_path)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b"how old is Kim?\n")
        process.stdin.flush()
        # Once the first answer is out, the program is waiting for the next line.
        assert json.loads(process.stdout.readline())["answered"] is True
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=CAP) == 130
        assert process.stderr is not None
        assert process.stderr.read() == b"\nqabot: interrupted\n"
    finally:
        if process.poll() is None:
            process.kill()
        process.stdin.close()


def _has_children(pid: int) -> bool:
    """Tell whether the process has started others (the index's worker processes)."""
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            if task.read_text().strip():
                return True
    return False


def test_ctrl_c_to_the_whole_terminal_group_during_a_build_is_one_line(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches every process of the group, the index's workers included."""
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(900):  # enough files for the build to read them in worker processes
        (corpus / f"a{i}.txt").write_text(
            f"Ferry {i}\n\n" + " ".join(f"Ferry {i} sails from pier {j}." for j in range(30))
        )
    # its own process group, as a shell gives a foreground job
    process = _ask_json(tmp_path, corpus, new_session=True)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b"when does ferry 7 sail?\n")
        process.stdin.flush()
        # Signal once qabot's own code runs: workers reading articles, or the first answer
        # out and the next question awaited. (Before that Python itself is still starting.)
        deadline = time.monotonic() + CAP
        # poll(), not select(): select() refuses descriptors above 1023, which a long test
        # session can reach.
        answered = select.poll()
        answered.register(process.stdout, select.POLLIN)
        while not _has_children(process.pid):
            if answered.poll(10):
                break
            assert time.monotonic() < deadline and process.poll() is None
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=CAP) == 130
        assert process.stderr is not None
        said = process.stderr.read().decode()
        assert "Traceback" not in said
        assert said.endswith("\nqabot: interrupted\n")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.stdin.close()
