"""Score sentences for a query: BM25+ with the neighbours in view, meaning, answer type.

One scoring path: only the sentences a query term touches (and their +-1
neighbours) score above 0 by word matching, so those are scored, not every
sentence; with a semantic model the sentences closest in meaning join them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.answer.cues import Cue, answers_cue, question_cue, sentence_cues
from bot.answer.query import Query
from bot.answer.rerank import Reranker, own_match
from bot.index.bm25 import BM25Index, BM25Params, Floats, Ids, top_k
from bot.ingest.models import Sentence


class Mask(Protocol):
    """Per sentence whether it may be cited, read at some sentence ids (a bool array is one)."""

    def __getitem__(self, ids: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.bool_]: ...


# The cues that lift a sentence's rank (where and why cues only inform answerability).
RANKING_CUES = frozenset({Cue.DATE, Cue.NUMBER, Cue.NAME})


@dataclass(frozen=True)
class RankingConfig:
    """How sentences are scored and grouped into passages."""

    bm25: BM25Params = field(default_factory=BM25Params)
    # Passages whose score is below this share of the best one are dropped.
    relative_cut: float = 0.25
    # Weight of the neighbouring sentences' match (the +-1 sentence window) in a sentence's score.
    window_weight: float = 0.3
    # Bonus (in shares of the best score) for a sentence holding what the question type asks
    # for: a date for "when", a number for "how many", a name for "who".
    cue_bonus: float = 0.3
    # Share of the fused score that comes from word matching when semantic ranking is on.
    lexical_weight: float = 0.5
    # How many top sentences the question-type cue may lift.
    candidates: int = 30
    # At most this many sentences, the best by their own word match, are scored with
    # their neighbours (a common word touches a large share of a big corpus).
    max_matched: int = 4096
    # A neighbouring sentence joins a passage when it scores at least this share of the
    # passage's best sentence.
    merge_ratio: float = 0.45
    # The same with semantic ranking on, where fused scores lie closer together.
    semantic_merge_ratio: float = 0.6


# With semantic ranking on, word match's best this many sentences are the lexical
# candidates whose meaning is compared (the question's nearest neighbours join them).
LEXICAL_CANDIDATES = 300
# ... and this many of the question's nearest neighbours by meaning (an ANN search).
MEANING_CANDIDATES = 50


class Meaning(Protocol):
    """One question's closeness in meaning to the sentences (bot.embedding.index)."""

    def nearest(self, k: int) -> tuple[npt.NDArray[np.int64], Floats]:
        """Return up to k sentences nearest the question (an ANN search) and their cosine."""
        ...

    def similarity(self, ids: npt.NDArray[np.int64]) -> Floats:
        """Return the cosine of the question with these sentences; NaN without an embedding."""
        ...

    def read_ahead(self, ids: npt.NDArray[np.int64]) -> None:
        """Read what similarity() will need for these sentences, before the question is embedded."""
        ...

    def floor(self) -> float:
        """Return the lowest cosine among a fixed spread of sentences (all, in a small corpus)."""
        ...


@dataclass(frozen=True)
class Scored:
    """The best sentences for a query, with the numbers answerability looks at."""

    hits: list[int]  # sentence ids, best first
    scores: dict[int, float]  # their scores (the best about 1, more with bonuses)
    top_raw: float  # the best word-match score before scaling
    similarity: dict[int, float] = field(default_factory=dict)  # cosine, with a model
    # The highest cosine among the candidates (the question's nearest neighbours
    # included), with a model: how close the corpus comes to the question at all.
    nearest: float | None = None
    # The reranker's probability that each sentence it reordered holds the answer.
    reranked: dict[int, float] = field(default_factory=dict)

    @property
    def rerank_top(self) -> float | None:
        """Return the reranker's probability for the best sentence (None: not reranked)."""
        return self.reranked.get(self.hits[0]) if self.hits else None


class _Scratch(threading.local):
    """Per thread, reused zeroed arrays with a score slot per sentence and one each side."""

    arrays: dict[int, Floats] | None = None

    def zeros(self, size: int, which: int = 0) -> Floats:
        """Return array which for size sentences: entry i + 1 is sentence i's; keep it zeroed."""
        if self.arrays is None:
            self.arrays = {}
        padded = self.arrays.get(which)
        if padded is None or padded.size != size + 2:
            padded = self.arrays[which] = np.zeros(size + 2, dtype=np.float64)
        return padded


_SCRATCH = _Scratch()


def spread(
    parts: Sequence[tuple[Ids, Floats]], onto: Ids, size: int, shifts: Sequence[int] = (0,)
) -> list[Floats]:
    """Read each part's values at the ids onto (shifted by each shift), 0 where it has none.

    size is the number of sentences; ids shifted below 0 or past the last read 0.
    Returns a list with, for each part in turn, an array per shift.
    """
    padded = _SCRATCH.zeros(size)
    out: list[Floats] = []
    for ids, values in parts:
        slots = ids + 1
        try:
            padded[slots] = values
            out.extend(padded[onto + (1 + shift)] for shift in shifts)
        finally:
            padded[slots] = 0.0
    return out


def ascending_union(parts: list[Ids]) -> Ids:
    """Return the distinct ids of some ascending id arrays, ascending.

    A stable sort merges the ascending runs in linear time, where np.unique
    would sort (or hash) from scratch.
    """
    merged = np.sort(np.concatenate(parts), kind="stable")
    if merged.size < 2:
        return merged
    distinct = np.empty(merged.size, dtype=np.bool_)
    distinct[0] = True
    np.not_equal(merged[1:], merged[:-1], out=distinct[1:])
    return merged[distinct]


def match(index: BM25Index, query: Query) -> tuple[Ids, Floats]:
    """Score the sentences a query term touches: BM25+ for plain terms, the best name for aliases.

    Returns ascending sentence ids and their scores; every other sentence scores 0.
    """
    ids, total = index.match_scores_sparse(query.plain_weights())
    aliased: list[tuple[float, list[tuple[float, Ids, Floats]]]] = []
    for concept in query.concepts:
        if len(concept.names) == 1:
            continue
        names: list[tuple[float, Ids, Floats]] = []
        for number, (name_terms, scale) in enumerate(concept.names):
            weights = {t: float(name_terms.count(t)) for t in name_terms}
            # The words typed count one by one; another name counts only where a sentence
            # holds all of it ("National Bureau of Investigation" for "NBI", not "national").
            found = index.match_scores_every if number else index.match_scores_sparse
            names.append((scale, *found(weights)))
        aliased.append((concept.weight, names))
    if not aliased:
        return ids, total
    best = _SCRATCH.zeros(index.size, 1)
    for weight, names in aliased:
        touched = ascending_union([name_ids for _, name_ids, _ in names])
        slots = touched + 1
        try:
            # Maxed in a zeroed per-sentence array, so each name costs its own postings.
            for scale, name_ids, scores in names:
                at = name_ids + 1
                best[at] = np.maximum(best[at], scale * scores)
            extra = weight * best[slots]
        finally:
            best[slots] = 0.0
        ids, total = _add_sparse(ids, total, touched, extra)
    return ids, total


def _add_sparse(ids: Ids, values: Floats, more: Ids, extra: Floats) -> tuple[Ids, Floats]:
    """Add extra at the ascending ids more to values at the ascending ids.

    Two ascending runs merge in linear time with a stable sort; a sentence in
    both gets its value plus its extra, in that order.
    """
    if ids.size == 0:
        return more, extra
    merged = np.concatenate([ids, more])
    order = np.argsort(merged, kind="stable")
    merged, summed = merged[order], np.concatenate([values, extra])[order]
    again = merged[1:] == merged[:-1]
    if not again.any():
        return merged, summed
    summed[:-1][again] += summed[1:][again]
    keep = np.ones(merged.size, dtype=np.bool_)
    keep[1:][again] = False
    return merged[keep], summed[keep]


class Ranker:
    """Scores the sentences of one index for queries; safe to share between threads."""

    def __init__(
        self,
        index: BM25Index,
        sentences: Sequence[Sentence],
        linked: Floats,
        config: RankingConfig,
        reranker: Reranker | None = None,
    ) -> None:
        self.index = index
        self.sentences = sentences
        # linked[i] is 1.0 when sentences i and i + 1 share a body paragraph.
        self.linked = linked
        self.config = config
        self.reranker = reranker

    def lexical(self, query: Query, allowed: Mask | None = None) -> tuple[Ids, Floats, float]:
        """Score by word match with the neighbours in view, scaled so the best scores 1.

        The score is BM25+ of the sentence plus a weighted share of its neighbours'
        (the +-1 window of the same paragraph). allowed, when given, is per sentence
        whether it may be cited. Returns ascending ids, scores, and the best unscaled score.
        """
        ids, scores, top, _ = self._lexical(query, allowed)
        return ids, scores, top

    def _lexical(self, query: Query, allowed: Mask | None) -> tuple[Ids, Floats, float, Floats]:
        """Score like :meth:`lexical`; also return each sentence's own match, scaled alike."""
        matched, scores = match(self.index, query)
        if allowed is not None and matched.size:
            keep = allowed[matched]
            matched, scores = matched[keep], scores[keep]
        if matched.size > self.config.max_matched:
            # A common word touches a large share of a big corpus: the best sentences
            # with their window are among the best by their own match, so only those
            # are weighed with their neighbours.
            best = np.argpartition(-scores, self.config.max_matched - 1)
            keep = np.sort(best[: self.config.max_matched])
            matched, scores = matched[keep], scores[keep]
        n = self.index.size
        if matched.size == 0:
            return matched, scores, 0.0, scores
        ids = ascending_union([matched - 1, matched, matched + 1])
        ids = ids[(ids >= 0) & (ids < n)]
        own, previous, following = spread([(matched, scores)], ids, n, shifts=(0, -1, 1))
        linked = self.linked
        total = np.zeros(ids.size, dtype=np.float64)
        first = 1 if ids[0] == 0 else 0
        total[first:] += previous[first:] * linked[ids[first:] - 1]
        last = ids.size - 1 if ids[-1] == n - 1 else ids.size
        total[:last] += following[:last] * linked[ids[:last]]
        lexical = own + self.config.window_weight * total
        top = max(float(lexical.max()), 0.0)
        if top > 0:
            return ids, lexical / top, top, own / top
        return ids, lexical, top, own

    def score(
        self,
        query: Query,
        depth: int,
        near: Sequence[int] = (),
        allowed: Mask | None = None,
        meaning: Meaning | None = None,
        follow_up_bonus: float = 0.0,
    ) -> Scored:
        """Return the depth best sentences for a query, with their scores.

        meaning, with a semantic model, is the question's cosine similarity with the
        sentences: min-max scaled, it is fused with the word match on the candidates
        (word match's best and the sentences closest in meaning), never on every
        sentence. near are the sentences a previous answer showed: they and their
        neighbours get the follow-up bonus.
        """
        config = self.config
        ids, values, top_raw, own = self._lexical(query, allowed)
        lexical_ids = ids
        wide = max(depth, config.candidates)
        similarity: dict[int, float] = {}
        cosines: Floats | None = None
        if meaning is not None:
            ids, values, cosines = self._fuse(ids, values, meaning, allowed, wide, near)
        best = [p for p in top_k(values, wide) if values[p] > 0]
        self._cue_bonus(query, ids, values, best)
        raised = self._near_bonus(ids, values, near, follow_up_bonus)
        pool = np.array(sorted({*best, *raised}), dtype=np.intp)
        if pool.size:
            pool = pool[values[pool] > 0]
        reranked: dict[int, float] = {}
        # The reranker learned from questions read alone; a reading that lifts what the
        # previous answer showed keeps that lift's order (follow-ups: 0.884 -> 0.861 else).
        if self.reranker is not None and not near:
            reranked = self.reranker.rerank(
                query,
                self.index,
                self.linked,
                ids,
                values,
                pool,
                own_match(lexical_ids, own),
                cosines,
            )
        chosen = [int(pool[p]) for p in top_k(values[pool], depth)]
        hits = [int(ids[p]) for p in chosen]
        nearest = None
        if cosines is not None:
            # NaN (no embedding yet) is no similarity.
            similarity = {
                int(ids[p]): float(cosines[p]) for p in chosen if not np.isnan(cosines[p])
            }
            known = cosines[~np.isnan(cosines)]
            nearest = float(known.max()) if known.size else None
        scores = {int(ids[p]): float(values[p]) for p in chosen}
        kept = {i: reranked[i] for i in hits if i in reranked}
        return Scored(hits, scores, top_raw, similarity, nearest=nearest, reranked=kept)

    def _fuse(
        self,
        ids: Ids,
        lexical: Floats,
        meaning: Meaning,
        allowed: Mask | None,
        wide: int,
        near: Sequence[int],
    ) -> tuple[Ids, Floats, Floats]:
        """Fuse word match and meaning on the candidates; return them, their scores and cosines.

        A candidate without an embedding yet keeps its word match as its meaning score.
        """
        n = self.index.size
        best = [p for p in top_k(lexical, LEXICAL_CANDIDATES) if lexical[p] > 0]
        lifted = np.array(
            sorted({j for i in near for j in (i - 1, i, i + 1) if 0 <= j < n}), dtype=ids.dtype
        )
        words = np.sort(ids[best])
        # Read while the question is still being embedded on its own thread.
        meaning.read_ahead(np.concatenate([words, lifted]).astype(np.int64))
        nearest, _ = meaning.nearest(max(wide, MEANING_CANDIDATES))
        if allowed is not None and nearest.size:
            nearest = nearest[allowed[nearest]]
        pool = ascending_union([words, np.sort(nearest).astype(ids.dtype), lifted])
        (word,) = spread([(ids, lexical)], pool, n)
        cosines = meaning.similarity(pool.astype(np.int64))
        have = ~np.isnan(cosines)
        if not have.any():
            return pool, word, cosines
        low = min(meaning.floor(), float(cosines[have].min()))
        high = float(cosines[have].max())
        scaled = word.copy()
        if high > low:
            scaled[have] = (cosines[have] - low) / (high - low)
        weight = self.config.lexical_weight
        fused = weight * word + (1 - weight) * scaled
        if allowed is not None:
            fused = np.where(allowed[pool], fused, 0.0)
        return pool, fused, cosines

    def _cue_bonus(self, query: Query, ids: Ids, values: Floats, best: list[int]) -> None:
        """Lift the top sentences that hold what the question type asks for, in place."""
        cue = question_cue(query.text)
        if cue not in RANKING_CUES or self.config.cue_bonus <= 0:
            return
        question_terms = query.terms
        for p in best[: self.config.candidates]:
            i = int(ids[p])
            if values[p] > 0 and answers_cue(
                cue, sentence_cues(self.sentences[i].text), question_terms
            ):
                values[p] += self.config.cue_bonus

    def _near_bonus(self, ids: Ids, values: Floats, near: Sequence[int], bonus: float) -> list[int]:
        """Lift the sentences a previous answer showed and their neighbours; return positions."""
        lifted = {j for i in near for j in (i - 1, i, i + 1) if 0 <= j < self.index.size}
        raised: list[int] = []
        for j in lifted:
            p = int(np.searchsorted(ids, j))
            if p < ids.size and ids[p] == j and values[p] > 0:
                values[p] += bonus
                raised.append(p)
        return raised
