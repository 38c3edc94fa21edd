"""Saved arrays read by pread give exactly what numpy loads from the same .npy files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.index.saved import SavedArray


def saved(tmp_path: Path, array: np.ndarray) -> SavedArray:
    path = tmp_path / "array.npy"
    np.save(path, array)
    return SavedArray.open(path)


def test_slices_and_rows_are_those_numpy_loads(tmp_path: Path):
    rows = np.arange(4000, dtype=np.int64).reshape(1000, 4) * 7 - 3
    array = saved(tmp_path, rows)
    assert array.shape == (1000, 4) and len(array) == 1000 and array.size == 4000
    assert array.dtype == np.int64
    for start, stop in [(0, 1000), (0, 0), (17, 18), (999, 1000), (250, 731), (990, 5000)]:
        got = array[start:stop]
        assert got.dtype == rows.dtype and np.array_equal(got, rows[start:stop])
    assert np.array_equal(array[5], rows[5]) and np.array_equal(array[-1], rows[-1])
    got = array[3:9]
    got[0, 0] = 12345  # a fresh array: writing to it changes neither the file nor a next read
    assert array[3][0] == rows[3][0]


def test_floats_are_read_bit_for_bit(tmp_path: Path):
    values = np.random.default_rng(7).random(100_003) * 1e3
    array = saved(tmp_path, values)
    assert array[0:100_003].tobytes() == values.tobytes()
    assert array[12_345] == values[12_345]


def test_an_empty_array_and_bad_indexes(tmp_path: Path):
    empty = saved(tmp_path, np.empty(0, dtype=np.int32))
    assert empty[0:10].shape == (0,) and len(empty) == 0
    with pytest.raises(IndexError):
        empty[0]
    array = saved(tmp_path, np.arange(10, dtype=np.int32))
    with pytest.raises(IndexError):
        array[10]
    with pytest.raises(IndexError):
        array[0:10:2]


def test_a_file_cut_short_after_opening_is_an_error_not_garbage(tmp_path: Path):
    path = tmp_path / "array.npy"
    np.save(path, np.arange(1000, dtype=np.int64))
    array = SavedArray.open(path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size - 800)
    assert np.array_equal(array[0:900], np.arange(900))
    with pytest.raises(OSError, match="ended early"):
        array[0:1000]


def test_reading_saved_arrays_raises_a_low_limit_of_open_files(tmp_path: Path):
    np.save(tmp_path / "array.npy", np.arange(10))
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))\n"
        "from bot.index.saved import SavedArray\n"
        "assert SavedArray.open(Path(sys.argv[1]))[3] == 3\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "array.npy")],
        capture_output=True,
        text=True,
        check=True,
    )
    soft, hard = (int(n) for n in done.stdout.split())
    assert soft == (8192 if hard < 0 else min(8192, hard))
