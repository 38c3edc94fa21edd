"""Hold off Python's cycle collector while a load makes its objects, and give freed memory back."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from collections.abc import Iterator
from functools import cache

_pauses = 0
_pauses_lock = threading.Lock()
# glibc's mallopt parameters (malloc.h) and the values qabot sets them to: blocks of
# 1 MiB and more are mapped on their own (unmapped when freed), and a free top of the
# heap above 4 MiB is handed back when a block is freed.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_TRIM_AT, _MAP_FROM = 4 << 20, 1 << 20


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
    middle of a question, ``bench/guilds.py --compare-gc``). Frozen objects are
    never collected, so what a reload replaces is freed by :func:`free_replaced`.
    Nests and may be used from several threads at once.
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


def free_replaced() -> None:
    """Free what a reload replaced, reference cycles included; freeze again what stays.

    Frozen objects are never collected, so a replaced engine caught in a reference
    cycle stays in memory for good, with its index and mapped files: the engine of
    session 18, whose reranker called back into it, kept one more of each a reload
    (``bench/scale.py`` at a million sentences: 766 MiB after three reloads). Today's
    engine is freed by reference counting alone; this one full collection after the
    swap (about 0.2 s there) keeps a cycle added later from doing that again. An
    engine still answering a question then is freed by the next reload's.
    """
    with _pauses_lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    release_memory()


def release_memory() -> None:
    """Give the memory freed by a build back to the system (glibc keeps it otherwise)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def hand_back_large_blocks() -> None:
    """Have malloc unmap large blocks when they are freed, from now on (glibc only).

    By default glibc raises its thresholds each time it unmaps a large block,
    so that later blocks up to 32 MiB (a reload's merge makes many) come from
    heaps that malloc_trim does not shrink: serving memory at a million
    sentences grew by 10-40 MiB a reload. Fixed thresholds keep it level.
    LiveEngine sets them once its first load is done: a cold build with them
    took 6-10% more CPU, mapping its large temporaries afresh each time.
    """
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _MAP_FROM)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_AT)


@cache
def _glibc() -> ctypes.CDLL | None:
    """Return the C library when it has glibc's malloc_trim and mallopt (loaded once).

    Once: each load of it makes a class and a reference cycle, kept for good
    where loads are frozen.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):  # not glibc
        return None
    return libc
