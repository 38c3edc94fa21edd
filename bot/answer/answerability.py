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
from collections.abc import Set as AbstractSet
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
    "known_coverage",  # IDF share of the concepts the corpus mentions that the best passage holds
    "pairs",  # share of the question's adjacent concept pairs adjacent in the best passage
    "mostly_unknown",  # at least half the question's concepts occur nowhere in the corpus
    "barely_covered",  # the top passages cover under a quarter of the question
    "unknown_names",  # share of the question's names no sentence of the corpus mentions
    "passage_negated",  # the best passage says "not"/"never" and the question does not
    "numbers_absent",  # share of the question's numbers the best passage lacks
    "neighbour_cover",  # of what the best passage lacks, the IDF share its neighbours hold
    "head_missing",  # "what/which X ...": the best passage lacks X
    "passage_length",  # log of the best passage's number of terms
    "swapped",  # IDF share of the question's words the passage replaces between their neighbours
    "number_contradicted",  # the question says a number the passage lacks, the passage another
    "negated_near",  # the passage negates a word of the question right before it; the question not
    "opposite",  # the passage says the opposite of a question word and not the word itself
)
SEMANTIC_FEATURES = (
    *LEXICAL_FEATURES,
    "similarity",
    "similarity_margin",  # how far the best passage's cosine stands above the next passage's
)

_NEGATION = frozenset("not never no none nobody nothing neither nor cannot n't without".split())
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
    rival_similarity: float | None = None  # cosine of question and the next passage


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
    asks_not, says_not = _negated(query.text), _negated(best)
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
        "negation_mismatch": float(asks_not and not says_not),
        "missing_known": float(
            sum(1 for c in content if not c.terms & best_terms and _idf(c, index) > 0)
        ),
        "missing_unknown": float(sum(1 for c in content if _idf(c, index) == 0)),
    }
    known = [(c, w) for c in content if (w := _idf(c, index)) > 0]
    weight = sum(w for _, w in known)
    held = sum(w for c, w in known if c.terms & best_terms)
    values["known_coverage"] = held / weight if weight else 0.0
    sequence = _sequence(query)
    values["pairs"], values["swapped"] = _pairs(sequence, best_tokens, index)
    for kind in Cue:
        values[f"{kind.value}_missing"] = values["type_missing"] if cue is kind else 0.0
    values["mostly_unknown"] = float(values["unknown_share"] >= 0.5)
    values["barely_covered"] = float(values["coverage_top"] < 0.25)
    values["unknown_names"] = _unknown_names(query, index)
    values["passage_negated"] = float(says_not and not asks_not)
    values["numbers_absent"] = _numbers_absent(query.text, best_terms)
    values["neighbour_cover"] = _neighbour_cover(content, best_terms, evidence.ids, index)
    values["head_missing"] = _head_missing(query.text, best_terms, index)
    values["passage_length"] = math.log1p(len(best_tokens))
    values["opposite"] = _opposite(query.text, best)
    values["number_contradicted"] = _number_contradicted(query.text, best)
    values["negated_near"] = float(says_not and not asks_not and _negates(best, query.terms))
    if evidence.similarity is not None:
        values["similarity"] = evidence.similarity
        rival = evidence.rival_similarity
        values["similarity_margin"] = evidence.similarity - (rival if rival is not None else 0.0)
    return values


def _idf(concept: object, index: BM25Index) -> float:
    known = [index.idf(t) for t in concept.terms if t in index]  # type: ignore[attr-defined]
    return max(known, default=0.0)


def _sequence(query: Query) -> list[str]:
    """Return the question's search terms in the order it says them."""
    return [t for t in (stem(w.word) for w in words(query.text)) if t in query.terms]


def _pairs(
    sequence: Sequence[str], passage: Sequence[str], index: BM25Index
) -> tuple[float, float]:
    """Return how the question's consecutive terms sit in the passage: (close, swapped).

    close: the share of consecutive pairs within three terms of each other;
    swapped: the IDF share of the question's terms the passage lacks though their
    two neighbours stand close there with something else between them - the
    passage says another word in that place ("computational complexity theory"
    for "computational simplicity theory").
    """
    positions: dict[str, list[int]] = {}
    for n, token in enumerate(passage):
        positions.setdefault(token, []).append(n)

    def near(a: str, b: str, low: int, high: int) -> bool:
        return any(
            low <= abs(j - i) <= high for i in positions.get(a, ()) for j in positions.get(b, ())
        )

    pairs = list(itertools.pairwise(sequence))
    close = sum(near(a, b, 1, 3) for a, b in pairs) / len(pairs) if pairs else 0.0
    total = swapped = 0.0
    for n, term in enumerate(sequence):
        weight = index.idf(term) if term in index else _UNSEEN_IDF
        total += weight
        inner = 0 < n < len(sequence) - 1 and term not in positions
        if inner and near(sequence[n - 1], sequence[n + 1], 2, 4):
            swapped += weight
    return close, (swapped / total if total else 0.0)


# The weight of a term no sentence holds, in swapped: as rare as a term can be.
_UNSEEN_IDF = 10.0

# Common opposites: a question made from a sentence by turning one word round
# ("the largest city" for "the smallest city") shares every other word with it.
_OPPOSITE_PAIRS = """large small largest smallest larger smaller big little biggest most least
more less fewer first last earliest latest early late before after increase decrease
increased decreased rise fall high low highest lowest higher lower maximum minimum major
minor positive negative north south east west northern southern eastern western old new
oldest newest best worst better worse top bottom upper lower inner outer internal external
always never often rarely many few long short longest shortest strong weak strongest
weakest rich poor wealthy poor success failure win lose won lost accept reject allowed
forbidden legal illegal public private open closed start end begin end beginning end
male female men women man woman true false same different like unlike include exclude
direct indirect possible impossible common rare complex simple complexity simplicity
mechanical manual natural artificial ancient modern hot cold warm cool wet dry dark light
heavy light fast slow slowest fastest full empty above below inside outside import export
buy sell sold bought gain loss win defeat victory defeat""".split()
_OPPOSITES: dict[str, set[str]] = {}
for _a, _b in zip(_OPPOSITE_PAIRS[::2], _OPPOSITE_PAIRS[1::2], strict=True):
    _OPPOSITES.setdefault(_a, set()).add(_b)
    _OPPOSITES.setdefault(_b, set()).add(_a)


_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand million billion first second third fourth fifth sixth seventh eighth ninth
    tenth once twice dozen""".split()
)


def _numbers(text: str) -> set[str]:
    return {
        w for w in re.findall(r"[a-z0-9]+", text.casefold()) if w.isdigit() or w in _NUMBER_WORDS
    }


def _number_contradicted(question: str, passage: str) -> float:
    """Tell whether the passage names other numbers than the question ("fourth" for "third").

    Both must say one: the question a number (a year, "fourth") the passage lacks, the
    passage one the question does not.
    """
    asked = _numbers(question)
    if not asked:
        return 0.0
    said = _numbers(passage)
    return float(bool(asked - said) and bool(said - asked))


def _opposite(question: str, passage: str) -> float:
    """Tell whether the passage says the opposite of a question word and never the word."""
    asked = set(re.findall(r"[a-z]+", question.casefold())) & _OPPOSITES.keys()
    if not asked:
        return 0.0  # most questions: no need to read the passage's words
    said = set(re.findall(r"[a-z]+", passage.casefold()))
    return float(any(w not in said and _OPPOSITES[w] & said for w in asked))


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
    for token in words(question):
        # Read on the words the index reads, so that "U.N." is one name, "un".
        raw = question[token.start : token.end]
        if raw[:1].isupper() and raw not in _QUESTION_OPENERS:
            names.append(stem(token.word))
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


def _negates(passage: str, asked: AbstractSet[str]) -> bool:
    """Tell whether the passage says "not"/"never"... at most three words before a question term.

    "squaring is not more difficult than multiplication" does not answer "what is
    more difficult than multiplication?" though it holds every word of it.
    """
    tokens = [t.word for t in words(passage)]
    return any(
        (word in _NEGATION or word.endswith("n't"))
        and any(stem(w) in asked for w in tokens[n + 1 : n + 4])
        for n, word in enumerate(tokens)
    )


def _negated(text: str) -> bool:
    lowered = text.casefold().replace("’", "'")
    return "n't" in lowered or any(w in _NEGATION for w in re.findall(r"[a-z]+", lowered))
