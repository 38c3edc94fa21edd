"""BM25+ over sentences, scored from term postings.

It ranks exactly like ``rank_bm25.BM25Plus`` on the same tokens (a test checks
this), but it touches only the sentences that contain a query term, so it stays
fast on a million sentences where rank-bm25 rescans every one.

The postings are compressed sparse rows: for term ``t`` (an id from the
vocabulary), ``docs[offsets[t]:offsets[t + 1]]`` are the ids of the sentences
that contain it, in ascending order, and ``contributions`` holds the matching
BM25 saturation ``tf * (k1 + 1) / (k1 * (1 - b + b * len / avgdl) + tf)``,
precomputed in float64. For a saved index the sentence ids and saturations are
read from their files a posting list at a time (:mod:`bot.index.saved`), so a
restart does not read them into memory and answers do not keep them there.

Scores are summed term by term in the order of the query's weights, in
float64, exactly as a dense accumulation would, so the sparse search
(:meth:`BM25Index.search`) and the dense one (:meth:`BM25Index.match_scores`)
give bit-identical scores and the same ranking.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.index.saved import Served

Floats = npt.NDArray[np.float64]
Ids = npt.NDArray[np.int32]
Offsets = npt.NDArray[np.int64]
Counts = npt.NDArray[np.integer]


@dataclass(frozen=True)
class BM25Params:
    """The BM25+ parameters; defaults chosen by measurement on SQuAD (see README)."""

    k1: float = 0.9
    b: float = 0.25
    delta: float = 1.0


@dataclass(frozen=True)
class Postings:
    """Term postings in compressed sparse rows, before BM25 weighting."""

    vocabulary: list[str]  # term id -> term; every term occurs at least once
    offsets: Offsets  # len(vocabulary) + 1 positions into docs and tf
    docs: Ids  # sentence ids, ascending within each term
    tf: Counts  # how often the term occurs in that sentence

    @classmethod
    def from_documents(cls, documents: Sequence[Sequence[str]]) -> Postings:
        """Build postings from documents given as lists of terms."""
        vocabulary: dict[str, int] = {}
        ids = [vocabulary.setdefault(t, len(vocabulary)) for d in documents for t in d]
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
        term_ids = np.asarray(ids, dtype=np.int64)
        doc_ids = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
        offsets, docs, tf = group_postings(term_ids, doc_ids, len(vocabulary))
        return cls(list(vocabulary), offsets, docs, tf)


def group_postings(
    term_ids: npt.NDArray[np.int64], doc_ids: npt.NDArray[np.int64], n_terms: int
) -> tuple[Offsets, Ids, npt.NDArray[np.int32]]:
    """Group (term, sentence) occurrences into postings: offsets, sentence ids, counts.

    Every term id below n_terms must occur at least once. Sentence ids must be
    below 2**31.
    """
    keys = (term_ids << 32) | doc_ids
    unique, tf = np.unique(keys, return_counts=True)
    per_term = np.bincount(unique >> 32, minlength=n_terms)
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(per_term, out=offsets[1:])
    docs = (unique & 0xFFFFFFFF).astype(np.int32)
    return offsets, docs, tf.astype(np.int32)


def average_length(lengths: npt.NDArray[np.integer] | Floats) -> float:
    """Return the mean document length as BM25 uses it (1.0 for an empty corpus)."""
    as_float = np.asarray(lengths, dtype=np.float64)
    return float(as_float.mean()) if as_float.size and as_float.sum() else 1.0


def saturations(
    docs: Ids, tf: Counts, lengths: npt.NDArray[np.integer] | Floats, params: BM25Params
) -> tuple[float, Floats]:
    """Return avgdl and every posting's term-frequency saturation under params."""
    result = np.empty(docs.size, dtype=np.float64)
    avgdl = saturations_in_chunks(docs, tf, lengths, params, lambda part: None, out=result)
    return avgdl, result


def saturations_in_chunks(
    docs: Ids,
    tf: Counts,
    lengths: npt.NDArray[np.integer] | Floats,
    params: BM25Params,
    take: Callable[[Floats], object],
    chunk: int = 1 << 20,
    out: Floats | None = None,
) -> float:
    """Compute the saturations chunk by chunk, handing each to take; return avgdl.

    With out, the saturations are written there; else two small buffers are
    reused, so that a large index's saturations can go to a file without ever
    being in memory whole.
    """
    as_float = np.asarray(lengths, dtype=np.float64)
    avgdl = average_length(as_float)
    k1, b = params.k1, params.b
    norm = k1 * (1 - b + b * as_float / avgdl)
    buffer = np.empty(min(chunk, docs.size), dtype=np.float64) if out is None else None
    denominator = np.empty(min(chunk, docs.size), dtype=np.float64)
    for start in range(0, docs.size, chunk):
        stop = min(start + chunk, docs.size)
        part = out[start:stop] if out is not None else buffer[: stop - start]  # type: ignore[index]
        below = denominator[: stop - start]
        # tf * (k1 + 1) / (norm[docs] + tf), in place: the same values, bit for bit.
        np.copyto(part, tf[start:stop], casting="unsafe")
        np.take(norm, docs[start:stop], out=below)
        below += part
        part *= k1 + 1
        part /= below
        take(part)
    return avgdl


class _Scratch(threading.local):
    """A zeroed score buffer per thread, reset after every search."""

    buffer: Floats | None = None


class BM25Index:
    """A BM25+ index over documents given as lists of terms."""

    def __init__(self, documents: Sequence[Sequence[str]], params: BM25Params | None = None):
        postings = Postings.from_documents(documents)
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
        self._setup(postings, lengths, params or BM25Params(), None)

    @classmethod
    def from_postings(
        cls,
        postings: Postings,
        lengths: npt.NDArray[np.integer],
        params: BM25Params | None = None,
        contributions: tuple[float, Floats] | None = None,
        term_ids: Mapping[str, int] | None = None,
        saved: tuple[Served, Served] | None = None,
    ) -> BM25Index:
        """Build an index from postings and document lengths (in terms, repeats counted).

        contributions, when given, are the (avgdl, saturations) that
        :func:`saturations` returns for these postings and params, saved earlier;
        term_ids, the map from each term of the vocabulary to its position;
        saved, the same sentence ids and saturations as read from their files,
        which questions then read instead.
        """
        index = cls.__new__(cls)
        index._setup(postings, lengths, params or BM25Params(), contributions, term_ids)
        if saved is not None:
            index._docs, index._contribution = saved
        return index

    def _setup(
        self,
        postings: Postings,
        lengths: npt.NDArray[np.integer],
        params: BM25Params,
        contributions: tuple[float, Floats] | None,
        term_ids: Mapping[str, int] | None = None,
    ) -> None:
        self.params = params
        self.size = len(lengths)
        self.postings = postings
        self.lengths = lengths
        if contributions is None:
            contributions = saturations(postings.docs, postings.tf, lengths, params)
        self.avgdl, contribution = contributions
        self._contribution: Served = contribution
        if term_ids is None:
            term_ids = {term: i for i, term in enumerate(postings.vocabulary)}
        self._terms = term_ids
        self._offsets = postings.offsets
        self._docs: Served = postings.docs
        self._scratch = _Scratch()

    def rebind(
        self,
        postings: Postings,
        lengths: npt.NDArray[np.integer],
        saved: tuple[Served, Served],
        term_ids: Mapping[str, int] | None = None,
    ) -> None:
        """Read the same postings from other memory (the saved files): saved, (docs, contrib).

        The values must be those already served: a question running meanwhile
        may read some arrays from the old memory and some from the new.
        """
        self._docs, self._contribution = saved
        self._offsets = postings.offsets
        self.postings, self.lengths = postings, lengths
        if term_ids is not None:
            self._terms = term_ids

    @property
    def contributions(self) -> Served:
        """Return every posting's saturation, aligned with ``postings.docs`` (maybe on disk)."""
        return self._contribution

    def _posting(self, term: str) -> tuple[Ids, Floats] | None:
        term_id = self._terms.get(term)
        if term_id is None:
            return None
        start, end = int(self._offsets[term_id]), int(self._offsets[term_id + 1])
        return self._docs[start:end], self._contribution[start:end]

    def __contains__(self, term: object) -> bool:
        return term in self._terms

    def idf(self, term: str) -> float:
        """Return a term's IDF, or the IDF of a term in a single document when unseen."""
        return math.log((self.size + 1) / (self.document_frequency(term) or 1))

    def document_frequency(self, term: str) -> int:
        """Count the documents that contain term."""
        term_id = self._terms.get(term)
        if term_id is None:
            return 0
        return int(self._offsets[term_id + 1] - self._offsets[term_id])

    def baseline(self, weights: Mapping[str, float]) -> float:
        """Return the score every document gets for the known query terms (BM25+'s delta)."""
        return sum(w * self.idf(t) * self.params.delta for t, w in weights.items() if t in self)

    def scores(self, weights: Mapping[str, float]) -> Floats:
        """Score every document for a weighted query (weight = how often a term counts)."""
        return self.match_scores(weights) + self.baseline(weights)

    def match_scores(self, weights: Mapping[str, float]) -> Floats:
        """Score every document, leaving out the baseline every document gets."""
        total = np.zeros(self.size, dtype=np.float64)
        for term, weight in weights.items():
            posting = self._posting(term)
            if posting is not None:
                ids, contribution = posting
                total[ids] += weight * self.idf(term) * contribution
        return total

    def contains(self, term: str) -> Ids:
        """Return the ids of the documents that contain term."""
        posting = self._posting(term)
        return posting[0] if posting is not None else np.empty(0, dtype=np.int32)

    def match_scores_sparse(self, weights: Mapping[str, float]) -> tuple[Ids, Floats]:
        """Return the documents that match at least one term, ascending, and their scores.

        The scores equal ``match_scores(weights)`` at those ids, bit for bit;
        every other document scores 0. Only the matching documents are touched.
        """
        ids, scores = self._accumulate(weights)
        if sum(1 for t in weights if t in self._terms) == 1:
            return ids, scores  # one term's postings, ascending already
        order = np.argsort(ids, kind="stable")
        return ids[order], scores[order]

    def match_scores_every(self, weights: Mapping[str, float]) -> tuple[Ids, Floats]:
        """Return the documents that hold every term, ascending, and their match scores.

        Found by looking up the shortest posting list's documents in the others,
        so three common words cost about as much as their rarest one.
        """
        postings = [(p, w * self.idf(t)) for t, w in weights.items() if (p := self._posting(t))]
        if not postings or len(postings) < len(weights):
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float64)
        ids = min((docs for (docs, _), _ in postings), key=len)
        for (docs, _), _ in postings:
            if ids.size == 0:
                break
            at = np.minimum(np.searchsorted(docs, ids), docs.size - 1)
            ids = ids[docs[at] == ids]
        scores = np.zeros(ids.size, dtype=np.float64)
        for (docs, contribution), factor in postings:
            scores += factor * contribution[np.searchsorted(docs, ids)]
        return np.array(ids, dtype=np.int32), scores

    def search(self, weights: Mapping[str, float], k: int) -> tuple[Ids, Floats]:
        """Return the k best documents with a positive match score, best first.

        Ties are broken by document id, as :func:`top_k` breaks them, and the
        scores equal ``match_scores(weights)`` bit for bit.
        """
        ids, scores = self._accumulate(weights)
        if k <= 0 or ids.size == 0:
            return ids[:0], scores[:0]
        positive = scores > 0
        if not positive.all():
            ids, scores = ids[positive], scores[positive]
        best = _top(scores, ids, k)
        return ids[best], scores[best]

    def _accumulate(self, weights: Mapping[str, float]) -> tuple[Ids, Floats]:
        """Sum the weighted contributions of the documents that hold a query term.

        Returns each touched document once, in no particular order, with its score.
        """
        postings = [(p, w * self.idf(t)) for t, w in weights.items() if (p := self._posting(t))]
        if not postings:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float64)
        if len(postings) == 1:
            (ids, contribution), factor = postings[0]
            return ids, factor * contribution
        buffer = self._scratch.buffer
        if buffer is None or buffer.size != self.size:
            buffer = self._scratch.buffer = np.zeros(self.size, dtype=np.float64)
        touched: list[Ids] = []
        try:
            for (ids, contribution), factor in postings:
                if touched:
                    # A document is new to this query when nothing was added to it
                    # yet. With zero or negative weights a touched document may still
                    # hold 0, so those queries keep an explicit set.
                    fresh = ids[buffer[ids] == 0] if factor > 0 else ids
                    touched.append(fresh)
                else:
                    touched.append(ids)
                buffer[ids] += factor * contribution
            seen = np.concatenate(touched)
            if any(factor <= 0 for _, factor in postings):
                seen = np.unique(seen)
            scores = buffer[seen]
        finally:
            for ids in touched:
                buffer[ids] = 0.0
        return seen, scores


def _top(scores: Floats, ids: npt.NDArray[np.integer], k: int) -> npt.NDArray[np.intp]:
    """Return the positions of the k highest scores, ties broken by the smaller id."""
    if k < scores.size:
        threshold = scores[np.argpartition(-scores, k - 1)[:k]].min()
        above = np.flatnonzero(scores > threshold)  # fewer than k
        tied = np.flatnonzero(scores == threshold)
        need = k - above.size
        if tied.size > need:
            # Thousands of sentences may tie at the k-th score: keep the smallest ids.
            tied = tied[np.argpartition(ids[tied], need - 1)[:need]]
        candidates = np.concatenate([above, tied])
    else:
        candidates = np.arange(scores.size)
    order = np.lexsort((ids[candidates], -scores[candidates]))
    return candidates[order][:k]


def top_k(scores: Floats, k: int) -> list[int]:
    """Return the indices of the k highest scores, ties broken by position."""
    if k <= 0 or scores.size == 0:
        return []
    # Most documents of a large corpus score 0 for a query: rank only the
    # positive ones when there are enough of them to fill the k places.
    positive = np.flatnonzero(scores > 0)
    if positive.size >= k:
        best = _top(scores[positive], positive, k)
        return [int(i) for i in positive[best]]
    zeros = np.flatnonzero(scores == 0)
    if positive.size + zeros.size == scores.size:
        # Nothing below 0: the positive ones, best first, then the first zeros.
        ranked = positive[_top(scores[positive], positive, positive.size)] if positive.size else ()
        return [int(i) for i in ranked] + [int(i) for i in zeros[: k - positive.size]]
    return [int(i) for i in _top(scores, np.arange(scores.size), k)]
