"""Ctrl-C and closed pipes: how the command line stops, with one line and the right code.

A terminal's Ctrl-C reaches the whole process group, the index build's worker
processes included; :class:`Interrupted` turns it into one KeyboardInterrupt in
the main process however it lands, the forked workers leave it to the main
process and die with it, and :func:`stop_workers` ends those still running.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import Any


class Interrupted:
    """Raise KeyboardInterrupt on SIGINT, and remember it was seen.

    Python drops an exception raised inside a finaliser or a callback run at fork ("Exception
    ignored in ..."): a Ctrl-C that lands there would be lost and the program would go on.
    Such a dropped interrupt is raised again in the main thread at once, and the command line
    exits 130 whatever happens after.
    """

    def __init__(self, give_up_after: float | None = None) -> None:
        self.seen = False
        self.said = False
        self._give_up_after = give_up_after
        self._previous: object = None
        self._hook = sys.unraisablehook

    def __enter__(self) -> Interrupted:
        import _thread
        import signal
        import threading

        def handle(signum: int, frame: object) -> None:
            if not self.seen and self._give_up_after is not None:
                # The clean way out can wedge when the interrupt lands inside a lock of
                # concurrent.futures or multiprocessing: then leave regardless, a little later.
                timer = threading.Timer(self._give_up_after, self._give_up)
                timer.daemon = True
                timer.start()
            self.seen = True
            raise KeyboardInterrupt

        def dropped(unraisable: Any) -> None:
            if self.seen and _finaliser_of_multiprocessing(unraisable.object):
                # A Ctrl-C that landed inside multiprocessing's clean-up leaves its finaliser
                # registry half-updated; what that prints afterwards is noise, not news.
                return
            if isinstance(unraisable.exc_value, KeyboardInterrupt):
                # Raise it again a moment later, from another thread: by then the main
                # thread has left the callback that dropped it.
                threading.Timer(0.01, _thread.interrupt_main).start()
                return
            self._hook(unraisable)

        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            self._previous = signal.signal(signal.SIGINT, handle)
            sys.unraisablehook = dropped
        _prepare_forked_children()
        return self

    def _give_up(self) -> None:
        """Kill the workers and end the process now, with the one line if it is not out yet."""
        import signal

        if "multiprocessing" in sys.modules:
            import multiprocessing

            for child in multiprocessing.active_children():
                with contextlib.suppress(OSError, TypeError):
                    os.kill(child.pid or 0, signal.SIGKILL)
        if not self.said:
            with contextlib.suppress(OSError):
                os.write(2, b"\nqabot: interrupted\n")
        os._exit(130)

    def __exit__(self, *exc: object) -> None:
        import signal

        sys.unraisablehook = self._hook
        if self._previous is not None:
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


def _finaliser_of_multiprocessing(obj: object) -> bool:
    """Tell whether obj is one of multiprocessing's finalisers (pools, queues, pipes)."""
    util = sys.modules.get("multiprocessing.util")
    finalize = getattr(util, "Finalize", None)
    return finalize is not None and isinstance(obj, finalize)


@functools.cache
def _prepare_forked_children() -> None:
    """Make the worker processes an index build forks leave Ctrl-C to us and die with us.

    A Ctrl-C reaches the whole process group: a worker would print a traceback of its
    own, and one forked just as the program ended would wait for work forever, holding
    its output pipes open (so `qabot ask | ...` would never finish).
    """
    import signal
    import threading

    parent = [os.getpid()]
    from_main = [True]

    def before() -> None:
        parent[0] = os.getpid()
        from_main[0] = threading.current_thread() is threading.main_thread()

    def in_child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # The death signal follows the forking thread: only the main thread lives as long
        # as the process.
        if from_main[0] and sys.platform.startswith("linux"):
            import ctypes

            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent[0]:  # the parent ended before the line above
            os._exit(1)

    os.register_at_fork(before=before, after_in_child=in_child)


def stop_workers() -> None:
    """End the index build's worker processes, which the same Ctrl-C left half-way.

    Without this the interpreter's exit waits for them, and the program never ends.
    """
    if "multiprocessing" not in sys.modules:
        return
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()


def silence_stdout() -> None:
    """Point standard output at /dev/null, so that the flush at exit cannot fail again."""
    stdout = sys.stdout
    if stdout is not sys.__stdout__ or stdout is None:
        return
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
