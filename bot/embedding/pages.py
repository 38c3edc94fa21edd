"""Give back the resident pages of the memory-mapped embedding files a process has read.

A question's nearest-neighbour search and fused cosines read a few thousand vectors
scattered over the graphs' files, and the kernel maps a large block around each one
read (whole page-cache folios, however the mapping is advised): at 1M sentences every
page of the 900 MB of graphs was resident after a few hundred answers, though each
answer needs a small part of them. The pages stay in the page cache when the process
lets go of them (``MADV_DONTNEED`` on a read-only file mapping drops only this
process's page-table entries), so reading them again is a minor fault, not a disk
read: about 0.1 ms for 2,000 scattered pages on this machine (bench/semantic_scale.py).
Linux only; elsewhere nothing is given back.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path
from typing import Any

# File-backed pages the process may gain between two looks before the mapped embedding
# files are let go of (the lexical index's maps and libraries count too, and stay).
GROWTH_BUDGET = 96 * 1024 * 1024
MADV_DONTNEED = 4
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _madvise() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    call.restype = ctypes.c_int
    return call


_MADVISE = _madvise()


def file_resident() -> int:
    """Return the bytes of file-backed (and shared) pages resident in this process."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[2]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def release(folder: Path) -> int:
    """Let go of the resident pages of every read-only mapping of a file under folder.

    Returns the bytes of mappings advised. Writable mappings are left alone: a
    private copy-on-write page would be lost.
    """
    if _MADVISE is None:
        return 0
    prefix = str(folder.resolve()) + os.sep
    released = 0
    try:
        with open("/proc/self/maps") as maps:
            lines = [line for line in maps if prefix in line]
    except OSError:
        return 0
    for line in lines:
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or "w" in parts[1] or not parts[5].startswith(prefix):
            continue
        start, end = (int(bound, 16) for bound in parts[0].split("-"))
        if _MADVISE(start, end - start, MADV_DONTNEED) == 0:
            released += end - start
    return released


class Residency:
    """Keeps the pages of one folder's mapped files from piling up in the process."""

    def __init__(self, folder: Path | None, budget: int = GROWTH_BUDGET) -> None:
        self.folder = folder
        self.budget = budget
        self._lock = threading.Lock()
        self._after_release = file_resident()
        self.releases = 0

    def check(self) -> None:
        """Let go of the folder's mapped pages when the process has gained the budget since."""
        if self.folder is None or _MADVISE is None:
            return
        with self._lock:
            if file_resident() - self._after_release <= self.budget:
                return
            release(self.folder)
            self.releases += 1
            self._after_release = file_resident()
