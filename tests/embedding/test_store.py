"""The embedding store: rows appended article by article survive a crash at any point."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.embedding.store import LOG_FILE, ROWS_FILE, EmbeddingStore


def rows(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)


def test_appended_rows_are_read_back_memory_mapped(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path, 4)
    assert store.append([("a", rows(3, 1)), ("b", rows(2, 2))]) == [0, 3]
    store.close()
    again = EmbeddingStore(tmp_path, 4)
    assert again.span("a") == (0, 3) and again.span("b") == (3, 2)
    assert isinstance(again.rows(), np.memmap)
    assert np.allclose(again.rows()[3:5], rows(2, 2), atol=1e-2)
    assert again.append([("c", rows(1, 3))]) == [5]


def test_a_torn_write_keeps_everything_logged_before_it(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path, 4)
    store.append([("a", rows(3, 1))])
    store.append([("b", rows(2, 2))])
    store.close()
    # Killed while writing: rows no line names, and half a line.
    with (tmp_path / ROWS_FILE).open("ab") as out:
        out.write(b"\x01" * 20)
    with (tmp_path / LOG_FILE).open("a") as out:
        out.write('{"d": "c", "r": 5, ')
    again = EmbeddingStore(tmp_path, 4)
    assert again.span("a") == (0, 3) and again.span("b") == (3, 2) and again.span("c") is None
    assert again.rows().shape == (5, 4)
    assert again.append([("c", rows(1, 3))]) == [5]


def test_a_line_whose_rows_never_reached_the_disk_is_dropped(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path, 4)
    store.append([("a", rows(3, 1)), ("b", rows(2, 2))])
    store.close()
    with (tmp_path / ROWS_FILE).open("r+b") as out:
        out.truncate(4 * 2 * 4)  # only 4 rows of 5 survived
    again = EmbeddingStore(tmp_path, 4)
    assert again.span("a") == (0, 3) and again.span("b") is None


def test_a_second_writer_keeps_its_rows_in_memory(tmp_path: Path) -> None:
    first = EmbeddingStore(tmp_path, 4)
    second = EmbeddingStore(tmp_path, 4)
    assert first.persistent and not second.persistent
    second.append([("x", rows(2, 5))])
    assert second.rows().shape == (2, 4)
    first.close()
    assert EmbeddingStore(tmp_path, 4).span("x") is None
