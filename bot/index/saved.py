"""Read slices of a saved array file with pread, so that serving maps none of its pages.

A question reads a few posting lists and a few dozen sentence rows of arrays
of hundreds of megabytes. Read through a memory map, every touched page stays
in the program's resident memory, and the kernel maps whole large folios
around each fault: after 200 answers at a million sentences nearly all of
``contrib.npy``, ``docs.npy`` and ``sentences.npy`` was resident (about 160 MB),
for bytes that are each read once in a while. ``pread`` copies just the bytes
asked for into a fresh array and leaves the file's pages in the kernel's page
cache, where they are shared and dropped under memory pressure like any other.
"""

from __future__ import annotations

import os
import weakref
from functools import cache
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt


class SavedArray:
    """A saved array (one row per index along its first axis), read a slice at a time.

    Slicing with step 1 returns a new array; an integer index returns one row
    (or one value, for a one-dimensional array). Thread-safe: ``pread`` has no
    shared file position.
    """

    __slots__ = ("__weakref__", "_fd", "_offset", "_row_bytes", "dtype", "shape")

    def __init__(self, path: Path, offset: int, dtype: np.dtype[Any], shape: tuple[int, ...]):
        """Read the array of dtype and shape stored at byte offset of the file at path."""
        allow_open_files()
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        # Not at exit: a background thread may still read then (the OS closes it anyway).
        weakref.finalize(self, os.close, self._fd).atexit = False
        self._offset = offset
        self.dtype = dtype
        self.shape = shape
        self._row_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))

    @classmethod
    def open(cls, path: Path) -> SavedArray:
        """Open a C-ordered .npy file (as numpy.save writes it)."""
        with open(path, "rb") as handle:
            fmt = np.lib.format
            major, _ = fmt.read_magic(handle)  # type: ignore[no-untyped-call]
            read_header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)  # type: ignore[no-untyped-call]
            offset = handle.tell()
        if fortran and len(shape) > 1:
            raise ValueError(f"{path} holds a Fortran-ordered array")
        return cls(path, offset, np.dtype(dtype), tuple(shape))

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        """Return the number of values."""
        return int(np.prod(self.shape, dtype=np.int64))

    def read(self, start: int, stop: int) -> npt.NDArray[Any]:
        """Return rows start to stop (clipped to the array) as a new array."""
        start, stop = max(0, start), min(stop, self.shape[0])
        out = np.empty((max(0, stop - start), *self.shape[1:]), dtype=self.dtype)
        view = out.data.cast("B") if out.size else memoryview(b"")
        position = self._offset + start * self._row_bytes
        while view:
            got = os.preadv(self._fd, [view], position)
            if got == 0:
                raise OSError(f"the saved array file ended early (fd {self._fd})")
            view, position = view[got:], position + got
        return out

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> npt.NDArray[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.shape[0])
            if step != 1:
                raise IndexError("a saved array is read in slices of step 1")
            return self.read(start, stop)
        at = index + self.shape[0] if index < 0 else index
        if not 0 <= at < self.shape[0]:
            raise IndexError(f"row {index} of {self.shape[0]}")
        row = self.read(at, at + 1)[0]
        return row


@cache
def allow_open_files(wanted: int = 8192) -> None:
    """Raise this process's soft limit of open files toward wanted (never above the hard one).

    Each served index keeps a few files open to read them (about six more than
    when they were only mapped): a bot serving a hundred servers' corpus folders
    would pass the usual soft limit of 1,024 that the hard limit lets any process raise.
    """
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, OSError, ValueError):  # not POSIX, or not allowed: keep the limit
        pass


Served = npt.NDArray[Any] | SavedArray  # an array in memory, or one read from its file
