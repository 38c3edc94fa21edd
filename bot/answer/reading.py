"""Judge a ranking's passages: the evidence the answerability model reads and its probability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.answer.answerability import Evidence, Model, features
from bot.answer.passages import Group
from bot.answer.query import Query
from bot.answer.ranking import Scored
from bot.answer.sentences import CorpusSentences
from bot.index.bm25 import BM25Index
from bot.index.terms import SentenceTerms
from bot.index.tokenize import stem, words

# The answerability features look at this many of the best passages.
EVIDENCE_PASSAGES = 3


@dataclass(frozen=True)
class Reading:
    """One way of reading a question: the query, its ranked passages and how sure they answer.

    evidence.texts are the top passages before those not worth reading are dropped.
    """

    query: Query
    groups: list[Group]
    scored: Scored
    evidence: Evidence
    values: dict[str, float]  # the answerability features
    probability: float


@dataclass(frozen=True)
class Judge:
    """What judging a ranking reads: the sentences, their stored terms, the index, the model."""

    sentences: CorpusSentences
    terms: SentenceTerms
    index: BM25Index
    model: Model

    def reading(self, query: Query, scored: Scored, groups: list[Group], semantic: bool) -> Reading:
        """Estimate how likely a query's passages answer it (semantic: meaning ranked them)."""
        top = groups[:EVIDENCE_PASSAGES]
        texts = [self.sentences.joined(g.ids) for g in top]
        # A term the question does not use is "" (the features only ask where the
        # question's terms are); read from the terms stored with the index.
        wanted = question_terms(query)
        tokens = [self.terms.tokens(g.ids, wanted) for g in top]
        evidence = Evidence(
            texts,
            tokens,
            [g.score for g in top],
            scored.top_raw,
            *_similarities(scored, groups, semantic),
        )
        if not groups:
            return Reading(query, groups, scored, evidence, {}, 0.0)
        values = features(query, evidence, self.index)
        return Reading(query, groups, scored, evidence, values, self.model.probability(values))


def _similarities(
    scored: Scored, groups: Sequence[Group], semantic: bool
) -> tuple[float | None, Sequence[int], float | None]:
    """Return the question's cosine with the best passage, its ids, the cosine with the next."""
    cosines = [max(scored.similarity.get(i, 0.0) for i in g.ids) for g in groups[:2]] or [0.0]
    best = cosines[0] if semantic else None
    rival = cosines[1] if semantic and len(cosines) > 1 else None
    return best, groups[0].ids if groups else (), rival


def question_terms(query: Query) -> frozenset[str]:
    """Return every term the answerability features may look for in a passage.

    The query's terms (aliases included) and the stem of every word of the question
    text, stop words too (the names the question mentions are read from its text).
    """
    spoken = frozenset(stem(t.word) for t in words(query.text))
    return query.terms | spoken
