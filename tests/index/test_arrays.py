"""The per-sentence array store: rows by article, durable append by append, reused, checked."""

from __future__ import annotations

import logging
import mmap
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.index.storage import IndexStore, Snapshot

LONG_AGO = 1_600_000_000
KIND = "embedding:test-model@1"


def rows_for(texts: Sequence[str]) -> np.ndarray:
    """Stand in for an embedding model: a row that depends only on the text."""
    return np.asarray(
        [[len(t), sum(map(ord, t)) % 97, t.count(" ")] for t in texts], dtype=np.float16
    ).reshape(len(texts), 3)


def article(n: int) -> str:
    return f"Item {n}\n\nThe harbour ferry {n} sails at noon. It returns at dusk on day {n}.\n"


def write_article(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    os.utime(path, (LONG_AGO, LONG_AGO))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(12):
        write_article(folder, f"a{n:02}.txt", article(n))
    return folder


def expected(snapshot: Snapshot) -> np.ndarray:
    return rows_for([s.text for s in snapshot.corpus.sentences])


def fill(snapshot: Snapshot) -> int:
    arrays = snapshot.arrays(KIND)
    missing = arrays.missing()
    for slot in missing:
        arrays.append(slot, rows_for([snapshot.table.text(i) for i in slot.sentences]))
    return len(missing)


def is_mapped(array: np.ndarray) -> bool:
    base = array
    while base is not None:
        if isinstance(base, mmap.mmap):
            return True
        base = getattr(base, "base", None)
    return False


def segment_files(tmp_path: Path) -> list[Path]:
    """List the segments of this test's kind (the index stores its sentence terms too)."""
    return sorted((tmp_path / "index").glob("*/arrays/embedding-test-model-*/seg-*.rows"))


def test_rows_are_appended_by_article_and_found_again_after_a_restart(corpus: Path, tmp_path: Path):
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    arrays = snapshot.arrays(KIND)
    assert len(arrays.missing()) == 12 and not arrays.mask.any()
    for slot in arrays.missing()[:5]:
        arrays.append(slot, rows_for([snapshot.table.text(i) for i in slot.sentences]))
    assert [s.position for s in arrays.missing()] == list(range(5, 12))
    matrix, mask = arrays.rows()
    done = arrays.articles[5].first
    assert mask[:done].all() and not mask[done:].any()
    assert np.array_equal(matrix[:done], expected(snapshot)[:done])
    assert not matrix[done:].any()
    assert np.array_equal(arrays.take([done - 1, 0]), expected(snapshot)[[done - 1, 0]])

    # A restart sees what was appended; appending the rest completes the rows.
    restarted = IndexStore(corpus, tmp_path / "index").load()
    again = restarted.arrays(KIND)
    assert [s.position for s in again.missing()] == list(range(5, 12))
    assert fill(restarted) == 7
    matrix, mask = restarted.arrays(KIND).rows()
    assert mask.all() and matrix.dtype == np.float16
    assert np.array_equal(matrix, expected(restarted))
    # Complete: served from a memory map, not a copy.
    assert is_mapped(matrix)


def test_rows_of_the_wrong_shape_are_refused(corpus: Path, tmp_path: Path):
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    arrays = snapshot.arrays(KIND)
    slot = arrays.missing()[0]
    with pytest.raises(ValueError, match="rows for"):
        arrays.append(slot, np.zeros((slot.count + 1, 3), dtype=np.float16))
    arrays.append(slot, np.zeros((slot.count, 3), dtype=np.float16))
    with pytest.raises(ValueError, match="shape"):
        arrays.append(arrays.missing()[0], np.zeros((slot.count, 4), dtype=np.float16))


def test_a_one_article_reload_needs_only_that_articles_rows(corpus: Path, tmp_path: Path):
    store = IndexStore(corpus, tmp_path / "index")
    assert fill(store.load()) == 12
    write_article(corpus, "a03.txt", article(3) + "\nA late note was added.\n")
    snapshot = store.load(strict=True)  # a reload: served from memory, saved meanwhile
    assert snapshot.changes.changed == ["a03.txt"]
    arrays = snapshot.arrays(KIND)
    assert [s.position for s in arrays.missing()] == [3]
    assert fill(snapshot) == 1
    matrix, mask = snapshot.arrays(KIND).rows()
    assert mask.all() and np.array_equal(matrix, expected(snapshot))
    # The rows were rewritten in sentence order; the segments they replace are gone.
    assert len(segment_files(tmp_path)) == 1
    store.wait_saved()
    restarted = IndexStore(corpus, tmp_path / "index").load()
    assert restarted.arrays(KIND).missing() == []
    assert np.array_equal(restarted.arrays(KIND).rows()[0], expected(restarted))


def test_corrupted_rows_are_recomputed(corpus: Path, tmp_path: Path, caplog):
    fill(IndexStore(corpus, tmp_path / "index").load())
    (segment,) = segment_files(tmp_path)
    data = bytearray(segment.read_bytes())
    data[10] ^= 0xFF  # inside the first article's rows
    segment.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    assert [s.position for s in snapshot.arrays(KIND).missing()] == [0]
    assert any("corrupted" in r.getMessage() for r in caplog.records)
    assert fill(snapshot) == 1
    assert np.array_equal(snapshot.arrays(KIND).rows()[0], expected(snapshot))


def test_one_pass_over_a_segment_finds_each_corrupted_article(corpus: Path, tmp_path: Path, caplog):
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    fill(snapshot)
    slots = snapshot.arrays(KIND).articles
    (segment,) = segment_files(tmp_path)
    data = bytearray(segment.read_bytes())
    row_bytes = 3 * 2  # three float16 columns
    for position in (3, 7):  # one byte inside each of two articles' rows
        data[slots[position].first * row_bytes + 1] ^= 0x40
    segment.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    assert [s.position for s in snapshot.arrays(KIND).missing()] == [3, 7]
    warnings = [r.getMessage() for r in caplog.records if "corrupted" in r.getMessage()]
    assert len(warnings) == 1 and "recomputing 2 articles'" in warnings[0]
    assert fill(snapshot) == 2
    assert np.array_equal(snapshot.arrays(KIND).rows()[0], expected(snapshot))


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from bot.index.storage import IndexStore
    from bot.index.storage.segments import ArrayStore
    corpus, index, mode, stop_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    def rows_for(texts):
        return np.asarray(
            [[len(t), sum(map(ord, t)) % 97, t.count(" ")] for t in texts], dtype=np.float16
        ).reshape(len(texts), 3)

    appended = 0
    commit = ArrayStore._commit

    def slow_commit(self):
        # The rows and log line of this article are written; the manifest is not.
        if appended == stop_at:
            print("mid-append", flush=True)
            time.sleep(120)
        commit(self)

    ArrayStore._commit = slow_commit
    snapshot = IndexStore(corpus, Path(index)).load()
    arrays = snapshot.arrays("embedding:test-model@1")
    slots = arrays.missing()
    if mode in ("even", "odd"):
        slots = [s for s in slots if s.position % 2 == (mode == "odd")]
    print("ready", flush=True)
    for slot in slots:
        arrays.append(slot, rows_for([snapshot.table.text(i) for i in slot.sentences]))
        appended += 1
        print("appended", slot.position, flush=True)
    """
)


def run_child(corpus: Path, tmp_path: Path, mode: str, stop_at: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(tmp_path / "index"), mode, str(stop_at)],
        stdout=subprocess.PIPE,
        text=True,
    )


def read_until(child: subprocess.Popen[str], word: str) -> list[str]:
    assert child.stdout is not None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        assert line, f"the child ended before {word!r}: {lines}"
        lines.append(line.strip())
        if line.startswith(word):
            return lines
    raise AssertionError(f"no {word!r} in {lines}")


def test_kill_9_mid_append_keeps_every_article_appended_before(corpus: Path, tmp_path: Path):
    IndexStore(corpus, tmp_path / "index").load()  # the index itself, saved
    child = run_child(corpus, tmp_path, "all", stop_at=5)
    lines = read_until(child, "mid-append")
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert [line for line in lines if line.startswith("appended")] == [
        f"appended {n}" for n in range(5)
    ]
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    arrays = snapshot.arrays(KIND)
    # The five committed articles are there; the one being appended is not, and its
    # written but uncommitted bytes are ignored.
    assert [s.position for s in arrays.missing()] == list(range(5, 12))
    matrix, mask = arrays.rows()
    done = arrays.articles[5].first
    assert mask[:done].all() and np.array_equal(matrix[:done], expected(snapshot)[:done])
    assert fill(snapshot) == 7
    assert np.array_equal(snapshot.arrays(KIND).rows()[0], expected(snapshot))


def test_kill_9_at_any_moment_loses_nothing_committed(corpus: Path, tmp_path: Path):
    IndexStore(corpus, tmp_path / "index").load()
    child = run_child(corpus, tmp_path, "all", stop_at=-1)
    lines = read_until(child, "appended 3")
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    arrays = snapshot.arrays(KIND)
    present = {s.position for s in arrays.articles if arrays.has(s)}
    assert {int(line.split()[1]) for line in lines if line.startswith("appended")} <= present
    matrix, mask = arrays.rows()
    assert np.array_equal(matrix[mask], expected(snapshot)[mask])


def test_two_writers_and_a_reader_share_the_rows(corpus: Path, tmp_path: Path):
    IndexStore(corpus, tmp_path / "index").load()
    reader = IndexStore(corpus, tmp_path / "index").load()
    before = reader.arrays(KIND)
    writers = [run_child(corpus, tmp_path, mode, stop_at=-1) for mode in ("even", "odd")]
    for writer in writers:
        assert writer.wait(120) == 0
    # A snapshot opened before still works; a fresh look sees both writers' rows.
    assert len(before.missing()) == 12
    arrays = reader.arrays(KIND)
    assert arrays.missing() == []
    matrix, mask = arrays.rows()
    assert mask.all() and np.array_equal(matrix, expected(reader))


def test_without_an_index_folder_rows_live_in_memory(corpus: Path):
    store = IndexStore(corpus, persist=False)
    snapshot = store.load()
    assert fill(snapshot) == 12
    assert np.array_equal(snapshot.arrays(KIND).rows()[0], expected(snapshot))
    assert store.load().arrays(KIND).missing() == []


def test_a_batch_of_articles_is_committed_together_and_found_after_a_restart(
    corpus: Path, tmp_path: Path
):
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    arrays = snapshot.arrays(KIND)
    store = arrays.store
    slots = arrays.missing()[:4]
    batch = [(s.key, rows_for([snapshot.table.text(i) for i in s.sentences])) for s in slots]
    # A batch with rows of the wrong shape is refused whole: nothing of it is committed.
    with pytest.raises(ValueError):
        store.append_many([*batch[:2], (slots[2].key, np.zeros((slots[2].count, 5)))])
    assert all(store.find(s.key, s.count) is None for s in slots)
    stored = store.append_many(batch)
    assert [r.shape[0] for r in stored] == [s.count for s in slots]
    again = IndexStore(corpus, tmp_path / "index").load().arrays(KIND)
    assert [s.position for s in again.missing()] == list(range(4, 12))
    for slot, (_, rows) in zip(slots, batch, strict=True):
        found = again.article_rows(again.articles[slot.position])
        assert found is not None and np.array_equal(found, rows)
