"""The nearest-neighbour index: the same top-k as exact search, saved and reopened."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.embedding import ann
from bot.embedding.ann import AnnIndex
from bot.embedding.store import EmbeddingStore


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


def test_the_graph_finds_the_same_top_k_as_exact_search() -> None:
    vectors = sentences_like(3000, 1)
    index = AnnIndex(384, threads=1)
    for start in range(0, 3000, 64):  # added batch by batch, as the background job does
        index.add(start, vectors[start : start + 64])
    for seed in range(30):
        # A question near some sentence, as real questions are near their answer.
        query = vectors[seed * 97] + 0.5 * unit(1, 100 + seed)[0]
        query /= np.linalg.norm(query)
        rows, sims = index.search(query, 10)
        expected = exact(vectors, query, 10)
        # The same ten, in the same order up to ties (equal cosines to 4 decimals).
        assert set(rows) == set(expected)
        assert np.allclose(sims, (vectors @ query)[expected], atol=1e-3)


def test_segments_are_saved_and_reopened_memory_mapped(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ann, "SEGMENT_ROWS", 500)
    vectors = unit(1200, 2)
    store = EmbeddingStore(tmp_path, 384)
    for start in range(0, 1200, 100):
        store.append([(f"article {start}", vectors[start : start + 100])])
    store.ann.flush()
    assert sorted(p.name for p in tmp_path.glob("ann-*.usearch")) == [
        "ann-0-500.usearch",
        "ann-1000-1200.usearch",
        "ann-500-1000.usearch",
    ]
    store.close()
    again = EmbeddingStore(tmp_path, 384)
    assert again.ann.rows == 1200  # read back, not rebuilt
    rows, _ = again.ann.search(vectors[777], 1)
    assert rows[0] == 777
    # Rows appended later go into a new segment after the saved ones.
    again.append([("more", unit(10, 3))])
    assert again.ann.rows == 1210


def test_a_graph_holding_rows_the_store_lost_is_dropped(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path, 384)
    store.append([("a", unit(50, 4))])
    store.ann.flush()
    store.close()
    (tmp_path / "log.jsonl").write_text("")  # the rows are gone (a torn store)
    again = EmbeddingStore(tmp_path, 384)
    assert again.ann.rows == 0 and not list(tmp_path.glob("ann-*.usearch"))
