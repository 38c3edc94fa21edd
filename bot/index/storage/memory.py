"""Hold off Python's cycle collector while a load makes its objects, and give freed memory back."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from collections.abc import Iterator

_pauses = 0
_pauses_lock = threading.Lock()


@contextlib.contextmanager
def collecting_later(*, keep: bool = False) -> Iterator[None]:
    """Hold off Python's cycle collector while a load makes its many objects.

    A load makes hundreds of thousands of objects (file rows, articles, alias
    phrases) and keeps them all; the collector, run every few hundred
    allocations, would walk them again and again (a third of a restart's time
    at a million sentences). With keep, what exists at the end is moved out of
    the collector's sight for good (gc.freeze): LiveEngine does so at its start
    and after each reload. Left in the oldest generation, every full collection
    rescanned them all (with 100 servers' engines loaded one took 1.05 s in the
    middle of a question, ``bench/guilds.py --compare-gc``). An engine replaced
    by a reload is still freed, by reference counting; only cycles among frozen
    objects would wait. Nests and may be used from several threads at once.
    """
    global _pauses
    with _pauses_lock:
        _pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if keep:
                gc.freeze()
            if _pauses == 0:
                gc.enable()


def release_memory() -> None:
    """Give the memory freed by a build back to the system (glibc keeps it otherwise)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)
