"""The array store's segment files: damaged logs, failed commits, and live writers."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.index.storage.segments import ArrayStore

KIND = "embedding:segments-test"


def rows(n: int, count: int = 3) -> np.ndarray:
    """Return an article's rows that depend only on n."""
    return np.arange(count * 4, dtype=np.float16).reshape(count, 4) + n


def segment_file(store: ArrayStore, suffix: str) -> Path:
    assert store.folder is not None
    (path,) = store.folder.glob(f"seg-*{suffix}")
    return path


def test_a_segment_whose_log_has_a_malformed_line_is_ignored_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = ArrayStore(tmp_path, KIND)
    writer.append_many([("aa", rows(1)), ("bb", rows(2))])
    writer.close()
    log = segment_file(writer, ".log")
    log.write_bytes(log.read_bytes().replace(b"bb ", b"b? ", 1))
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    reader = ArrayStore(tmp_path, KIND)
    assert reader.find("aa", 3) is None and reader.find("bb", 3) is None
    assert reader.segments() == {}
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "has a malformed line" in warnings[0]


def test_a_log_shorter_than_its_manifest_says_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = ArrayStore(tmp_path, KIND)
    writer.append("aa", rows(1))
    writer.close()
    log = segment_file(writer, ".log")
    log.write_bytes(log.read_bytes()[:-4])
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    assert ArrayStore(tmp_path, KIND).find("aa", 3) is None
    assert any("is truncated" in r.getMessage() for r in caplog.records)


def test_a_failed_commit_keeps_the_rows_in_memory_and_takes_back_the_written_bytes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ArrayStore(tmp_path, KIND)
    store.append("aa", rows(1))
    assert store.folder is not None
    lock = store.folder / "lock"
    lock.unlink()
    lock.mkdir()  # the lock cannot be opened, so the next commit fails
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    kept = store.append("bb", rows(2))
    assert np.array_equal(kept, rows(2)) and np.array_equal(store.find("bb", 3), rows(2))
    assert store.location("bb", 3) is None  # in memory, not on disk
    assert any("keeping" in r.getMessage() and "memory" in r.getMessage() for r in caplog.records)
    row_bytes = rows(1).nbytes
    assert segment_file(store, ".rows").stat().st_size == row_bytes  # bb's bytes taken back
    lock.rmdir()
    store.append("cc", rows(3))
    store.close()
    again = ArrayStore(tmp_path, KIND)
    assert again.find("bb", 3) is None
    assert np.array_equal(again.find("cc", 3), rows(3))
    assert again.location("cc", 3) is not None and again.location("cc", 3)[1] == 3
    assert segment_file(store, ".rows").stat().st_size == 2 * row_bytes


def test_a_second_writer_of_another_dtype_is_refused(tmp_path: Path) -> None:
    first, second = ArrayStore(tmp_path, KIND), ArrayStore(tmp_path, KIND)
    assert second.dtype is None  # looked before the first writer committed
    first.append("aa", rows(1))
    with pytest.raises(ValueError, match="stored as"):
        second.append("bb", rows(2).astype(np.float32))
    second.close()
    fresh = ArrayStore(tmp_path, KIND)
    assert np.array_equal(fresh.find("aa", 3), rows(1)) and fresh.find("bb", 3) is None


def test_a_segment_is_finished_once_its_writers_process_has_ended(tmp_path: Path) -> None:
    store = ArrayStore(tmp_path, KIND)
    store.append("aa", rows(1))
    (own,) = store.segments()
    assert not store.finished(own)  # this store may still append to it
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    try:
        theirs = f"seg-1-{child.pid}-abcdef"
        assert not store.finished(theirs)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(60)
    assert store.finished(theirs)
    store.close()
    assert store.finished(own)
