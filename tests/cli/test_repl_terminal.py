"""`qabot repl` on a real pseudo-terminal: line editing via prompt_toolkit and saved history."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import CORPUS, REPO


def _read_until(fd: int, needle: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {needle!r}; got {seen[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_interactive_session_edits_lines_and_keeps_history(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "XDG_DATA_HOME": str(tmp_path / "data"),
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
    try:
        _read_until(controller, b"qabot>")
        # Type a typo, erase it with backspaces (line editing), then finish the question.
        os.write(controller, b"how old is Kimm\x7f?\r")
        output = _read_until(controller, b"late 2011.")
        assert b"[7.1]" in output
        _read_until(controller, b"qabot>")
        os.write(controller, b"\x04")  # Ctrl-D leaves cleanly
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    history = (tmp_path / "data" / "qabot" / "history").read_text()
    assert "how old is Kim?" in history
