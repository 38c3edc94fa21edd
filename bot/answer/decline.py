"""Signs that the corpus does not answer a question: unknown words, uncovered key content."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from bot.answer.query import QUESTION_FRAME_TERMS as QUESTION_FRAME_TERMS
from bot.answer.query import Concept, Query
from bot.index.bm25 import BM25Index


def known(concept: Concept, index: BM25Index) -> bool:
    """Tell whether some sentence holds one of the concept's terms."""
    return any(t in index for t in concept.terms)


def _content(query: Query) -> list[Concept]:
    """Return the concepts that say what the question is about, not how it is framed."""
    return [c for c in query.concepts if not set(c.typed_terms) <= QUESTION_FRAME_TERMS]


def unknown_share(query: Query, index: BM25Index) -> float:
    """Return the share of the question's concepts that no sentence mentions at all."""
    if not query.concepts:
        return 1.0
    unknown = sum(1 for c in query.concepts if not known(c, index))
    return unknown / len(query.concepts)


def missing_key_content(query: Query, index: BM25Index) -> bool:
    """Tell whether the corpus lacks what the question hinges on, though some words match.

    Two signs, each measured on SQuAD (answerable versus unanswerable questions):
    a number the question names (a year, a count) that no sentence contains, and a
    question about at most one thing the corpus knows plus something it never
    mentions ("What is the capital of Laos?": Laos is mentioned, a capital never).
    """
    content = _content(query)
    unknown = [c for c in content if not known(c, index)]
    if not unknown:
        return False
    if any(t.isdigit() and len(t) >= 3 for c in unknown for t in c.typed_terms):
        return True
    return _things(query.text, [c for c in content if known(c, index)]) <= 1


def _things(text: str, concepts: list[Concept]) -> int:
    """Count the things concepts name, a multi-word name ("Harbour Town") counting once."""
    count = 0
    previous = ""
    for concept in concepts:
        label = concept.label
        joined = bool(previous) and f"{previous} {label}" in text
        if not (joined and label[:1].isupper() and previous[:1].isupper()):
            count += 1
        previous = label
    return count


def all_unknown(query: Query, index: BM25Index) -> bool:
    """Tell whether the question names things, none of which the corpus mentions."""
    content = _content(query)
    return bool(content) and not any(known(c, index) for c in content)


def coverage(query: Query, passage_terms: AbstractSet[str], index: BM25Index) -> float:
    """Return the IDF-weighted share of the question's concepts that the passage's terms hold."""
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


def covered_concepts(query: Query, passage_terms: AbstractSet[str]) -> int:
    """Count the things the question names that the passage's terms hold (by label)."""
    return len({c.label.casefold() for c in query.concepts if c.terms & passage_terms})
