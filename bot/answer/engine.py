"""The answer engine: rank sentences for a question and decide whether they answer it."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.answer.cues import answers_cue, question_cue, sentence_cues
from bot.answer.decline import all_unknown, declines
from bot.answer.followup import FollowUp, as_follow_up, is_follow_up
from bot.answer.intent import tidy, usage_message, usage_reason
from bot.answer.models import Answer, Passage, Status
from bot.answer.query import Query, build_query, with_context
from bot.embedding.background import ArticleSpan
from bot.embedding.index import SemanticIndex
from bot.embedding.loader import SemanticModel
from bot.index.aliases import Aliases, AliasFileError, build_aliases
from bot.index.bm25 import BM25Index, BM25Params, Floats, Ids, top_k
from bot.index.sentences import SentenceView
from bot.index.store import IndexStore, Snapshot
from bot.index.tokenize import stem, terms, words
from bot.ingest.loader import Corpus
from bot.ingest.models import Article, Sentence
from bot.progress import QUIET, Progress

DEFAULT_K = 3
# With semantic ranking on, the candidates: this many best by word match, this many
# nearest the question's meaning.
LEXICAL_CANDIDATES = 200
SEMANTIC_CANDIDATES = 100


@dataclass(frozen=True)
class RankingConfig:
    """How passages are ranked and when the engine declines to answer."""

    bm25: BM25Params = field(default_factory=BM25Params)
    # Passages whose match score is below this share of the best one are dropped.
    relative_cut: float = 0.25
    # Share of the question's content (IDF-weighted) the best passage must cover.
    min_coverage: float = 0.2
    # Decline when this share of the question's concepts never occurs in the corpus.
    max_unknown_share: float = 0.6
    # Weight of the neighbouring sentences' match (the +-1 sentence window) in a sentence's score.
    window_weight: float = 0.3
    # Bonus (in shares of the best score) for a sentence holding what the question type asks
    # for: a date for "when", a number for "how many", a name for "who".
    cue_bonus: float = 0.3
    # Share of the fused score that comes from word matching when semantic ranking is on.
    lexical_weight: float = 0.5
    # How many top sentences the question-type cue may lift.
    candidates: int = 30
    # A neighbouring sentence joins a passage when it scores at least this share of the
    # passage's best sentence.
    merge_ratio: float = 0.45
    # The same with semantic ranking on, where fused scores lie closer together.
    semantic_merge_ratio: float = 0.6
    # With semantic ranking on, the best word coverage among this many top passages
    # decides whether to decline (a paraphrase on top may share few words).
    coverage_depth: int = 3
    # In a follow-up question, the weight of the previous question's words...
    follow_up_weight: float = 0.5
    # ...and the lift of the sentences the previous answer showed, and their neighbours.
    follow_up_bonus: float = 0.1


class Engine:
    """Answers questions from one loaded corpus; safe to share between threads."""

    def __init__(
        self,
        corpus: Corpus,
        aliases: Aliases,
        config: RankingConfig | None = None,
        semantic: SemanticModel | None = None,
        *,
        index: BM25Index | None = None,
        embeddings_dir: Path | None = None,
    ):
        self.corpus = corpus
        self.aliases = aliases
        self.config = config or RankingConfig()
        # A list, or for a saved index a table that makes each Sentence on access.
        self.sentences: Sequence[Sentence] = corpus.sentences
        self._articles = {a.key: a for a in corpus.articles}
        if index is None:
            index = BM25Index([terms(s.text) for s in self.sentences], self.config.bm25)
        self.index = index
        if isinstance(self.sentences, SentenceView) and "_same_paragraph" in vars(type(self)):
            # A saved index's table tells which neighbours share a paragraph without
            # making a Sentence of each of a million sentences on the first question.
            linked = self.sentences.same_paragraph().astype(np.float64)
            self.__dict__["_same_paragraph"] = (linked, linked)
        # Filled in the background; until a sentence has its embedding, word match ranks it.
        self.semantic: SemanticIndex | None = None
        if semantic is not None:
            spans, start = [], 0
            for article in corpus.articles:
                spans.append(ArticleSpan(start, len(article.sentences)))
                start += spans[-1].count
            self.semantic = semantic.index(spans, self._texts, embeddings_dir)

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
        re-reading only changed files (see bot.index.store); without, it is
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
        if aliases is None:
            texts = snapshot.acronym_texts
            try:
                aliases = build_aliases(snapshot.root, texts)
            except AliasFileError as exc:
                # A typo in the alias file must not take the whole corpus down.
                corpus.problems.append(f"ignored the alias file: {exc}")
                aliases = build_aliases(None, texts)
        # A saved index keeps the corpus embeddings beside it, reused article by article.
        folder = snapshot.store_folder
        embeddings = semantic.store_folder(folder) if semantic and folder else None
        return cls(
            corpus, aliases, config, semantic, index=snapshot.index, embeddings_dir=embeddings
        )

    def _texts(self, start: int, end: int) -> list[str]:
        """Return the texts of sentences start..end-1."""
        sentences = self.sentences
        if isinstance(sentences, SentenceView):
            return [sentences.text(i) for i in range(start, end)]
        return [sentences[i].text for i in range(start, end)]

    @property
    def articles(self) -> list[Article]:
        """List the indexed articles."""
        return self.corpus.articles

    def answer(
        self,
        question: str,
        k: int = DEFAULT_K,
        offset: int = 0,
        previous: FollowUp | str | None = None,
    ) -> Answer:
        """Answer a question with up to k cited passages, starting at offset.

        previous is the conversation so far: the previous question, or a FollowUp
        built from the previous answer (FollowUp.from_answer). A question that leans
        on it ("and when was that?", "what about China?", "why?") is read with it.
        """
        text = tidy(question)
        reason = usage_reason(text)
        if reason is not None:
            return Answer(question=text, status=Status.USAGE, message=usage_message(reason))
        query = own = build_query(text, self.aliases)
        near: list[int] = []
        notes: tuple[str, ...] = ()
        context = as_follow_up(previous)
        if context is not None and is_follow_up(text):
            earlier = build_query(tidy(context.text), self.aliases)
            if not earlier.empty:
                query = with_context(own, earlier, self.config.follow_up_weight)
                near = self._positions(context.citations)
                notes = (f"read as a follow-up to \u201c{context.question}\u201d",)
        if query.empty:
            return Answer(question=text, status=Status.USAGE, message=usage_message("no words"))
        semantic = self._semantic_on()
        passages, groups = self._rank(query, limit=offset + k + 1, near=near)
        depth = self.config.coverage_depth if semantic else 1
        if declines(
            query,
            [p.text for p in passages[:depth]],
            self.index,
            min_coverage=self.config.min_coverage,
            max_unknown_share=self.config.max_unknown_share,
        ) or (query is not own and all_unknown(own, self.index)):
            return Answer(
                question=text,
                status=Status.NOT_FOUND,
                message=self.not_found_message(),
                notes=notes,
            )
        page = tuple(passages[offset : offset + k])
        ranking, notes = self._ranking(groups[offset : offset + k], semantic, notes)
        return Answer(
            question=text,
            status=Status.ANSWERED,
            passages=page,
            has_more=len(passages) > offset + k,
            offset=offset,
            notes=notes,
            ranking=ranking,
        )

    def _ranking(
        self, shown: list[list[int]], semantic: bool, notes: tuple[str, ...]
    ) -> tuple[str, tuple[str, ...]]:
        """Say which ranking placed the passages shown, with a note while embeddings are missing."""
        index = self.semantic
        if index is None or index.model.failure is not None:
            return "lexical", notes
        positions = np.array([i for group in shown for i in group], dtype=np.int64)
        if semantic and positions.size and bool(index.is_embedded(positions).all()):
            return "semantic", notes
        if index.complete:
            return "lexical", notes
        done = index.embedded_count / max(index.size, 1)
        note = f"ranked by word match: sentence embeddings are still being computed ({done:.0%})"
        return "lexical", (*notes, note)

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

    def rank(self, query: Query, limit: int = 10, near: Sequence[int] = ()) -> list[Passage]:
        """Rank passages for a query, best first, merging adjacent matching sentences."""
        return self._rank(query, limit, near)[0]

    def _semantic_on(self) -> bool:
        """Tell whether meaning takes part in ranking now (some sentence has its embedding)."""
        semantic = self.semantic
        return semantic is not None and semantic.any_embedded and semantic.model.failure is None

    def _rank(
        self, query: Query, limit: int, near: Sequence[int]
    ) -> tuple[list[Passage], list[list[int]]]:
        """Return :meth:`rank`'s passages and the sentence positions of each."""
        if not any(term in self.index for term in query.terms):
            return [], []
        depth = max(3 * limit, 20)
        scores: dict[int, float]
        semantic = self._semantic_on()
        if not semantic:
            # Word matching alone: only the sentences a query term touches (and their
            # neighbours) score above 0, so rank those, not every sentence.
            hits, scores = self._sparse_hits(query, near, depth)
        else:
            hits, scores = self._fused_hits(query, near, depth)
        if not hits:
            return [], []
        groups = self._merge_adjacent(hits, scores, semantic)
        groups.sort(key=lambda g: (-max(scores[i] for i in g), g[0]))
        best = max(scores[i] for i in groups[0])
        cut = self.config.relative_cut * best
        kept = [g for g in groups if max(scores[i] for i in g) >= cut][:limit]
        return [self._passage(g, float(max(scores[i] for i in g)), query) for g in kept], kept

    def _fused_hits(
        self, query: Query, near: Sequence[int], depth: int
    ) -> tuple[list[int], dict[int, float]]:
        """Rank by word match fused with meaning, scoring only the candidates of either.

        The candidates are word match's best sentences, the question's nearest
        neighbours (bot.embedding's ANN index) and the follow-up's sentences. Their
        similarity is min-max scaled between the best one and the floor of a fixed
        spread of sentences (for a small corpus, all of them: the same scores as a
        pass over every vector). A sentence without an embedding yet keeps its word
        match score as its meaning score.
        """
        assert self.semantic is not None
        config, semantic, text = self.config, self.semantic, query.meaning_text
        ids, lexical = self._sparse_lexical(query)
        nearest, _ = semantic.nearest(text, SEMANTIC_CANDIDATES)
        best = [p for p in top_k(lexical, LEXICAL_CANDIDATES) if lexical[p] > 0]
        n = self.index.size
        lifted = [j for i in near for j in (i - 1, i, i + 1) if 0 <= j < n]
        parts: list[Ids] = [
            np.sort(ids[best]),
            np.sort(nearest).astype(ids.dtype),
            np.array(sorted(set(lifted)), dtype=ids.dtype),
        ]
        candidates = _ascending_union(parts)
        if candidates.size == 0:
            return [], {}
        lexical_of = _spread([(ids, lexical)], candidates, n)[0]
        similarity = semantic.similarity(text, candidates.astype(np.int64))
        have = ~np.isnan(similarity)
        meaning = lexical_of.copy()
        if have.any():
            low = min(semantic.floor(text), float(similarity[have].min()))
            high = float(similarity[have].max())
            if high > low:
                meaning[have] = (similarity[have] - low) / (high - low)
        weight = config.lexical_weight
        fused = weight * lexical_of + (1 - weight) * meaning
        self._lift(query, candidates, fused, near)
        chosen = [p for p in top_k(fused, depth) if fused[p] > 0]
        return [int(candidates[p]) for p in chosen], {int(candidates[p]): fused[p] for p in chosen}

    def scores(self, query: Query, near: Sequence[int] = ()) -> Floats:
        """Score every sentence: word match with its neighbours in view, meaning, answer type.

        The word-match score is BM25+ of the sentence plus a weighted share of its
        neighbours' (the +-1 sentence window of the same paragraph), scaled so the best
        sentence scores 1. With semantic ranking on, it is fused with the min-max-scaled
        cosine similarity of question and sentence. Sentences among the top candidates
        that hold what the question type asks for (a date for "when"...) get a bonus.
        """
        config = self.config
        match = self.match_scores(query)
        lexical = match + config.window_weight * self._neighbours(match)
        top = float(lexical.max()) if lexical.size else 0.0
        scores = lexical / top if top > 0 else lexical
        if self.semantic is not None and self._semantic_on():
            similarity = np.nan_to_num(self.semantic.similarities(query.meaning_text), nan=0.0)
            low, high = float(similarity.min()), float(similarity.max())
            if high > low:
                meaning = (similarity - low) / (high - low)
                scores = config.lexical_weight * scores + (1 - config.lexical_weight) * meaning
        self._lift(query, None, scores, near)
        return scores

    def _sparse_hits(
        self, query: Query, near: Sequence[int], depth: int
    ) -> tuple[list[int], dict[int, float]]:
        """Return ``[i for i in top_k(scores, depth) if scores[i] > 0]`` and their scores.

        scores are :meth:`scores` without semantic ranking, found from
        :meth:`sparse_scores`' sentences with one selection of the best: the bonuses
        only raise scores, so the best after them are among the best before them
        and the sentences raised.
        """
        ids, values = self._sparse_lexical(query)
        # ids ascend, so top_k's ties by position are ties by sentence id.
        wide = max(depth, self.config.candidates)
        best = [p for p in top_k(values, wide) if values[p] > 0]
        raised = self._lift(query, ids, values, near, best)
        if self.config.follow_up_bonus < 0:
            pool = np.flatnonzero(values > 0)
        else:
            pool = np.array(sorted({*best, *raised}), dtype=np.intp)
            pool = pool[values[pool] > 0]
        chosen = [int(pool[p]) for p in top_k(values[pool], depth)]
        return [int(ids[p]) for p in chosen], {int(ids[p]): values[p] for p in chosen}

    def sparse_scores(self, query: Query, near: Sequence[int] = ()) -> tuple[Ids, Floats]:
        """Score like :meth:`scores` without semantic ranking, touching only what matches.

        Returns ascending sentence ids and their scores, equal to ``scores(query,
        near)`` at those ids bit for bit; every other sentence scores 0 there. The
        ids are the sentences a query term touches and their +-1 neighbours.
        """
        ids, scores = self._sparse_lexical(query)
        self._lift(query, ids, scores, near)
        return ids, scores

    def _sparse_lexical(self, query: Query) -> tuple[Ids, Floats]:
        """Return :meth:`sparse_scores` before the cue and follow-up bonuses."""
        config = self.config
        matched, match = self._sparse_match(query)
        n = self.index.size
        if matched.size == 0:
            return matched, match
        ids = _ascending_union([matched - 1, matched, matched + 1])
        ids = ids[(ids >= 0) & (ids < n)]
        own, previous, following = _spread([(matched, match)], ids, n, shifts=(0, -1, 1))
        # The same operations as match + window_weight * _neighbours(match), on ids;
        # only the first sentence has none before, only the last none after.
        before, after = self._same_paragraph
        total = np.zeros(ids.size, dtype=np.float64)
        first = 1 if ids[0] == 0 else 0
        total[first:] += previous[first:] * before[ids[first:] - 1]
        last = ids.size - 1 if ids[-1] == n - 1 else ids.size
        total[:last] += following[:last] * after[ids[:last]]
        lexical = own + config.window_weight * total
        top = float(lexical.max())
        if ids.size < n:
            top = max(top, 0.0)  # the sentences left out score 0
        scores = lexical / top if top > 0 else lexical
        return ids, scores

    def _sparse_match(self, query: Query) -> tuple[Ids, Floats]:
        """Return :meth:`match_scores` as ascending ids and their scores (others 0)."""
        ids, total = self.index.match_scores_sparse(query.plain_weights())
        aliased: list[tuple[float, list[tuple[float, Ids, Floats]]]] = []
        for concept in query.concepts:
            if len(concept.names) == 1:
                continue
            names: list[tuple[float, Ids, Floats]] = []
            for name_terms, scale in concept.names:
                weights = {t: float(name_terms.count(t)) for t in name_terms}
                names.append((scale, *self.index.match_scores_sparse(weights)))
            aliased.append((concept.weight, names))
        if not aliased:
            return ids, total
        named = [(name_ids, scores) for _, names in aliased for _, name_ids, scores in names]
        union = _ascending_union([ids] + [name_ids for name_ids, _ in named])
        spread = iter(_spread([(ids, total), *named], union, self.index.size))
        total = next(spread)
        for weight, names in aliased:
            best = np.zeros(union.size)
            for scale, _, _ in names:
                np.maximum(best, scale * next(spread), out=best)
            total += weight * best
        return union, total

    def _lift(
        self,
        query: Query,
        ids: Ids | None,
        scores: Floats,
        near: Sequence[int],
        best: list[int] | None = None,
    ) -> list[int]:
        """Add the question-type cue bonus and the follow-up lift to scores, in place.

        scores[p] is the score of sentence ids[p], ids ascending, or of sentence p
        when ids is None; sentences left out score 0. best, when given, is
        ``top_k(scores, k)`` (positive scores only) for a k of at least
        ``config.candidates``. Returns the positions the follow-up lift changed.
        """
        config = self.config
        cue = question_cue(query.text)
        if cue is not None and config.cue_bonus > 0:
            question_terms = query.terms
            chosen = top_k(scores, config.candidates) if best is None else best
            for p in chosen[: config.candidates]:
                i = p if ids is None else int(ids[p])
                if scores[p] > 0 and answers_cue(
                    cue, sentence_cues(self.sentences[i].text), question_terms
                ):
                    scores[p] += config.cue_bonus
        # A follow-up: the sentences the previous answer showed, and their neighbours.
        lifted = {j for i in near for j in (i - 1, i, i + 1) if 0 <= j < self.index.size}
        raised: list[int] = []
        for j in lifted:
            p = j
            if ids is not None:
                p = int(np.searchsorted(ids, j))
                if p >= ids.size or ids[p] != j:
                    continue
            if scores[p] > 0:
                scores[p] += config.follow_up_bonus
                raised.append(p)
        return raised

    def _neighbours(self, match: Floats) -> Floats:
        """Sum the match of each sentence's neighbours within its paragraph."""
        before, after = self._same_paragraph
        total = np.zeros_like(match)
        total[1:] += match[:-1] * before
        total[:-1] += match[1:] * after
        return total

    @cached_property
    def _same_paragraph(self) -> tuple[Floats, Floats]:
        """For each pair of consecutive sentences, 1.0 when they share a body paragraph."""
        pairs = zip(self.sentences, self.sentences[1:], strict=False)
        linked = np.array(
            [
                float(a.article_key == b.article_key and a.paragraph == b.paragraph > 0)
                for a, b in pairs
            ],
            dtype=np.float64,
        )
        return linked, linked

    def match_scores(self, query: Query) -> Floats:
        """Score every sentence: BM25+ for plain terms, the best name for aliased concepts."""
        total = self.index.match_scores(query.plain_weights())
        for concept in query.concepts:
            if len(concept.names) == 1:
                continue
            best = np.zeros(self.index.size)
            for name_terms, scale in concept.names:
                weights = {t: float(name_terms.count(t)) for t in name_terms}
                np.maximum(best, scale * self.index.match_scores(weights), out=best)
            total += concept.weight * best
        return total

    def _merge_adjacent(
        self, hits: list[int], scores: Mapping[int, float], semantic: bool = False
    ) -> list[list[int]]:
        """Group hits that are consecutive sentences of one paragraph.

        Best first, each hit joins the group it touches when it scores at least
        ``merge_ratio`` of that group's best sentence, so a strong sentence does not
        drag its weak neighbours along into one long passage.
        """
        ratio = self.config.semantic_merge_ratio if semantic else self.config.merge_ratio
        group_of: dict[int, list[int]] = {}
        groups: list[list[int]] = []
        for i in sorted(hits, key=lambda h: (-scores[h], h)):
            touching = [
                group_of[j]
                for j in (i - 1, i + 1)
                if j in group_of
                and self._linked(min(i, j))
                and scores[i] >= ratio * scores[group_of[j][0]]
            ]
            if not touching:
                group = [i]
                groups.append(group)
            else:
                # group[0] is always the group's best sentence: it was placed first.
                touching.sort(key=lambda g: -scores[g[0]])
                group = touching[0]
                group.append(i)
                if len(touching) == 2 and scores[touching[1][0]] >= ratio * scores[group[0]]:
                    other = touching[1]
                    group.extend(other)
                    groups.remove(other)
                    for j in other:
                        group_of[j] = group
            group_of[i] = group
        return [sorted(g) for g in groups]

    def _linked(self, i: int) -> bool:
        """Tell whether sentence i and the next one belong to the same body paragraph."""
        return bool(self._same_paragraph[1][i]) if 0 <= i < len(self.sentences) - 1 else False

    def _passage(self, group: list[int], score: float, query: Query) -> Passage:
        members = [self.sentences[i] for i in group]
        first, last = members[0], members[-1]
        article = self._articles[first.article_key]
        text = " ".join(s.text for s in members)
        highlights: list[tuple[int, int]] = []
        matched: list[str] = []
        query_terms = query.terms
        for token in words(text):
            if stem(token.word) in query_terms:
                highlights.append((token.start, token.end))
                surface = text[token.start : token.end]
                if surface not in matched:
                    matched.append(surface)
        citation = first.citation
        if len(members) > 1:
            citation = f"{first.citation}-{last.citation.rsplit(':', 1)[-1]}"
        return Passage(
            citation=citation,
            text=text,
            article_key=article.key,
            article_title=article.title,
            source=article.source,
            score=round(score, 4),
            matched=tuple(matched),
            highlights=tuple(highlights),
            context_before=self._neighbour(group[0] - 1, article.key),
            context_after=self._neighbour(group[-1] + 1, article.key),
            citations=tuple(s.citation for s in members),
        )

    def _neighbour(self, position: int, article_key: str) -> str:
        if 0 <= position < len(self.sentences):
            sentence = self.sentences[position]
            if sentence.article_key == article_key and sentence.paragraph > 0:
                return sentence.text
        return ""


class _Scratch(threading.local):
    """Per thread, a reused zeroed array with a score slot per sentence and one each side."""

    padded: Floats | None = None

    def zeros(self, size: int) -> Floats:
        """Return the array for size sentences: entry i + 1 is sentence i's; keep it zeroed."""
        padded = self.padded
        if padded is None or padded.size != size + 2:
            padded = self.padded = np.zeros(size + 2, dtype=np.float64)
        return padded


_SCRATCH = _Scratch()


def _spread(
    parts: Sequence[tuple[Ids, Floats]], onto: Ids, size: int, shifts: Sequence[int] = (0,)
) -> list[Floats]:
    """Read each part's values at the ids onto (shifted by each shift), 0 where it has none.

    size is the number of sentences; ids shifted below 0 or past the last read 0.
    Returns a list with, for each part in turn, an array per shift.
    """
    padded = _SCRATCH.zeros(size)
    spread: list[Floats] = []
    for ids, values in parts:
        slots = ids + 1
        try:
            padded[slots] = values
            spread.extend(padded[onto + (1 + shift)] for shift in shifts)
        finally:
            padded[slots] = 0.0
    return spread


def _ascending_union(parts: list[Ids]) -> Ids:
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
