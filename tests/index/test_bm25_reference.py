"""The BM25+ index ranks exactly like rank_bm25.BM25Plus, and its fast paths agree with it."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Plus

from bot.index.bm25 import BM25Index, BM25Params, top_k
from bot.index.tokenize import terms
from bot.ingest.loader import load_corpus

SEED_CORPUS = Path(__file__).resolve().parents[2] / "corpus"
K = 10
TOLERANCE = 1e-9


def reference_top(reference: BM25Plus, query: list[str], k: int) -> np.ndarray:
    """rank-bm25's scores for its own top-k (by its own get_scores)."""
    scores = reference.get_scores(query)
    return scores, np.argsort(-scores, kind="stable")[:k]


def assert_same_top(index: BM25Index, reference: BM25Plus, query: list[str], k: int = K) -> None:
    """Our top-k equals rank-bm25's, ties counted as equal (same scores, tied ids swappable)."""
    weights = {t: float(c) for t, c in Counter(query).items()}
    ref_scores, ref_top = reference_top(reference, query, k)
    # Dense: full scores equal rank-bm25's, for every document.
    ours = index.scores(weights)
    np.testing.assert_allclose(ours, ref_scores, rtol=0, atol=TOLERANCE)
    top = top_k(ours, k)
    np.testing.assert_allclose(
        np.sort(ours[top])[::-1], np.sort(ref_scores[ref_top])[::-1], rtol=0, atol=TOLERANCE
    )
    # Whatever rank-bm25 put in its top-k and we did not must be tied with our k-th.
    kth = ours[top].min()
    for doc in set(ref_top.tolist()) - set(top):
        assert abs(ref_scores[doc] - kth) <= TOLERANCE
    # Sparse search: the top-k among documents that match at least one term.
    ids, scores = index.search(weights, k)
    baseline = index.baseline(weights)
    matching = [i for i in top if ours[i] > baseline + TOLERANCE]
    assert len(ids) >= len(matching)
    np.testing.assert_allclose(scores + baseline, ref_scores[ids], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(
        np.sort(scores + baseline)[::-1][: len(matching)],
        np.sort(ours[matching])[::-1],
        rtol=0,
        atol=TOLERANCE,
    )


def build(documents: list[list[str]], params: BM25Params) -> tuple[BM25Index, BM25Plus]:
    return BM25Index(documents, params), BM25Plus(
        documents, k1=params.k1, b=params.b, delta=params.delta
    )


documents_strategy = st.lists(
    st.lists(st.sampled_from([f"w{i}" for i in range(25)]), min_size=1, max_size=15),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    documents=documents_strategy,
    query=st.lists(st.sampled_from([f"w{i}" for i in range(30)]), min_size=1, max_size=6),
    k=st.integers(min_value=1, max_value=12),
)
def test_random_corpora_rank_like_rank_bm25(documents: list[list[str]], query: list[str], k: int):
    index, reference = build(documents, BM25Params())
    assert_same_top(index, reference, query, k)


@pytest.mark.parametrize("k1,b", [(0.9, 0.25), (1.5, 0.75), (1.2, 0.0)])
def test_seeded_corpora_and_other_parameters(k1: float, b: float):
    rng = random.Random(f"{k1}-{b}")
    vocabulary = [f"t{i}" for i in range(200)]
    # Zipf-like: a few very common terms, many rare ones, as in real text.
    weights = [1 / (i + 1) for i in range(len(vocabulary))]
    documents = [
        rng.choices(vocabulary, weights, k=rng.randint(1, 30)) for _ in range(rng.randint(300, 600))
    ]
    index, reference = build(documents, BM25Params(k1=k1, b=b))
    for _ in range(40):
        query = rng.choices(vocabulary, weights, k=rng.randint(1, 6))
        assert_same_top(index, reference, query)


def test_seed_article_ranks_like_rank_bm25():
    corpus = load_corpus(SEED_CORPUS)
    documents = [terms(s.text) for s in corpus.sentences]
    index, reference = build(documents, BM25Params())
    questions = [
        "What did North Korea do at the ASEAN Regional Forum?",
        "Who imposed sanctions on North Korea?",
        "Which countries attend the ASEAN meeting in Singapore?",
        "When did the foreign ministers meet?",
        "What does the government say about the sanctions?",
    ]
    for question in questions:
        assert_same_top(index, reference, terms(question))
    rng = random.Random(7)
    for _ in range(50):
        sentence = rng.choice(documents)
        if sentence:
            assert_same_top(index, reference, rng.sample(sentence, min(len(sentence), 4)))


def test_sparse_dense_and_every_term_scores_are_bit_identical():
    rng = random.Random(3)
    vocabulary = [f"t{i}" for i in range(60)]
    documents = [rng.choices(vocabulary, k=rng.randint(0, 12)) for _ in range(400)]
    index = BM25Index(documents)
    for _ in range(100):
        size = rng.choice((1, 2, 4))  # one term: its postings as they are
        weights = {t: float(rng.randint(1, 3)) for t in rng.sample([*vocabulary, "zz"], size)}
        dense = index.match_scores(weights)
        ids, scores = index.match_scores_sparse(weights)
        assert ids.tolist() == np.flatnonzero(dense).tolist()
        assert np.array_equal(scores, dense[ids])  # bit for bit, not approximately
        k = rng.randint(1, 15)
        found, found_scores = index.search(weights, k)
        expected = [i for i in top_k(dense, k) if dense[i] > 0]
        assert found.tolist() == expected
        assert np.array_equal(found_scores, dense[expected])
        # The documents that hold every term of a pair (of a name of an alias).
        pair = dict(list(weights.items())[:2])
        if len(pair) < 2:
            continue
        ids, scores = index.match_scores_every(pair)
        assert ids.tolist() == [i for i, d in enumerate(documents) if all(t in d for t in pair)]
        assert np.array_equal(scores, index.match_scores(pair)[ids])


def test_search_handles_zero_and_repeated_weights_and_unknown_terms():
    index = BM25Index([["a", "b"], ["b", "c"], ["c"], []])
    ids, _scores = index.search({"a": 0.0, "b": 1.0, "nope": 2.0}, 10)
    dense = index.match_scores({"a": 0.0, "b": 1.0, "nope": 2.0})
    assert ids.tolist() == [i for i in top_k(dense, 10) if dense[i] > 0]
    assert index.search({"nope": 1.0}, 5)[0].size == 0
    assert index.search({"a": 1.0}, 0)[0].size == 0
    # The per-thread buffer is left clean: the same query twice gives the same result.
    first = index.search({"b": 1.0, "c": 2.0}, 3)
    second = index.search({"b": 1.0, "c": 2.0}, 3)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def test_empty_index_and_unseen_terms_keep_their_meaning():
    empty = BM25Index([])
    assert empty.size == 0
    assert "x" not in empty
    assert empty.match_scores({"x": 1.0}).size == 0
    assert top_k(empty.match_scores({"x": 1.0}), 3) == []
    index = BM25Index([["a"], ["a", "b"]])
    assert index.document_frequency("a") == 2 and index.document_frequency("zz") == 0
    assert index.idf("zz") == pytest.approx(np.log(3))
    assert index.contains("b").tolist() == [1]
    assert index.contains("zz").size == 0


def test_top_k_breaks_ties_by_position_and_fills_with_zeros():
    scores = np.array([0.0, 2.0, 1.0, 2.0, 0.0, 1.0])
    assert top_k(scores, 3) == [1, 3, 2]
    assert top_k(scores, 5) == [1, 3, 2, 5, 0]
    assert top_k(np.array([-1.0, 0.0, -2.0]), 2) == [1, 0]


@settings(max_examples=300, deadline=None)
@given(
    scores=st.lists(
        st.one_of(st.just(0.0), st.sampled_from([-1.0, 0.5, 1.0, 2.0]), st.floats(0, 3)),
        max_size=80,
    ),
    k=st.integers(min_value=0, max_value=90),
)
def test_top_k_is_a_sort_by_score_then_position(scores: list[float], k: int):
    array = np.array(scores, dtype=np.float64)
    expected = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    assert top_k(array, k) == expected
