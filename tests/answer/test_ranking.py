"""Word match with alternative names, against a dense reference over every sentence."""

from __future__ import annotations

import random

import numpy as np

from bot.answer.query import Concept, Query
from bot.answer.ranking import match
from bot.index.bm25 import BM25Index


def reference(index: BM25Index, documents: list[list[str]], query: Query) -> np.ndarray:
    """Score every sentence: BM25+ of the plain terms, plus each concept's best name.

    The typed name counts word by word; another name only in sentences holding all of it.
    """
    total = index.match_scores(query.plain_weights())
    for concept in query.concepts:
        if len(concept.names) == 1:
            continue
        best = np.zeros(len(documents))
        for number, (terms, scale) in enumerate(concept.names):
            scores = index.match_scores({t: float(terms.count(t)) for t in terms})
            if number:
                scores[[not all(t in d for t in terms) for d in documents]] = 0.0
            best = np.maximum(best, scale * scores)
        total = total + concept.weight * best
    return total


def test_alias_names_score_as_the_dense_reference() -> None:
    rng = random.Random(11)
    vocabulary = [f"t{i}" for i in range(15)]
    documents = [rng.choices(vocabulary, k=rng.randint(0, 9)) for _ in range(500)]
    index = BM25Index(documents)
    for _ in range(150):
        concepts = [
            Concept(t, (((t,), 1.0),), float(rng.randint(1, 2))) for t in rng.sample(vocabulary, 2)
        ]
        for _ in range(rng.randint(1, 2)):
            typed = tuple(rng.sample(vocabulary, rng.randint(1, 2)))
            others = [
                (tuple(rng.sample(vocabulary, rng.randint(1, 3))), rng.choice((0.45, 0.9, 1.8)))
            ]
            concepts.append(Concept("alias", ((typed, 1.0), *others), rng.choice((0.5, 1.0))))
        query = Query("q", concepts)
        ids, scores = match(index, query)
        expected = reference(index, documents, query)
        assert ids.tolist() == np.flatnonzero(expected).tolist()
        np.testing.assert_allclose(scores, expected[ids], rtol=1e-12, atol=0)
