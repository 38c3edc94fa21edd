"""Compute the reranker's cheap features of a question's top candidate sentences.

Each candidate gets one row of FEATURES: how the ranking scored it (its fused score,
its gap to the best, its own word match without the neighbours, its cosine), and
what it holds of the question read from the terms stored with the index: the
IDF-weighted share of the question's concepts, the rarest one, how close together
and in what order the question's words stand, what the neighbours add, and whether
it holds the kind of thing the question asks for. Pure functions over arrays and
term hashes: no tokenising of sentences at answer time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.answer.cues import Cue, answers_cue, question_cue, sentence_cues
from bot.answer.query import Query
from bot.answer.rerank_meaning import StaticPieces
from bot.index.bm25 import BM25Index
from bot.index.terms import term_hash
from bot.index.tokenize import stem, words

FEATURES = (
    "score",  # the ranking's score (fused with meaning when on), the best about 1
    "gap",  # the score less the best candidate's
    "rank",  # log(1 + the candidate's place in the ranking)
    "own",  # its own word match (no neighbours), as a share of the best candidate's
    "coverage",  # IDF-weighted share of the question's concepts the sentence holds
    "window_coverage",  # the same over the sentence and its linked neighbours
    "rarest",  # 1 when it holds the question's rarest concept
    "missing",  # how many of the question's concepts it lacks, over their number
    "proximity",  # distinct question terms held, over the shortest window holding them
    "order",  # share of the question's consecutive term pairs found close, in order
    "cue",  # 1 when it holds what the question type asks for (a date for "when")
    "length",  # log(1 + its number of terms)
    "density",  # distinct question terms held, over its number of terms
    "first",  # where its first question term stands, as a share of its length
    "soft_missing",  # best static-vector cosine of the concepts it lacks (IDF-weighted)
    "soft_coverage",  # coverage with each lacking concept counted at that cosine
    "cosine",  # the question's cosine with it (0 without the model)
    "cosine_gap",  # its cosine less the highest among the candidates (0 without the model)
)

# Question terms this many places apart or closer count as an ordered pair.
PAIR_REACH = 3

Hashes = Callable[[int], npt.NDArray[np.uint64]]


@dataclass(frozen=True)
class QuestionTerms:
    """What the features look for in a sentence, worked out once per question."""

    # Per concept: the hashes of every term of every name, and its weight times its IDF.
    concepts: tuple[tuple[frozenset[int], float], ...]
    # The hash of each question term in the order the question says them (typed terms).
    ordered: tuple[int, ...]
    rarest: int  # the position of the rarest concept
    labels: tuple[str, ...]  # each concept as the question writes it
    cue: Cue | None
    terms: frozenset[str]

    @property
    def total(self) -> float:
        """Return the summed weight of all concepts."""
        return sum(weight for _, weight in self.concepts) or 1.0


def question_terms(query: Query, index: BM25Index) -> QuestionTerms:
    """Hash the question's concepts and order its terms once for all candidates."""
    concepts: list[tuple[frozenset[int], float]] = []
    for concept in query.concepts:
        idf = max((index.idf(t) for t in concept.typed_terms), default=0.0)
        concepts.append((frozenset(term_hash(t) for t in concept.terms), concept.weight * idf))
    typed = {t for c in query.concepts for t in c.typed_terms}
    spoken = [stem(t.word) for t in words(query.text)]
    ordered = tuple(dict.fromkeys(term_hash(t) for t in spoken if t in typed))
    weights = [w for _, w in concepts]
    rarest = int(np.argmax(weights)) if weights else 0
    labels = tuple(c.label for c in query.concepts)
    cue = question_cue(query.text)
    return QuestionTerms(tuple(concepts), ordered, rarest, labels, cue, query.terms)


def _held(found: Sequence[int], concepts: Sequence[tuple[frozenset[int], float]]) -> list[bool]:
    present = set(found)
    return [bool(hashes & present) for hashes, _ in concepts]


def _proximity(positions: dict[int, list[int]]) -> float:
    """Return the distinct terms held over the length of the shortest window holding them."""
    if len(positions) <= 1:
        return float(len(positions))
    events = sorted((p, t) for t, places in positions.items() for p in places)
    need, seen, have, left, best = len(positions), dict[int, int](), 0, 0, math.inf
    for place, term in events:
        seen[term] = seen.get(term, 0) + 1
        have += seen[term] == 1
        while have == need:
            best = min(best, place - events[left][0] + 1)
            gone = events[left][1]
            seen[gone] -= 1
            have -= seen[gone] == 0
            left += 1
    return need / best


def _order(ordered: Sequence[int], positions: dict[int, list[int]]) -> float:
    """Return the share of consecutive question-term pairs standing close and in order."""
    if len(ordered) < 2:
        return 0.0
    found = 0
    for a, b in itertools.pairwise(ordered):
        after = positions.get(b, ())
        found += any(0 < q - p <= PAIR_REACH for p in positions.get(a, ()) for q in after)
    return found / (len(ordered) - 1)


def candidate_features(
    asked: QuestionTerms,
    ids: Sequence[int],
    scores: npt.NDArray[np.float64],
    own: npt.NDArray[np.float64],
    cosines: npt.NDArray[np.float64] | None,
    hashes: Hashes,
    text: Callable[[int], str],
    linked: npt.NDArray[np.float64],
    soft: StaticPieces | None = None,
) -> npt.NDArray[np.float64]:
    """Return a row of FEATURES per candidate sentence, candidates in ranking order.

    scores and own are the candidates' ranking scores and own word match; cosines
    their cosine with the question (None without the model, NaN: no embedding yet);
    hashes gives a sentence's hashed terms in order; linked[i] is 1.0 when sentences
    i and i + 1 share a paragraph; soft, the static word-piece vectors (None: the
    soft-match features are 0).
    """
    n = len(ids)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    wanted = {h for hashes_, _ in asked.concepts for h in hashes_}
    ordered = set(asked.ordered)
    total = asked.total
    best_own = float(own.max()) or 1.0
    last = len(linked)
    texts = [text(i) for i in ids]
    weights = [w for _, w in asked.concepts]
    closest = soft.closest(asked.labels, texts) if soft is not None and weights else None
    for row, i in enumerate(ids):
        found = hashes(i).tolist()
        held = _held([h for h in found if h in wanted], asked.concepts)
        positions: dict[int, list[int]] = {}
        for place, h in enumerate(found):
            if h in ordered:
                positions.setdefault(h, []).append(place)
        around = list(held)
        for j, joined in ((i - 1, i - 1 >= 0 and linked[i - 1]), (i + 1, i < last and linked[i])):
            if joined:
                for c, has in enumerate(_held(hashes(j).tolist(), asked.concepts)):
                    around[c] = around[c] or has
        cue = asked.cue
        lacking = sum(w for w, h in zip(weights, held, strict=True) if not h)
        matched = sum(w for w, h in zip(weights, held, strict=True) if h)
        near = 0.0
        if closest is not None:
            near = sum(
                w * max(float(c), 0.0)
                for w, h, c in zip(weights, held, closest[row], strict=True)
                if not h
            )
        first = min((p for places in positions.values() for p in places), default=len(found))
        out[row] = (
            scores[row],
            scores[row] - scores[0],
            math.log1p(row),
            own[row] / best_own,
            matched / total,
            sum(w for w, h in zip(weights, around, strict=True) if h) / total,
            float(held[asked.rarest]) if held else 0.0,
            held.count(False) / max(len(held), 1),
            _proximity(positions) if positions else 0.0,
            _order(asked.ordered, positions),
            float(cue is not None and answers_cue(cue, sentence_cues(texts[row]), asked.terms)),
            math.log1p(len(found)),
            len(positions) / max(len(found), 1),
            first / max(len(found), 1),
            near / lacking if lacking > 0 else 1.0,
            (matched + near) / total,
            0.0,
            0.0,
        )
    if cosines is not None:
        have = ~np.isnan(cosines)
        if have.any():
            filled = np.where(have, cosines, float(np.nanmin(cosines)))
            out[:, FEATURES.index("cosine")] = filled
            out[:, FEATURES.index("cosine_gap")] = filled - float(filled.max())
    return out
