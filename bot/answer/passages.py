"""Group scored sentences into passages worth reading: merged neighbours, no headline twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.answer.cues import Cue
from bot.answer.decline import coverage, covered_concepts
from bot.answer.models import Passage
from bot.answer.query import Query
from bot.answer.ranking import RankingConfig, Scored
from bot.answer.spans import spans_for
from bot.index.bm25 import BM25Index, Floats
from bot.index.tokenize import is_content, stem, terms, words
from bot.ingest.models import Article, Sentence

# A headline repeats a body sentence when this share of its content terms are in it.
HEADLINE_OVERLAP = 0.5


@dataclass(frozen=True)
class PassageConfig:
    """Which ranked passages are worth showing."""

    # A passage after the first is shown when it covers at least this share of what the
    # best passage covers of the question (IDF-weighted)...
    relative_coverage: float = 0.5
    # ...and scores at least this share of the best passage.
    relative_score: float = 0.0


@dataclass(frozen=True)
class Group:
    """Adjacent sentences shown as one passage, and its score."""

    ids: list[int]
    score: float
    best: int = -1  # the id of its best-scoring sentence (-1: not known)


def merge_adjacent(
    hits: list[int], scores: Mapping[int, float], linked: Floats, ratio: float
) -> list[Group]:
    """Group hits that are consecutive sentences of one paragraph, best group first.

    Best first, each hit joins the group it touches when it scores at least ratio
    of that group's best sentence, so a strong sentence does not drag its weak
    neighbours along into one long passage.
    """
    size = linked.size + 1

    def joined(i: int) -> bool:
        return bool(linked[i]) if 0 <= i < size - 1 else False

    group_of: dict[int, list[int]] = {}
    groups: list[list[int]] = []
    for i in sorted(hits, key=lambda h: (-scores[h], h)):
        touching = [
            group_of[j]
            for j in (i - 1, i + 1)
            if j in group_of and joined(min(i, j)) and scores[i] >= ratio * scores[group_of[j][0]]
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
    # g[0] is each group's best sentence (placed first, see above).
    merged = [Group(sorted(g), max(scores[i] for i in g), g[0]) for g in groups]
    merged.sort(key=lambda g: (-g.score, g.ids[0]))
    return merged


def passages_of(
    scored: Scored, sentences: Sequence[Sentence], linked: Floats, config: RankingConfig
) -> list[Group]:
    """Merge the scored sentences into passages, drop the weak and the repeated."""
    if not scored.hits:
        return []
    semantic = bool(scored.similarity)
    ratio = config.semantic_merge_ratio if semantic else config.merge_ratio
    groups = merge_adjacent(scored.hits, scored.scores, linked, ratio)
    best = groups[0].score
    groups = [g for g in groups if g.score >= config.relative_cut * best]
    return drop_repeated_headlines(groups, sentences)


def worth_reading(
    groups: Sequence[Group], query: Query, index: BM25Index, config: PassageConfig, wanted: int
) -> list[Group]:
    """Keep the best passage and those relevant on their own: no padding to k.

    A further passage must cover a good share of what the best one covers of the
    question, and more than one of its concepts when the best covers several:
    sharing one word with the question is not relevant. Stops at wanted passages.
    """
    held = held_terms(query, groups, index)
    best = groups[0]
    best_coverage = coverage(query, held[0], index)
    needed = min(2, covered_concepts(query, held[0]))
    kept = [best]
    for group, terms_held in zip(groups[1:], held[1:], strict=True):
        if len(kept) >= wanted:
            break
        if group.score < config.relative_score * best.score:
            continue
        if (
            coverage(query, terms_held, index) >= config.relative_coverage * best_coverage
            and covered_concepts(query, terms_held) >= needed
        ):
            kept.append(group)
    return kept


def held_terms(query: Query, groups: Sequence[Group], index: BM25Index) -> list[set[str]]:
    """Return, per group, the query terms its sentences hold, read from the postings."""
    ids = np.array([i for g in groups for i in g.ids], dtype=np.int64)
    owner = np.repeat(np.arange(len(groups)), [len(g.ids) for g in groups])
    held: list[set[str]] = [set() for _ in groups]
    for term in query.terms:
        posting = index.contains(term)
        if posting.size == 0:
            continue
        at = np.minimum(np.searchsorted(posting, ids), posting.size - 1)
        # A set, not np.unique: that imports numpy.ma (0.05-0.1 s) at the first answer.
        for g in set(owner[posting[at] == ids].tolist()):
            held[g].add(term)
    return held


def content_terms(text: str) -> frozenset[str]:
    """Return the stemmed content terms of a text."""
    return frozenset(stem(t.word) for t in words(text) if is_content(t))


def drop_repeated_headlines(groups: list[Group], sentences: Sequence[Sentence]) -> list[Group]:
    """Drop a headline shown beside a body sentence of its article that says the same.

    The body sentence is kept, at the better of the two places: it is the complete one.
    """
    result = list(groups)
    firsts = {id(g): sentences[g.ids[0]] for g in groups}
    terms_of: dict[int, frozenset[str]] = {}

    def group_terms(group: Group) -> frozenset[str]:
        # Each group is tokenised once, however many headlines it is compared with.
        found = terms_of.get(id(group))
        if found is None:
            found = terms_of[id(group)] = content_terms(
                " ".join(sentences[i].text for i in group.ids)
            )
        return found

    for g in list(result):
        first = firsts[id(g)]
        if first.paragraph != 0 or g not in result:
            continue
        headline = group_terms(g)
        if not headline:
            continue
        for other in result:
            if other is g or firsts[id(other)].article_key != first.article_key:
                continue
            body = group_terms(other)
            if len(headline & body) >= HEADLINE_OVERLAP * len(headline):
                place = min(result.index(g), result.index(other))
                result.remove(g)
                result.remove(other)
                result.insert(place, other)
                break
    return result


def build_passage(
    group: Group,
    sentences: Sequence[Sentence],
    article: Article,
    query_terms: frozenset[str],
    cue: Cue | None,
    question: str = "",
) -> Passage:
    """Make the cited passage of a group: its text, matched words and answering phrase.

    The answering phrase is what the question type (cue) asks for; without one, or
    when the text holds none, the stretch in the slot of the question's wh-word.
    """
    members = [sentences[i] for i in group.ids]
    first, last = members[0], members[-1]
    text = " ".join(s.text for s in members)
    highlights: list[tuple[int, int]] = []
    matched: list[str] = []
    tokens = words(text)
    for token in tokens:
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
        score=round(group.score, 4),
        matched=tuple(matched),
        highlights=tuple(highlights),
        context_before=_neighbour(sentences, group.ids[0] - 1, article.key),
        context_after=_neighbour(sentences, group.ids[-1] + 1, article.key),
        citations=tuple(s.citation for s in members),
        answer_spans=spans_for(
            question, text, query_terms, cue, tokens, best_sentence(group, sentences)
        ),
        date=article.date,
        url=article.url,
    )


def best_sentence(group: Group, sentences: Sequence[Sentence]) -> tuple[int, int] | None:
    """Return where the group's best-scoring sentence stands in the passage's text."""
    if group.best not in group.ids:
        return None
    start = sum(len(sentences[i].text) + 1 for i in group.ids[: group.ids.index(group.best)])
    return start, start + len(sentences[group.best].text)


def passage_terms(group: Group, sentences: Sequence[Sentence]) -> frozenset[str]:
    """Return the index terms of a group's sentences."""
    return frozenset(t for i in group.ids for t in terms(sentences[i].text))


def _neighbour(sentences: Sequence[Sentence], position: int, article_key: str) -> str:
    if 0 <= position < len(sentences):
        sentence = sentences[position]
        if sentence.article_key == article_key and sentence.paragraph > 0:
            return sentence.text
    return ""
