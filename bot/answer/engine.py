"""The answer engine: rank passages for a question, say how sure it is, and read follow-ups."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from bot.answer.answerability import Evidence, Model, features, model_for
from bot.answer.catalogue import ArticleSet, Catalogue, SentenceMask
from bot.answer.cues import question_cue
from bot.answer.decline import coverage, covered_concepts, known
from bot.answer.explanations import Arrange, arrange, asks
from bot.answer.followup import (
    FollowUp,
    as_follow_up,
    continues,
    describes_back,
    is_follow_up,
    new_unknowns,
    own_topic,
    restates,
)
from bot.answer.models import Answer, Passage, Status
from bot.answer.passages import Group, build_passage, drop_repeated_headlines, merge_adjacent
from bot.answer.query import Query, build_query, with_context
from bot.answer.ranking import Mask, Ranker, RankingConfig, Scored
from bot.answer.rerank import Reranker, RerankModels, default_models
from bot.answer.usage import tidy, usage_message, usage_reason
from bot.embedding.background import ArticleSpan
from bot.embedding.index import SemanticIndex
from bot.embedding.loader import SemanticModel
from bot.errors import AliasFileError
from bot.index.aliases import Aliases, build_aliases
from bot.index.bm25 import BM25Index
from bot.index.sentences import SentenceView
from bot.index.storage import IndexStore, Snapshot
from bot.index.storage.arrays import ArrayStores, ArticleSlot
from bot.index.storage.parsing import rows_key
from bot.index.terms import SentenceTerms, stored_rows, terms_kind
from bot.index.tokenize import stem, terms, words
from bot.ingest.loader import Corpus
from bot.ingest.models import Article, Sentence
from bot.progress import QUIET, Progress

__all__ = ["DEFAULT_K", "Engine", "FollowUpConfig", "PassageConfig", "RankingConfig"]

DEFAULT_K = 3


@dataclass(frozen=True)
class PassageConfig:
    """Which ranked passages are worth showing."""

    # A passage after the first is shown when it covers at least this share of what the
    # best passage covers of the question (IDF-weighted)...
    relative_coverage: float = 0.5
    # ...and scores at least this share of the best passage.
    relative_score: float = 0.0


@dataclass(frozen=True)
class FollowUpConfig:
    """How a question that refers back is read with the previous one."""

    # The weight of the previous question's words...
    weight: float = 0.5
    # ...and the lift of the sentences the previous answer showed, and their neighbours.
    bonus: float = 0.1


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


class Engine:
    """Answers questions from one loaded corpus; safe to share between threads."""

    # The alias file's error when it was ignored (set by from_snapshot): a reload retries it.
    alias_error: AliasFileError | None = None

    def __init__(
        self,
        corpus: Corpus,
        aliases: Aliases,
        config: RankingConfig | None = None,
        semantic: SemanticModel | None = None,
        *,
        index: BM25Index | None = None,
        arrays: ArrayStores | None = None,
        passages: PassageConfig | None = None,
        follow_ups: FollowUpConfig | None = None,
        answerability: Model | None = None,
        slots: Callable[[], Sequence[ArticleSlot]] | None = None,
    ):
        """Answer from corpus; index, arrays and slots come from a saved index when there is one.

        slots say where each article's rows go in the array store (keyed by the
        digest of its sentences); without them they are worked out here.
        """
        self.corpus = corpus
        self.aliases = aliases
        self.config = config or RankingConfig()
        self.passage_config = passages or PassageConfig()
        self.follow_up_config = follow_ups or FollowUpConfig()
        # A list, or for a saved index a table that makes each Sentence on access.
        self.sentences: Sequence[Sentence] = corpus.sentences
        self._articles = corpus.by_key()
        # Filters (--source, --since...) read it; built when the first filter asks.
        self.catalogue = Catalogue(corpus.articles)
        if index is None:
            index = BM25Index([terms(s.text) for s in self.sentences], self.config.bm25)
        self.index = index
        # Every sentence's terms, stored with the index: computed once, read by answers.
        self.terms = self._sentence_terms(arrays or ArrayStores(None), slots)
        # Filled in the background; until a sentence has its embedding, word match ranks it.
        self.semantic: SemanticIndex | None = None
        if semantic is not None:
            # A saved index knows each article's digest: a restart need not read every
            # sentence again to find its saved embeddings.
            keys = [slot.key for slot in slots()] if slots else [""] * len(corpus.articles)
            spans, start = [], 0
            for article, key in zip(corpus.articles, keys, strict=True):
                spans.append(ArticleSpan(start, len(article.sentences), key))
                start += spans[-1].count
            self.semantic = semantic.index(spans, self._texts, arrays)
        self._answerability = answerability
        self.ranker = Ranker(
            self.index, self.sentences, self._linked, self.config, self.reranker(default_models())
        )

    def reranker(self, models: RerankModels | None, **hooks: Any) -> Reranker:
        """Return the ranking's reranking step over this engine's sentences (hooks: Reranker's)."""
        return Reranker(models, self.terms.hashes, lambda i: self._texts(i, i + 1)[0], **hooks)

    def _sentence_terms(
        self, arrays: ArrayStores, slots: Callable[[], Sequence[ArticleSlot]] | None
    ) -> SentenceTerms:
        """Open the stored terms of the sentences and fill in the missing ones, on a thread."""
        sentences = self.sentences
        text: Callable[[int], str] = (
            sentences.text if isinstance(sentences, SentenceView) else lambda i: sentences[i].text
        )
        found = SentenceTerms(
            self.index.lengths, text, stored_rows(arrays.get(terms_kind()), slots or self._slots)
        )
        found.open(background=True)
        return found

    def _slots(self) -> list[ArticleSlot]:
        """Place each article's rows in the array store, keyed by the digest of its sentences."""
        slots, first = [], 0
        for position, article in enumerate(self.articles):
            count = len(article.sentences)
            slots.append(
                ArticleSlot(position, rows_key(self._texts(first, first + count)), first, count)
            )
            first += count
        return slots

    @classmethod
    def from_folder(
        cls,
        folder: Path | str,
        config: RankingConfig | None = None,
        semantic: SemanticModel | None = None,
        *,
        index_dir: Path | None = None,
        progress: Progress = QUIET,
    ) -> Engine:
        """Load the corpus folder and its alias file and index them.

        With index_dir the index is saved there and reused on the next start,
        re-reading only changed files (see bot.index.storage); without, it is
        built in memory.
        """
        config = config or RankingConfig()
        store = IndexStore(
            folder, index_dir, persist=index_dir is not None, params=config.bm25, progress=progress
        )
        return cls.from_snapshot(store.load(), config, semantic)

    @classmethod
    def from_snapshot(
        cls,
        snapshot: Snapshot,
        config: RankingConfig | None = None,
        semantic: SemanticModel | None = None,
        aliases: Aliases | None = None,
    ) -> Engine:
        """Build the engine over a loaded index and the corpus folder's alias file.

        aliases, when given, are those of an earlier engine over the same alias
        file and acronym definitions (a reload reuses them).
        """
        corpus = snapshot.corpus
        alias_error: AliasFileError | None = None
        if aliases is None:
            texts = snapshot.acronym_texts
            try:
                aliases = build_aliases(snapshot.root, texts)
            except AliasFileError as exc:
                # A typo in the alias file must not take the whole corpus down.
                corpus.problems.append(f"ignored the alias file: {exc}")
                aliases = build_aliases(None, texts)
                alias_error = exc
        # A saved index keeps the corpus embeddings in its array store, reused article by article.
        engine = cls(
            corpus,
            aliases,
            config,
            semantic,
            index=snapshot.index,
            arrays=snapshot.array_stores,
            slots=snapshot.article_slots,
        )
        engine.alias_error = alias_error
        return engine

    @property
    def articles(self) -> Sequence[Article]:
        """List the indexed articles."""
        return self.corpus.articles

    @property
    def mode(self) -> str:
        """Return "semantic" when a model ranks by meaning too (some sentence has its
        embedding and the model loads), else "lexical"."""
        semantic = self.semantic
        on = semantic is not None and semantic.any_embedded and semantic.model.failure is None
        return "semantic" if on else "lexical"

    @property
    def answerability(self) -> Model:
        """Return the answerability model of the ranking in use now."""
        return self._answerability or model_for(self.mode == "semantic")

    def _texts(self, start: int, end: int) -> list[str]:
        """Return the texts of sentences start..end-1."""
        sentences = self.sentences
        if isinstance(sentences, SentenceView):
            return [sentences.text(i) for i in range(start, end)]
        return [sentences[i].text for i in range(start, end)]

    def answer(
        self,
        question: str,
        k: int = DEFAULT_K,
        offset: int = 0,
        previous: FollowUp | str | None = None,
        *,
        only: AbstractSet[str] | None = None,
    ) -> Answer:
        """Answer a question with up to k cited passages, starting at offset.

        previous is the conversation so far: the previous question, or a FollowUp
        built from the previous answer (FollowUp.from_answer). A question that refers
        back to it ("and when was that?", "what about China?", "why?") is read with
        it when that answers with more confidence than the question alone. only, when
        given, is the set of article keys the answer may cite.
        """
        return self.assess(question, k, offset, previous, only=only)[0]

    def assess(
        self,
        question: str,
        k: int = DEFAULT_K,
        offset: int = 0,
        previous: FollowUp | str | None = None,
        *,
        only: AbstractSet[str] | None = None,
    ) -> tuple[Answer, Reading | None]:
        """Answer like :meth:`answer`, and return the reading it chose (None: not searched).

        The fitting script (scripts/fit_answerability.py) learns from the readings'
        features and top passages.
        """
        text = tidy(question)
        reason = usage_reason(text)
        if reason is not None:
            return Answer(question=text, status=Status.USAGE, message=usage_message(reason)), None
        own = build_query(text, self.aliases, self.index)
        allowed = self._allowed(only)
        depth = offset + k + 1
        reading = None if own.empty else self._read(own, depth, (), allowed)
        read_with: str | None = None
        context = as_follow_up(previous)
        if context is not None and (is_follow_up(text) or describes_back(own, self.index)):
            together = self._read_with(own, context, depth, allowed)
            # A bare reference ("why?", "based on what?", "in what year?") or a
            # continuation ("same for China?") means the previous topic even when a word
            # of it matches elsewhere; another question with words of its own ("who was
            # his father?") is read together only when that is more confident.
            if together is not None and (
                reading is None
                or not own_topic(own)
                or asks(text) is not None
                or continues(text)
                or together.probability > self._standing(reading)
            ):
                reading, read_with = together, context.question
        if reading is None:
            usage = Answer(question=text, status=Status.USAGE, message=usage_message("no words"))
            return usage, None
        answer = self._respond(text, reading, k, offset, read_with)
        return answer, reading

    def _standing(self, alone: Reading) -> float:
        """Return a reading alone's probability, 0 when it is declined as about something else."""
        nearest = alone.scored.nearest
        return 0.0 if nearest is not None and nearest < self._on_topic() else alone.probability

    def _on_topic(self) -> float:
        return self.answerability.thresholds.on_topic

    def _read_with(
        self, own: Query, context: FollowUp, depth: int, allowed: Mask | None
    ) -> Reading | None:
        """Read a question with the previous one, unless that cannot help.

        The previous question's words cannot supply what the corpus never mentions:
        a question naming such a thing ("what about Japan?") is read alone, and so is
        one that asks the previous question again about something else.
        """
        earlier = build_query(tidy(context.text), self.aliases, self.index)
        kind = asks(own.text)
        # "how come?" holds a word the corpus never uses, and asks only why.
        unknowns = kind is None and new_unknowns(own, self.index)
        if earlier.empty or unknowns or restates(own.text, context.question):
            return None
        # The earlier question's words no sentence holds were excused when it was
        # answered; they match nothing and must not count against the follow-up.
        topic = replace(earlier, concepts=[c for c in earlier.concepts if known(c, self.index)])
        query = with_context(own, topic, self.follow_up_config.weight)
        near = self._positions(context.citations)
        if kind is None:
            return self._read(query, depth, near, allowed)
        order = arrange(
            kind,
            lambda found: coverage(topic, found, self.index),
            near,
            self.sentences,
            self.config.cue_bonus,
        )
        return self._read(query, depth, near, allowed, order)

    def _read(
        self,
        query: Query,
        depth: int,
        near: Sequence[int],
        allowed: Mask | None,
        order: Arrange | None = None,
    ) -> Reading:
        """Rank passages for a query and estimate how likely they answer it.

        order, for a bare "why?" or "how?", puts the passages that explain first.
        """
        meaning = None
        if self.semantic is not None and self.mode == "semantic":
            meaning = self.semantic.for_question(query.meaning_text)
        scored = self.ranker.score(
            query,
            max(3 * depth, 20),
            near,
            allowed,
            meaning,
            self.follow_up_config.bonus,
        )
        groups = self._groups(scored)
        if order is not None:
            groups = order(groups)
        texts = [self._text(g) for g in groups[:3]]
        tokens = [self._tokens(g, query) for g in groups[:3]]
        # The question's cosine with the best passage and with the next one.
        cosines = [max(scored.similarity.get(i, 0.0) for i in g.ids) for g in groups[:2]] or [0.0]
        evidence = Evidence(
            texts,
            tokens,
            [g.score for g in groups[:3]],
            scored.top_raw,
            cosines[0] if meaning is not None else None,
            groups[0].ids if groups else (),
            cosines[1] if meaning is not None and len(cosines) > 1 else None,
        )
        values = features(query, evidence, self.index) if groups else {}
        probability = self.answerability.probability(values) if groups else 0.0
        return Reading(query, groups, scored, evidence, values, probability)

    def _groups(self, scored: Scored) -> list[Group]:
        """Merge the scored sentences into passages, drop the weak and the repeated."""
        if not scored.hits:
            return []
        semantic = bool(scored.similarity)
        ratio = self.config.semantic_merge_ratio if semantic else self.config.merge_ratio
        groups = merge_adjacent(scored.hits, scored.scores, self._linked, ratio)
        best = groups[0].score
        groups = [g for g in groups if g.score >= self.config.relative_cut * best]
        return drop_repeated_headlines(groups, self.sentences)

    def _respond(
        self, text: str, reading: Reading, k: int, offset: int, read_with: str | None
    ) -> Answer:
        """Turn a reading into the answer: passages worth reading, or a plain decline."""
        probability = round(reading.probability, 4)
        # Read with the previous question, the question refers back: it is on topic.
        nearest = reading.scored.nearest if read_with is None else None
        label = self.answerability.label(reading.probability, nearest) if reading.groups else None
        notes = (f"read with your previous question: \u201c{read_with}\u201d",) if read_with else ()
        if label is None:
            return Answer(
                question=text,
                status=Status.NOT_FOUND,
                message=self.not_found_message(),
                notes=notes,
                confidence=probability,
                ranking=self._ranking(reading, reading.groups[:1]),
                read_with=read_with,
            )
        worth = self._worth_reading(reading, offset + k + 1)
        cue = question_cue(text) or question_cue(reading.query.text)
        query_terms = reading.query.terms
        shown = worth[offset : offset + k]
        page = tuple(self._passage(g, query_terms, cue, text) for g in shown)
        ranking = self._ranking(reading, shown)
        index = self.semantic
        if ranking == "lexical" and index is not None and index.model.failure is None:
            notes = (*notes, *_embedding_note(index))
        return Answer(
            question=text,
            status=Status.ANSWERED,
            passages=page,
            has_more=len(worth) > offset + k,
            offset=offset,
            notes=notes,
            confidence=probability,
            confidence_label=label,
            ranking=ranking,
            read_with=read_with,
        )

    @staticmethod
    def _ranking(reading: Reading, shown: Sequence[Group]) -> str:
        """Say "semantic" when meaning ranked every sentence shown, else "lexical"."""
        cosines = reading.scored.similarity
        ids = [i for group in shown for i in group.ids]
        return "semantic" if ids and all(i in cosines for i in ids) else "lexical"

    def _worth_reading(self, reading: Reading, wanted: int) -> list[Group]:
        """Keep the best passage and those relevant on their own: no padding to k.

        A further passage must cover a good share of what the best one covers of the
        question, and more than one of its concepts when the best covers several:
        sharing one word with the question is not relevant. Stops at wanted passages.
        """
        groups = reading.groups
        config = self.passage_config
        query = reading.query
        held = self._held_terms(query, groups)
        best = groups[0]
        best_coverage = coverage(query, held[0], self.index)
        needed = min(2, covered_concepts(query, held[0]))
        kept = [best]
        for group, terms_held in zip(groups[1:], held[1:], strict=True):
            if len(kept) >= wanted:
                break
            if group.score < config.relative_score * best.score:
                continue
            if (
                coverage(query, terms_held, self.index) >= config.relative_coverage * best_coverage
                and covered_concepts(query, terms_held) >= needed
            ):
                kept.append(group)
        return kept

    def _held_terms(self, query: Query, groups: Sequence[Group]) -> list[set[str]]:
        """Return, per group, the query terms its sentences hold, read from the postings."""
        ids = np.array([i for g in groups for i in g.ids], dtype=np.int64)
        owner = np.repeat(np.arange(len(groups)), [len(g.ids) for g in groups])
        held: list[set[str]] = [set() for _ in groups]
        for term in query.terms:
            posting = self.index.contains(term)
            if posting.size == 0:
                continue
            at = np.minimum(np.searchsorted(posting, ids), posting.size - 1)
            # A set, not np.unique: that imports numpy.ma (0.05-0.1 s) at the first answer.
            for g in set(owner[posting[at] == ids].tolist()):
                held[g].add(term)
        return held

    def _text(self, group: Group) -> str:
        return " ".join(self.sentences[i].text for i in group.ids)

    def _tokens(self, group: Group, query: Query) -> list[str]:
        """Return the index terms of a group's sentences in order, those the question uses.

        Read from the terms stored with the index; a term the question does not use
        is "" (the features only ask where the question's terms are).
        """
        return self.terms.tokens(group.ids, question_terms(query))

    def _passage(
        self, group: Group, query_terms: frozenset[str], cue: object, question: str
    ) -> Passage:
        article = self._articles[self.sentences[group.ids[0]].article_key]
        return build_passage(group, self.sentences, article, query_terms, cue, question)  # type: ignore[arg-type]

    def _allowed(self, only: AbstractSet[str] | None) -> Mask | None:
        """Return per sentence whether its article is among only (None: every article).

        An ArticleSet of this engine's catalogue (what filters give) is read as it
        is; other keys are looked up once. Either way nothing is done per sentence.
        """
        if only is None:
            return None
        chosen = only if isinstance(only, ArticleSet) else None
        if chosen is None or chosen.catalogue is not self.catalogue:
            chosen = self.catalogue.wait().of_keys(only)
        return SentenceMask(chosen.flags, self._sentence_articles)

    @cached_property
    def _sentence_articles(self) -> np.ndarray:
        """Return per sentence the position of its article (articles are contiguous)."""
        sentences = self.sentences
        if isinstance(sentences, SentenceView) and len(sentences) == len(sentences.table):
            # A saved index's table keeps this column already.
            return sentences.table.article_ids
        counts = [len(article.sentences) for article in self.articles]
        return np.repeat(np.arange(len(counts), dtype=np.int32), counts)

    def _positions(self, citations: Sequence[str]) -> list[int]:
        """Return the positions of the sentences with these citations."""
        return [self._by_citation[c] for c in citations if c in self._by_citation]

    @cached_property
    def _by_citation(self) -> dict[str, int]:
        return {s.citation: i for i, s in enumerate(self.sentences)}

    def not_found_message(self) -> str:
        """Say plainly that the corpus does not answer, and what it does cover."""
        if len(self.articles) == 1:
            return f"The article doesn't say. It covers: \u201c{self.articles[0].title}\u201d."
        titles = "; ".join(f"\u201c{a.title}\u201d" for a in self.articles[:5])
        more = f" and {len(self.articles) - 5} more" if len(self.articles) > 5 else ""
        return f"The articles don't say. They cover: {titles}{more}."

    @cached_property
    def _linked(self) -> np.ndarray:
        """For each pair of consecutive sentences, 1.0 when they share a body paragraph."""
        if isinstance(self.sentences, SentenceView):
            # A saved index's table tells which neighbours share a paragraph without
            # making a Sentence of each of a million sentences.
            return self.sentences.same_paragraph().astype(np.float64)
        pairs = zip(self.sentences, self.sentences[1:], strict=False)
        return np.array(
            [
                float(a.article_key == b.article_key and a.paragraph == b.paragraph > 0)
                for a, b in pairs
            ],
            dtype=np.float64,
        )


def question_terms(query: Query) -> frozenset[str]:
    """Return every term the answerability features may look for in a passage.

    The query's terms (aliases included) and the stem of every word of the question
    text, stop words too (the names the question mentions are read from its text).
    """
    spoken = frozenset(stem(t.word) for t in words(query.text))
    return query.terms | spoken


def _embedding_note(index: SemanticIndex) -> tuple[str, ...]:
    """Say that word match ranked an answer while sentence embeddings are being computed."""
    if index.complete:
        return ()
    done = index.embedded_count / max(index.size, 1)
    return (f"ranked by word match: sentence embeddings are still being computed ({done:.0%})",)
