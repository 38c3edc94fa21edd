"""Decide that the corpus does not answer a question, instead of guessing."""

from __future__ import annotations

from bot.answer.query import Query
from bot.index.bm25 import BM25Index
from bot.index.tokenize import terms


def unknown_share(query: Query, index: BM25Index) -> float:
    """Return the share of the question's concepts that no sentence mentions at all."""
    if not query.concepts:
        return 1.0
    unknown = sum(1 for c in query.concepts if not any(t in index for t in c.terms))
    return unknown / len(query.concepts)


def coverage(query: Query, passage_text: str, index: BM25Index) -> float:
    """Return the IDF-weighted share of the question's concepts that the passage mentions."""
    passage_terms = set(terms(passage_text))
    total = covered = 0.0
    for concept in query.concepts:
        known = [t for t in concept.typed_terms if t in index] or [
            t for t in concept.terms if t in index
        ]
        weight = max(index.idf(t) for t in known or concept.typed_terms or concept.terms)
        total += weight
        if concept.terms & passage_terms:
            covered += weight
    return covered / total if total else 0.0


def declines(
    query: Query,
    best_passage_text: str | None,
    index: BM25Index,
    *,
    min_coverage: float,
    max_unknown_share: float,
) -> bool:
    """Tell whether to answer "not found" rather than show the best passage."""
    if best_passage_text is None:
        return True
    # Most of what was asked never occurs in the corpus: an off-topic question
    # that happens to share a word or two with it.
    if unknown_share(query, index) >= max_unknown_share:
        return True
    return coverage(query, best_passage_text, index) < min_coverage
