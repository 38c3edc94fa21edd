"""A Ctrl-C ends the program even when its clean-up wedges: the give-up timer of Interrupted."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys

from tests.cli.conftest import REPO

CAP = 300  # seconds; a cap so a broken exit fails instead of hanging, never a budget

# A program whose exit waits forever on a thread, as a clean-up wedged in a lock would.
WEDGED = """
import sys, threading, time
from bot.cli.interrupts import Interrupted

never = threading.Event()
interrupted = Interrupted(give_up_after={give_up})
try:
    with interrupted:
        threading.Thread(target=never.wait, name="wedged clean-up").start()
        print("ready", flush=True)
        time.sleep(600)
except KeyboardInterrupt:
    pass
sys.exit(130)
"""


def _start(give_up: float | None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", WEDGED.format(give_up=give_up)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    process.send_signal(signal.SIGINT)
    return process


def test_a_wedged_exit_after_ctrl_c_still_ends_with_130_and_one_line() -> None:
    process = _start(give_up=0.5)
    try:
        assert process.wait(timeout=CAP) == 130
        assert process.stderr is not None
        said = process.stderr.read().decode()
        assert "Traceback" not in said
        assert said == "\nqabot: interrupted\n"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_without_the_timer_the_same_program_does_not_end() -> None:
    """The control: the wedge is real, so the test above shows the timer at work."""
    process = _start(give_up=None)
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=3)
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()


def test_the_program_entry_points_give_up_and_main_does_not() -> None:
    """`qabot` and `python -m bot` run main with the timer; tests calling main(argv) get none."""
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["qabot"] == "bot.cli.main:run"
    assert "run()" in (REPO / "bot" / "__main__.py").read_text()
    from bot.cli import main as cli

    assert cli.GIVE_UP_SECONDS > 0
    assert cli.main.__kwdefaults__ == {"give_up_after": None}
