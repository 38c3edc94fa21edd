"""The answer engine: orchestrate ranking, judging and follow-ups over one loaded corpus.

Each step lives next to the code it belongs with: the corpus's sentences
(bot.answer.sentences), what a loaded index hands over (bot.answer.inputs), ranking
(bot.answer.ranking), passages (bot.answer.passages), the answerability judgement
(bot.answer.reading), follow-ups (bot.answer.together) and the answer shown
(bot.answer.responding).
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from bot.answer.answerability import Model, model_for
from bot.answer.catalogue import Catalogue
from bot.answer.explanations import Arrange
from bot.answer.followup import FollowUp, as_follow_up
from bot.answer.inputs import (
    Slots,
    bm25_index,
    embeddings,
    load_snapshot,
    sentence_terms,
    snapshot_aliases,
)
from bot.answer.models import Answer, Status
from bot.answer.passages import PassageConfig, passages_of
from bot.answer.query import Query, build_query
from bot.answer.ranking import Mask, Meaning, Ranker, RankingConfig
from bot.answer.reading import Judge, Reading, question_terms
from bot.answer.rerank import Reranker, RerankModels, default_models
from bot.answer.responding import Responder, not_found_message
from bot.answer.sentences import CorpusSentences
from bot.answer.together import Conversation, FollowUpConfig
from bot.answer.usage import tidy, usage_message, usage_reason
from bot.embedding.index import SemanticIndex
from bot.embedding.loader import SemanticModel
from bot.errors import AliasFileError
from bot.index.aliases import Aliases
from bot.index.bm25 import BM25Index
from bot.index.storage import Snapshot
from bot.index.storage.arrays import ArrayStores
from bot.ingest.loader import Corpus
from bot.ingest.models import Article, Sentence
from bot.progress import QUIET, Progress

__all__ = [
    "DEFAULT_K",
    "Engine",
    "FollowUpConfig",
    "PassageConfig",
    "RankingConfig",
    "Reading",
    "question_terms",
]

DEFAULT_K = 3


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
        slots: Slots | None = None,
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
        self.text = CorpusSentences(corpus)
        self.sentences: Sequence[Sentence] = self.text.sentences
        # Filters (--source, --since...) read it; built when the first filter asks.
        self.catalogue = Catalogue(corpus.articles)
        self.index = index if index is not None else bm25_index(self.text, self.config.bm25)
        # Every sentence's terms, stored with the index: computed once, read by answers.
        self.terms = sentence_terms(self.index, self.text, arrays or ArrayStores(None), slots)
        # Filled in the background; until a sentence has its embedding, word match ranks it.
        self.semantic: SemanticIndex | None = None
        if semantic is not None:
            self.semantic = embeddings(semantic, self.text, arrays, slots)
        self._answerability = answerability
        self.ranker = Ranker(
            self.index,
            self.sentences,
            self.text.linked,
            self.config,
            self.reranker(default_models()),
        )

    def serve(self, *, wait: bool = False) -> None:
        """Get ready for many questions: open the stored terms (on a thread unless wait)."""
        self.terms.open(background=not wait)

    def reranker(self, models: RerankModels | None, **hooks: Any) -> Reranker:
        """Return the ranking's reranking step over this engine's sentences (hooks: Reranker's)."""
        return Reranker(models, self.terms.hashes, self.text.text, **hooks)

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
        return cls.from_snapshot(
            load_snapshot(folder, index_dir, config.bm25, progress), config, semantic
        )

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
        alias_error: AliasFileError | None = None
        if aliases is None:
            aliases, alias_error = snapshot_aliases(snapshot)
        # A saved index keeps the corpus embeddings in its array store, reused article by article.
        engine = cls(
            snapshot.corpus,
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

        def read(query: Query, near: Sequence[int], order: Arrange | None) -> Reading:
            return self._read(query, depth, near, allowed, order)

        alone = None if own.empty else read(own, (), None)
        reading, read_with = self._conversation().choose(
            text, own, alone, as_follow_up(previous), read
        )
        if reading is None:
            usage = Answer(question=text, status=Status.USAGE, message=usage_message("no words"))
            return usage, None
        responder = Responder(
            self.text, self.index, self.answerability, self.passage_config, self.semantic
        )
        return responder.respond(text, reading, k, offset, read_with), reading

    def _conversation(self) -> Conversation:
        """Return what reading a follow-up with its previous question needs."""
        return Conversation(
            self.aliases,
            self.index,
            self.text,
            self.follow_up_config,
            self.config.cue_bonus,
            self.answerability,
        )

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
        meaning = self._meaning(query)
        scored = self.ranker.score(
            query, max(3 * depth, 20), near, allowed, meaning, self.follow_up_config.bonus
        )
        groups = passages_of(scored, self.sentences, self.text.linked, self.config)
        if order is not None:
            groups = order(groups)
        judge = Judge(self.text, self.terms, self.index, self.answerability)
        return judge.reading(query, scored, groups, meaning is not None)

    def _meaning(self, query: Query) -> Meaning | None:
        """Return the question's closeness in meaning to the sentences (None: lexical)."""
        if self.semantic is not None and self.mode == "semantic":
            return self.semantic.for_question(query.meaning_text)
        return None

    def _allowed(self, only: AbstractSet[str] | None) -> Mask | None:
        """Return per sentence whether its article is among only (None: every article)."""
        if only is None:
            return None
        return self.catalogue.mask(only, self.text.article_positions)

    def not_found_message(self) -> str:
        """Say plainly that the corpus does not answer, and what it does cover."""
        return not_found_message(self.articles)
