"""`qabot repl` on a real pseudo-terminal: line editing via prompt_toolkit and saved history.

These wait for what the terminal shows, never for a time: the cap is only there so a broken
build fails instead of hanging, and is far above what a loaded machine needs (the model is
off, so a start reads the one article and nothing more).
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import CORPUS, REPO


def _read_until(fd: int, needle: bytes, timeout: float = 300.0, after: bytes = b"") -> bytes:
    """Read until needle appears (after the first `after`, when given: one read may hold both)."""
    seen = b""
    deadline = time.monotonic() + timeout

    def found() -> bool:
        start = seen.find(after)
        return start >= 0 and needle in seen[start + len(after) :]

    while not found():
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {needle!r}; got {seen[-500:]!r}"
        # poll(), not select(): select() refuses descriptors above 1023, which a long test
        # session can reach.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if poller.poll(remaining * 1000):
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _plain(shown: bytes) -> str:
    """Return what a reader sees: the text without escape sequences (colour, cursor moves)."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))


def _start(tmp_path: Path) -> tuple[int, subprocess.Popen[bytes]]:
    controller, terminal = pty.openpty()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "CORPUS_DIR"}},
        "PYTHONPATH": str(REPO),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "SEMANTIC": "false",
        "TERM": "xterm",
        "COLUMNS": "100",
        "LINES": "40",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "repl", "--corpus", str(CORPUS), "--k", "1"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    return controller, process


def test_interactive_session_edits_lines_and_keeps_history(tmp_path: Path) -> None:
    controller, process = _start(tmp_path)
    try:
        _read_until(controller, b"qabot>")
        # Type a typo, erase it with backspaces (line editing), then finish the question.
        os.write(controller, b"how old is Kimm\x7f?\r")
        # The answer is followed by the next prompt; read up to it, then look at the text
        # (the answering phrase is in bold, so the bytes hold escape codes inside it).
        output = _plain(_read_until(controller, b"qabot>", after=b"Source:"))
        assert "[7.1]" in output
        assert "late 2011." in output
        os.write(controller, b"\x04")  # Ctrl-D leaves cleanly
        assert process.wait(timeout=300) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    history = (tmp_path / "data" / "qabot" / "history").read_text()
    assert "how old is Kim?" in history


def test_ctrl_c_at_the_prompt_leaves_with_130_and_one_line(tmp_path: Path) -> None:
    controller, process = _start(tmp_path)
    try:
        _read_until(controller, b"qabot>")
        os.write(controller, b"\x03")
        assert process.wait(timeout=300) == 130
        rest = _read_until(controller, b"interrupted")
        assert b"Traceback" not in rest
        assert rest.strip().endswith(b"qabot: interrupted")
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
