"""The nearest-neighbour index: the same top-k as exact search, saved and reopened."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.embedding import ann
from bot.embedding.ann import AnnIndex
from bot.embedding.rows import LOW, SHIFT, EmbeddingRows, widened
from bot.index.storage.segments import ArrayStore


def unit(n: int, seed: int, dim: int = 384) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exact(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(-(vectors @ query), kind="stable")[:k]]


def sentences_like(n: int, seed: int) -> np.ndarray:
    """Vectors in topics, as sentence embeddings are: a topic's direction plus noise."""
    rng = np.random.default_rng(seed)
    topics = unit(40, seed + 1)
    rows = topics[rng.integers(0, 40, n)] + 0.8 * unit(n, seed + 2)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float16).astype(np.float32)  # as the store keeps them


def test_the_search_finds_the_same_top_k_as_exact_search(tmp_path: Path) -> None:
    vectors = sentences_like(3000, 1)
    in_memory = EmbeddingRows(ArrayStore(None, KIND), 384)
    saved = EmbeddingRows(ArrayStore(tmp_path, KIND), 384)
    for rows in (in_memory, saved):
        for start in range(0, 3000, 64):  # added batch by batch, as the background job does
            rows.append([(f"a{start}", vectors[start : start + 64])])
    saved.flush()
    assert list(tmp_path.glob("*/ann/*/ann-b1-0-3000.usearch"))
    for seed in range(30):
        # A question near some sentence, as real questions are near their answer.
        query = vectors[seed * 97] + 0.5 * unit(1, 100 + seed)[0]
        query /= np.linalg.norm(query)
        expected = exact(vectors, query, 10)
        for rows in (in_memory, saved):
            refs, sims = rows.search(query, 10)
            refs, sims = refs[:10], sims[:10]
            # The same ten, in the same order up to ties (equal cosines to 4 decimals).
            assert set((refs & LOW).tolist()) == set(expected)
            assert np.allclose(sims, (vectors @ query)[expected], atol=1e-3)


def test_the_graphs_propose_rows_by_the_signs_of_their_coordinates() -> None:
    vectors = unit(400, 8)
    graph = AnnIndex(384)
    graph.add(0, vectors)
    query = unit(1, 9)[0]
    rows, distances = graph.search(query, 400)
    # Every row, nearest first, at the number of coordinates whose signs differ.
    assert sorted(rows.tolist()) == list(range(400))
    differing = ((vectors[rows] > 0) != (query > 0)).sum(axis=1)
    assert np.array_equal(distances, differing) and np.all(np.diff(distances) >= 0)


KIND = "embedding:test"


def test_graphs_are_saved_per_segment_and_reopened_memory_mapped(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ann, "SEGMENT_ROWS", 500)
    vectors = unit(1200, 2)
    rows = EmbeddingRows(ArrayStore(tmp_path, KIND), 384)
    refs = [
        rows.append([(f"a{start:04x}", vectors[start : start + 100])])[0]
        for start in range(0, 1200, 100)
    ]
    rows.flush()
    (segment,) = rows.store.segments()
    graphs = tmp_path.glob(f"*/ann/{segment}/ann-*.usearch")
    assert sorted(p.name for p in graphs) == [
        "ann-b1-0-500.usearch",
        "ann-b1-1000-1200.usearch",
        "ann-b1-500-1000.usearch",
    ]
    rows.store.close()
    # A restart: the saved rows are found by article key, the graphs read back, not rebuilt.
    again = EmbeddingRows(ArrayStore(tmp_path, KIND), 384)
    assert again.find(f"a{700:04x}", 100) == refs[7]
    assert again._graphs[refs[7] >> SHIFT].rows == 1200
    found, _ = again.search(vectors[777], 1)
    assert found[0] == refs[7] + 77
    assert np.array_equal(again.vectors(found[:1])[0], vectors[777].astype(np.float16))
    # Rows appended now go into this process's own segment, with graphs of its own.
    (more,) = again.append([("ff", unit(10, 3))])
    assert more >> SHIFT != refs[0] >> SHIFT
    found, _ = again.search(unit(10, 3)[4], 1)
    assert found[0] == more + 4


def test_a_graph_holding_rows_the_store_lost_is_dropped(tmp_path: Path) -> None:
    graph = AnnIndex(384, tmp_path)
    graph.add(0, unit(50, 4))
    graph.flush()
    assert list(tmp_path.glob("ann-*.usearch"))
    again = AnnIndex(384, tmp_path, rows=0)  # the segment's rows are gone (never committed)
    assert again.rows == 0 and not list(tmp_path.glob("ann-*.usearch"))


def test_without_a_folder_rows_and_graphs_live_in_memory() -> None:
    rows = EmbeddingRows(ArrayStore(None, KIND), 384)
    vectors = unit(30, 5)
    first, second = rows.append([("a", vectors[:10]), ("b", vectors[10:])])
    assert second == first + 10 and rows.find("b", 20) == second
    found, _ = rows.search(vectors[25], 1)
    assert found[0] == second + 15


def resident_kb(suffix: str) -> int:
    """Return how much of the files ending in suffix this process's maps keep resident."""
    total, counting = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # a mapping's first line
                counting = len(fields) == 6 and fields[5].endswith(suffix)
            elif counting and fields[0] == "Rss:":
                total += int(fields[1])
    return total


def test_saved_rows_are_read_from_their_file_not_a_map(tmp_path: Path) -> None:
    vectors = unit(3000, 6)
    rows = EmbeddingRows(ArrayStore(tmp_path, KIND), 384)
    (first,) = rows.append([("a", vectors)])
    rows.flush()
    # Scattered, repeated and neighbouring rows, in the order asked.
    local = np.array([5, 2999, 0, 1500, 5, 6, 7, 1501], dtype=np.int64)
    expected = vectors[local].astype(np.float16).astype(np.float32)
    assert np.array_equal(rows.vectors(first + local), expected)
    rows.vectors(first + np.arange(0, 3000, 3))
    rows.search(vectors[10], 50)
    # Read and searched, the rows (2.3 MB) keep no page resident in this process.
    assert resident_kb(".rows") == 0
    # The graphs of an older format are dropped at open, to be rebuilt from the rows.
    (graphs,) = tmp_path.glob("*/ann/*")
    (graphs / "ann-f16-0-3000.usearch").write_bytes(b"an older graph")
    rows.store.close()
    again = EmbeddingRows(ArrayStore(tmp_path, KIND), 384)
    assert again.find("a", 3000) is not None
    assert not (graphs / "ann-f16-0-3000.usearch").exists()
    assert np.array_equal(again.vectors(first + local), expected)


def test_rows_are_widened_to_numpys_float32_bit_for_bit() -> None:
    every = np.arange(1 << 16, dtype=np.uint16).view(np.float16).reshape(256, 256)
    # Every float16 pattern: zeros of both signs, subnormals, infinities and NaNs too.
    assert np.array_equal(widened(every).view(np.uint32), every.astype(np.float32).view(np.uint32))
    # A slice that is not contiguous, as a caller might pass.
    assert np.array_equal(
        widened(every[::3, 1::2]), every[::3, 1::2].astype(np.float32), equal_nan=True
    )


def test_rows_of_several_segments_come_back_in_the_order_asked(tmp_path: Path) -> None:
    a, b = unit(20, 8), unit(30, 9)
    rows = EmbeddingRows(ArrayStore(tmp_path, KIND), 384)
    (first_a,) = rows.append([("a", a)])
    # Another writer's segment (another process, as after a restart with a second job).
    writer = EmbeddingRows(ArrayStore(tmp_path, KIND), 384)
    writer.append([("b", b)])
    rows.refresh()
    first_b = rows.find("b", 30)
    assert first_b is not None and first_b >> SHIFT != first_a >> SHIFT
    refs = np.array([first_b + 29, first_a + 3, first_b, first_a + 19, first_a + 3])
    expected = np.concatenate([b[[29]], a[[3]], b[[0]], a[[19, 3]]])
    assert np.array_equal(rows.vectors(refs), expected.astype(np.float16).astype(np.float32))


def test_segments_searched_on_two_threads_give_what_one_thread_gives(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ann, "SEGMENT_ROWS", 100)
    vectors = unit(500, 7)
    graph = AnnIndex(384, tmp_path)
    for start in range(0, 500, 100):
        graph.add(start, vectors[start : start + 100])
    graph.flush()
    saved = list(graph._saved)
    assert len(saved) == 5
    for seed in range(10):
        query = vectors[seed * 41] + 0.5 * unit(1, 200 + seed)[0]
        query /= np.linalg.norm(query)
        rows, distances = graph.search(query, 10)
        # The same search, one segment after another on this thread, merged the same way:
        # each of the five equal segments proposes twice its share of the ten.
        share = ann.SHARE * 10 // 5
        one = [graph._search(segment, ann.sign_bits(query), share) for segment in saved]
        keys = np.concatenate([k for k, _ in one])
        differing = np.concatenate([d for _, d in one])
        order = np.argsort(differing, kind="stable")
        assert np.array_equal(rows, keys[order]) and np.array_equal(distances, differing[order])
        assert rows.size == 5 * share
