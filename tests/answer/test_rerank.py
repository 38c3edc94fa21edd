"""The learned reranker: its features, its model file, and its step in the ranking."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.answer.engine import Engine
from bot.answer.query import build_query
from bot.answer.rerank import MODEL_FILE, RerankModel, RerankModels, load_models
from bot.answer.rerank_features import (
    FEATURES,
    _order,
    _proximity,
    candidate_features,
    question_terms,
)
from bot.answer.rerank_meaning import REDUCEAT_RUN, TABLE, run_sums, static_pieces
from bot.embedding.model import minilm_model_file
from bot.embedding.weights import initializer
from bot.index.terms import hash_terms
from bot.index.tokenize import terms

ARTICLE = """Harbour bridge opens

The city council discussed the budget for parks.

The new harbour bridge opened in 1998 after six years of work.

Engineers said the harbour bridge was long, and the bridge cost a great deal.
"""


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("bridge")
    (folder / "bridge.txt").write_text(ARTICLE, encoding="utf-8")
    return Engine.from_folder(folder)


def _model(**weights: float) -> RerankModel:
    """Return a model that scores by the named features only, over every candidate."""
    vector = np.array([weights.get(name, 0.0) for name in FEATURES])
    size = len(FEATURES)
    return RerankModel(10, np.zeros(size), np.ones(size), vector, 0.0)


def test_proximity_is_terms_over_the_shortest_window() -> None:
    assert _proximity({1: [0], 2: [1]}) == 1.0
    assert _proximity({1: [0, 9], 2: [5], 3: [7]}) == pytest.approx(3 / 5)
    assert _proximity({1: [4]}) == 1.0


def test_order_counts_consecutive_pairs_close_and_in_order() -> None:
    assert _order((1, 2, 3), {1: [0], 2: [1], 3: [9]}) == 0.5
    assert _order((1, 2), {1: [5], 2: [1]}) == 0.0  # the wrong way round
    assert _order((1,), {1: [0]}) == 0.0


def test_features_read_coverage_cue_and_order_from_the_stored_terms(bridge: Engine) -> None:
    query = build_query("When did the harbour bridge open?", bridge.aliases)
    asked = question_terms(query, bridge.index)
    texts = [s.text for s in bridge.sentences]
    dated = next(i for i, t in enumerate(texts) if "1998" in t)
    council = next(i for i, t in enumerate(texts) if "council" in t)
    rows = candidate_features(
        asked,
        [dated, council],
        np.array([1.0, 0.5]),
        np.array([1.0, 0.0]),
        None,
        lambda i: hash_terms(terms(texts[i])),
        texts.__getitem__,
        np.zeros(len(texts) - 1),
    )
    got = {name: rows[:, k] for k, name in enumerate(FEATURES)}
    assert got["coverage"].tolist() == [1.0, 0.0]
    assert got["cue"].tolist() == [1.0, 0.0]  # a date for "when"
    assert got["order"][0] == 1.0  # "harbour bridge open" in that order
    assert got["gap"].tolist() == [0.0, -0.5]
    assert got["missing"].tolist() == [0.0, 1.0]
    assert (got["cosine"] == 0).all()  # no model, no cosine


def test_a_model_reorders_the_candidates_and_keeps_the_scores_shape(bridge: Engine) -> None:
    query = build_query("harbour bridge", bridge.aliases)
    bridge.ranker.reranker = bridge.reranker(None)
    plain = bridge.ranker.score(query, 5)
    assert plain.reranked == {} and plain.rerank_top is None
    texts = {i: bridge.sentences[i].text for i in plain.hits}
    long_first = max(plain.hits, key=lambda i: len(texts[i]))
    short_first = min(plain.hits, key=lambda i: len(texts[i]))
    models = {}
    for sign in (1.0, -1.0):
        model = _model(length=sign)
        bridge.ranker.reranker = bridge.reranker(RerankModels(model, model))
        models[sign] = bridge.ranker.score(query, 5)
    bridge.ranker.reranker = bridge.reranker(None)
    assert models[1.0].hits[0] == long_first
    assert models[-1.0].hits[0] == short_first
    assert models[1.0].hits != models[-1.0].hits
    # The same scores, handed out in the new order.
    for scored in models.values():
        assert sorted(scored.scores.values()) == sorted(plain.scores.values())
        assert set(scored.reranked) == set(scored.hits)
        assert scored.rerank_top is not None and 0.0 < scored.rerank_top < 1.0


def test_the_recorder_sees_every_candidate_without_changing_the_order(bridge: Engine) -> None:
    query = build_query("harbour bridge", bridge.aliases)
    bridge.ranker.reranker = bridge.reranker(None)
    plain = bridge.ranker.score(query, 5)
    seen: list[tuple[list[int], np.ndarray]] = []
    bridge.ranker.reranker = bridge.reranker(
        None, record=lambda q, s, r: seen.append((s, r)), depth=10
    )
    recorded = bridge.ranker.score(query, 5)
    bridge.ranker.reranker = bridge.reranker(None)
    assert recorded.hits == plain.hits
    ((sentences, rows),) = seen
    assert sentences[: len(plain.hits)] == plain.hits
    assert rows.shape == (len(sentences), len(FEATURES))


def test_model_file_round_trips_and_a_bad_one_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = _model(cue=1.5, coverage=-0.25)
    path = tmp_path / "rerank.json"
    path.write_text(json.dumps({"lexical": model.to_json(), "semantic": model.to_json()}))
    loaded = load_models(path)
    assert loaded is not None
    assert loaded.lexical.weights.tolist() == model.weights.tolist()
    assert load_models(tmp_path / "missing.json") is None
    stale = model.to_json() | {"features": ["score"]}
    path.write_text(json.dumps({"lexical": stale, "semantic": stale}))
    with caplog.at_level(logging.WARNING):
        assert load_models(path) is None
    assert "unusable" in caplog.text


def test_the_shipped_model_loads_and_follows_the_features() -> None:
    models = load_models(MODEL_FILE)
    assert models is not None
    for model in (models.lexical, models.semantic):
        assert model.depth > 1
        assert model.weights.shape == (len(FEATURES),)


def test_static_pieces_match_a_word_to_its_family() -> None:
    pieces = static_pieces()
    assert pieces is not None
    near = pieces.closest(["died"], ["He passed away after his death.", "The bridge is long."])
    assert near[0, 0] > near[1, 0] + 0.2
    # Punctuation and special pieces say nothing: a phrase of them has no vector.
    assert pieces.phrase("?!") is None


def test_piece_vectors_read_from_the_mapped_table_are_its_rows_made_unit() -> None:
    pieces = static_pieces()
    assert pieces is not None
    table = initializer(minilm_model_file(), TABLE)
    assert table is not None and not table.flags.writeable  # a view of the mapped file
    # Each row normalised as it is read equals the whole table normalised at once.
    whole = table.astype(np.float32)
    inverse = (1.0 / np.maximum(np.linalg.norm(whole, axis=1), 1e-6)).astype(np.float32)
    ids = np.random.default_rng(5).integers(0, table.shape[0], 300)
    assert np.array_equal(pieces._vectors(ids), whole[ids] * inverse[ids][:, None])


def test_an_empty_model_file_has_no_initializer(tmp_path: Path) -> None:
    empty = tmp_path / "model.onnx"
    empty.write_bytes(b"")
    assert initializer(empty, TABLE) is None


def test_run_sums_are_numpys_reduceat_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        counts = rng.integers(1, 2 * REDUCEAT_RUN, rng.integers(1, 150))
        counts[rng.random(counts.size) < 0.6] = 1  # most words are one piece
        rows = rng.normal(size=(int(counts.sum()), 384)).astype(np.float32)
        starts = np.cumsum(counts) - counts
        expected = np.add.reduceat(rows, starts, axis=0)
        found = run_sums(rows, counts)
        assert found.dtype == expected.dtype and np.array_equal(found, expected)


def test_reranking_keeps_the_flagship_answer(engine: Engine) -> None:
    assert engine.ranker.reranker is not None and engine.ranker.reranker.models is not None
    answer = engine.answer("why is NK courting ASEAN?")
    assert answer.answered
    assert "in a bid to weaken sanctions" in answer.passages[0].text


def test_the_fit_learns_which_feature_marks_the_gold_and_keeps_its_order() -> None:
    scripts = Path(__file__).parents[2] / "scripts"
    sys.path.insert(0, str(scripts))
    try:
        import fit_reranker
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(3)
    cue = FEATURES.index("cue")
    groups = []
    for k in range(120):
        rows = rng.random((8, len(FEATURES)))
        rows[:, cue] = 0.0
        gold = np.zeros(8, dtype=np.bool_)
        gold[k % 8] = True
        rows[k % 8, cue] = 1.0  # the gold candidate alone holds what is asked for
        groups.append(fit_reranker.Group("synthetic", "train", rows, gold))
    model = fit_reranker.fit(groups, 8, 1.0)
    assert int(np.argmax(np.abs(model.weights))) == cue and model.weights[cue] > 0
    assert fit_reranker.hit1(groups, model) == 1.0
    assert fit_reranker.hit1(groups, None) < 0.2  # the gold is first in only 1 group in 8
    probabilities = 1 / (1 + np.exp(-model.logits(groups[0].rows)))
    assert probabilities[groups[0].gold][0] > 0.5 > probabilities[~groups[0].gold].max()
