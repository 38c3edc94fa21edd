"""Estimate how likely the best passages answer a question, from features a fitted model weighs.

The features are cheap (a few set operations on the question's concepts and the
top passages' terms); bot.answer.answerability_models weighs them with the model
that scripts/fit_answerability.py fitted (it and the thresholds that turn a
probability into "high" / "medium" / "low" / decline ship in answerability.json).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.answer.answerability_models import (
    MODEL_FILE,
    Logistic,
    Model,
    Thresholds,
    Trees,
    default_models,
    load_models,
    model_for,
)
from bot.answer.cues import Cue, answers_cue, question_cue, sentence_cues
from bot.answer.decline import _content, all_unknown, coverage, missing_key_content, unknown_share
from bot.answer.query import Query
from bot.index.bm25 import BM25Index
from bot.index.tokenize import stem, words

__all__ = [
    "LEXICAL_FEATURES",
    "MODEL_FILE",
    "SEMANTIC_FEATURES",
    "Evidence",
    "Logistic",
    "Model",
    "Thresholds",
    "Trees",
    "default_models",
    "features",
    "load_models",
    "model_for",
]

# The features, in the order the model's coefficients follow.
LEXICAL_FEATURES = (
    "coverage",  # IDF-weighted share of the question's concepts the best passage mentions
    "coverage_top",  # the same, best among the top passages
    "strength",  # the best sentence's BM25 score over the question's total IDF
    "margin",  # how far the best passage stands above the next (1 - second / best)
    "unknown_share",  # share of the question's concepts no sentence mentions
    "missing_key",  # a number or the key thing of the question is absent from the corpus
    "all_unknown",  # nothing the question names occurs in the corpus
    "asks_type",  # the question asks for a date, number, name, place or reason
    "type_missing",  # ...and the best passage holds none
    "date_missing",  # the same, for each kind asked: a date for "when"...
    "number_missing",
    "name_missing",
    "place_missing",
    "reason_missing",
    "missing_numbers",  # numbers of the question absent from the best passage
    "missing_names",  # share of the question's names absent from the best passage
    "rare_missing",  # IDF of the rarest known concept absent from the best passage, relative
    "concepts",  # log of the number of concepts
    "negation_mismatch",  # the question says "not"/"never", the passage does not
    "missing_known",  # concepts absent from the best passage that the corpus mentions elsewhere
    "missing_unknown",  # concepts the corpus never mentions
    "pairs",  # share of the question's adjacent concept pairs adjacent in the best passage
    "mostly_unknown",  # at least half the question's concepts occur nowhere in the corpus
    "barely_covered",  # the top passages cover under a quarter of the question
    "unknown_names",  # share of the question's names no sentence of the corpus mentions
    "passage_negated",  # the best passage says "not"/"never" and the question does not
    "numbers_absent",  # share of the question's numbers the best passage lacks
    "neighbour_cover",  # of what the best passage lacks, the IDF share its neighbours hold
    "head_missing",  # "what/which X ...": the best passage lacks X
    "passage_length",  # log of the best passage's number of terms
)
SEMANTIC_FEATURES = (*LEXICAL_FEATURES, "similarity")

_NEGATION = frozenset("not never no none nobody nothing neither nor cannot n't without".split())
_NAME = re.compile(r"(?<![\w'-])[A-Z][\w'-]*")
_QUESTION_OPENERS = frozenset(
    "What When Where Who Whom Whose Which Why How Is Are Was Were Do Does Did Can Could "
    "Will Would Should Has Have Had In On At By For From To Of The A An".split()
)


@dataclass(frozen=True)
class Evidence:
    """What the features are computed from: the top passages of one ranking."""

    texts: Sequence[str]  # the top passages' texts, best first
    tokens: Sequence[Sequence[str]]  # their index terms in order, tokenised once per sentence
    scores: Sequence[float]  # their scores, best first
    top_raw: float  # the best sentence's word-match score before scaling
    similarity: float | None = None  # cosine of question and best passage, with a model
    ids: Sequence[int] = ()  # the best passage's sentence ids, best sentence first


def features(query: Query, evidence: Evidence, index: BM25Index) -> dict[str, float]:
    """Compute the answerability features of a query's best passages."""
    texts = list(evidence.texts)
    best = texts[0] if texts else ""
    best_tokens = evidence.tokens[0] if evidence.tokens else ()
    best_terms = set(best_tokens)
    term_sets = [set(t) for t in evidence.tokens[:3]]
    concepts = query.concepts
    total_idf = sum(c.weight * _idf(c, index) for c in concepts) or 1.0
    content = _content(query)
    cue = question_cue(query.text)
    values = {
        "coverage": coverage(query, best_terms, index) if best else 0.0,
        "coverage_top": max((coverage(query, t, index) for t in term_sets), default=0.0),
        "strength": min(evidence.top_raw / total_idf, 3.0),
        "margin": _margin(evidence.scores),
        "unknown_share": unknown_share(query, index),
        "missing_key": float(missing_key_content(query, index)),
        "all_unknown": float(all_unknown(query, index)),
        "asks_type": float(cue is not None),
        "type_missing": float(
            cue is not None and not answers_cue(cue, sentence_cues(best), query.terms)
        ),
        "missing_numbers": float(
            any(
                t.isdigit() and t not in best_terms
                for c in content
                for t in c.typed_terms
                if not c.terms & best_terms
            )
        ),
        "missing_names": _missing_names(query, best_terms),
        "rare_missing": _rare_missing(content, best_terms, index),
        "concepts": math.log1p(len(concepts)),
        "negation_mismatch": float(_negated(query.text) and not _negated(best)),
        "missing_known": float(
            sum(1 for c in content if not c.terms & best_terms and _idf(c, index) > 0)
        ),
        "missing_unknown": float(sum(1 for c in content if _idf(c, index) == 0)),
        "pairs": _pairs(query, best_tokens),
    }
    for kind in Cue:
        values[f"{kind.value}_missing"] = values["type_missing"] if cue is kind else 0.0
    values["mostly_unknown"] = float(values["unknown_share"] >= 0.5)
    values["barely_covered"] = float(values["coverage_top"] < 0.25)
    values["unknown_names"] = _unknown_names(query, index)
    values["passage_negated"] = float(_negated(best) and not _negated(query.text))
    values["numbers_absent"] = _numbers_absent(query.text, best_terms)
    values["neighbour_cover"] = _neighbour_cover(content, best_terms, evidence.ids, index)
    values["head_missing"] = _head_missing(query.text, best_terms, index)
    values["passage_length"] = math.log1p(len(best_tokens))
    if evidence.similarity is not None:
        values["similarity"] = evidence.similarity
    return values


def _idf(concept: object, index: BM25Index) -> float:
    known = [index.idf(t) for t in concept.terms if t in index]  # type: ignore[attr-defined]
    return max(known, default=0.0)


def _pairs(query: Query, passage: Sequence[str]) -> float:
    """Return the share of the question's consecutive terms that sit close in the passage."""
    sequence = [stem(t.word) for t in words(query.text)]
    sequence = [t for t in sequence if t in query.terms]
    pairs = list(itertools.pairwise(sequence))
    if not pairs:
        return 0.0
    positions: dict[str, list[int]] = {}
    for n, token in enumerate(passage):
        positions.setdefault(token, []).append(n)
    close = 0
    for a, b in pairs:
        near = positions.get(a, ())
        far = positions.get(b, ())
        if any(abs(i - j) <= 3 for i in near for j in far):
            close += 1
    return close / len(pairs)


def _margin(scores: Sequence[float]) -> float:
    if not scores or scores[0] <= 0:
        return 0.0
    if len(scores) < 2:
        return 1.0
    return max(0.0, 1.0 - scores[1] / scores[0])


def _missing_names(query: Query, passage_terms: set[str]) -> float:
    """Return the share of the question's names the passage lacks under every alias."""
    names = _names(query.text)
    if not names:
        return 0.0
    # "NK" is held by a passage that says "North Korea".
    held = {t for c in query.concepts if c.terms & passage_terms for t in c.typed_terms}
    return sum(n not in passage_terms and n not in held for n in names) / len(names)


def _names(question: str) -> list[str]:
    """Return the stems of the capitalised words of a question that are not its frame."""
    names: list[str] = []
    for match in _NAME.finditer(question):
        word = match.group(0)
        if word not in _QUESTION_OPENERS:
            names.extend(stem(w.word) for w in words(word))
    return names


def _unknown_names(query: Query, index: BM25Index) -> float:
    """Return the share of the question's names that no sentence mentions under any alias."""
    names = _names(query.text)
    if not names:
        return 0.0
    # "NK" is known when the corpus says "North Korea": an alias's typed form counts.
    known = {t for c in query.concepts if any(u in index for u in c.terms) for t in c.typed_terms}
    return sum(n not in index and n not in known for n in names) / len(names)


def _numbers_absent(question: str, passage_terms: set[str]) -> float:
    numbers = [t for t in (stem(w.word) for w in words(question)) if t.isdigit()]
    return sum(n not in passage_terms for n in numbers) / len(numbers) if numbers else 0.0


def _neighbour_cover(
    content: Sequence[object], passage_terms: set[str], ids: Sequence[int], index: BM25Index
) -> float:
    """Return the IDF share of what the best passage lacks that the sentences around it hold.

    A question whose missing words sit in the next sentence is likely answered in
    context; one whose missing word occurs nowhere near was likely changed.
    """
    missing = [c for c in content if not c.terms & passage_terms and _idf(c, index) > 0]  # type: ignore[attr-defined]
    if not missing or not ids:
        return 0.0
    around = {i + d for i in (min(ids), max(ids)) for d in (-2, -1, 1, 2)} - set(ids)
    near = np.array(sorted(i for i in around if 0 <= i < index.size), dtype=np.int64)
    total = held = 0.0
    for concept in missing:
        weight = _idf(concept, index)
        total += weight
        for term in concept.terms:  # type: ignore[attr-defined]
            posting = index.contains(term)  # sorted ids: a binary search per neighbour
            if posting.size:
                at = np.minimum(np.searchsorted(posting, near), posting.size - 1)
                if (posting[at] == near).any():
                    held += weight
                    break
    return held / total if total else 0.0


_HEAD = re.compile(r"\b(?:what|which)\s+([a-z][a-z'-]+)", re.IGNORECASE)
_NOT_HEADS = frozenset(
    "is are was were do does did can could will would should has have had kind type sort "
    "of the a an in on at to for by about happened happens else".split()
)


def _head_missing(question: str, passage_terms: set[str], index: BM25Index) -> float:
    """Tell whether a "what X" question's X is absent from the best passage (known words only)."""
    match = _HEAD.search(question)
    if match is None or match.group(1).casefold() in _NOT_HEADS:
        return 0.0
    head = stem(match.group(1).casefold())
    return float(head in index and head not in passage_terms)


def _rare_missing(content: Sequence[object], passage_terms: set[str], index: BM25Index) -> float:
    known = [(c, _idf(c, index)) for c in content if any(t in index for t in c.terms)]  # type: ignore[attr-defined]
    if not known:
        return 0.0
    top = max(w for _, w in known) or 1.0
    missing = [w for c, w in known if not c.terms & passage_terms]  # type: ignore[attr-defined]
    return max(missing, default=0.0) / top


def _negated(text: str) -> bool:
    lowered = text.casefold().replace("’", "'")
    return "n't" in lowered or any(w in _NEGATION for w in re.findall(r"[a-z]+", lowered))
