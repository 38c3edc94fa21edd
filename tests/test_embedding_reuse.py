"""Embeddings kept in the persisted index are reused across reloads and restarts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.answer.semantic import SemanticModel, Vectors
from bot.index.storage import IndexStore
from bot.live import LiveEngine

LONG_AGO = 1_600_000_000


class CountingEmbedder:
    """A fake embedding model that counts the sentences it embeds."""

    name = "counting-test"

    def __init__(self) -> None:
        self.embedded = 0

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        return vectors(texts)


def vectors(texts: Sequence[str]) -> Vectors:
    rows = [[len(t), t.count(" ") + 1.0, sum(map(ord, t)) % 97] for t in texts]
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), 3)


def article(n: int) -> str:
    return f"Item {n}\n\nThe harbour ferry {n} sails at noon. It returns at dusk on day {n}.\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(3):
        path = folder / f"a{n}.txt"
        path.write_text(article(n), encoding="utf-8")
        os.utime(path, (LONG_AGO, LONG_AGO))
    return folder


def test_reloads_and_restarts_embed_only_new_articles(corpus: Path, tmp_path: Path):
    embedder = CountingEmbedder()
    model = SemanticModel(embedder)
    live = LiveEngine(corpus, index_dir=tmp_path / "index", semantic=model)
    assert embedder.embedded == len(live.engine.sentences) == 9
    for n in range(3, 6):
        embedder.embedded = 0
        (corpus / f"b{n}.txt").write_text(article(n), encoding="utf-8")
        result = live.reload()
        assert result.changes.added == [f"b{n}.txt"]
        assert embedder.embedded == 3, f"reload adding b{n}.txt"
        live.wait_saved()
    assert live.engine.semantic is not None
    texts = [s.text for s in live.engine.sentences]
    assert np.array_equal(live.engine.semantic.vectors, vectors(texts))

    embedder.embedded = 0
    restarted = LiveEngine(corpus, index_dir=tmp_path / "index", semantic=model)
    assert embedder.embedded == 0
    assert restarted.engine.semantic is not None
    assert np.array_equal(restarted.engine.semantic.vectors, vectors(texts))

    # A changed article after the restart: only its sentences again.
    (corpus / "a1.txt").write_text(article(1) + "\nA late note.\n", encoding="utf-8")
    assert restarted.reload().changes.changed == ["a1.txt"]
    assert embedder.embedded == 4
    restarted.wait_saved()
    embedder.embedded = 0
    again = LiveEngine(corpus, index_dir=tmp_path / "index", semantic=model)
    assert embedder.embedded == 0
    assert again.engine.semantic is not None
    assert np.array_equal(
        again.engine.semantic.vectors, vectors([s.text for s in again.engine.sentences])
    )


def test_rows_computed_before_the_background_save_are_saved_with_it(corpus: Path, tmp_path: Path):
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> Vectors:
        calls.append(texts)
        return vectors(texts)

    store = IndexStore(corpus, tmp_path / "index")
    store.load().extra("emb:m", embed)
    for n in range(3, 5):
        (corpus / f"b{n}.txt").write_text(article(n), encoding="utf-8")
        snapshot = store.load(strict=True)  # in memory; saved in the background
        rows = snapshot.extra("emb:m", embed)
        assert len(calls[-1]) == 3
        assert np.array_equal(rows, vectors([s.text for s in snapshot.corpus.sentences]))
        store.wait_saved()
        # Once saved, the generation holds the rows: asking again computes nothing.
        assert np.array_equal(snapshot.extra("emb:m", embed), rows)
    count = len(calls)
    restarted = IndexStore(corpus, tmp_path / "index").load()
    assert np.array_equal(restarted.extra("emb:m", embed), rows)
    assert len(calls) == count
