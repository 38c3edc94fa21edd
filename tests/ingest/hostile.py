"""Run a piece of ingest code on a hostile input in a child process, with a generous cap.

A regex that backtracks holds the GIL, so a thread cannot be timed out; a child
process can. The caps are minutes-generous: the fixed code takes milliseconds,
the old code took minutes or forever.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CAP_SECONDS = 60


def finishes(code: str, cap: float = CAP_SECONDS) -> str:
    """Run code (which may use split_paragraphs, split_sentences) and return its output.

    Fails the test when the child has not finished within cap seconds.
    """
    prelude = "from bot.ingest.splitting import split_paragraphs, split_sentences\n"
    try:
        done = subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=cap,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running after {cap} s: {code.strip()[:80]}") from None
    assert done.returncode == 0, done.stderr
    return done.stdout
