"""Gather what an engine answers from out of a loaded index: terms, embeddings, aliases.

The answer modules read only what this hands them; this is the one place that
knows how a saved index keeps its per-sentence arrays and article slots.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bot.answer.sentences import CorpusSentences
from bot.embedding.background import ArticleSpan
from bot.embedding.index import SemanticIndex
from bot.embedding.loader import SemanticModel
from bot.errors import AliasFileError
from bot.index.aliases import Aliases, build_aliases
from bot.index.bm25 import BM25Index, BM25Params
from bot.index.storage import IndexStore, Snapshot
from bot.index.storage.arrays import ArrayStores, ArticleSlot
from bot.index.storage.parsing import rows_key
from bot.index.terms import SentenceTerms, stored_rows, terms_kind
from bot.index.tokenize import terms
from bot.progress import QUIET, Progress

Slots = Callable[[], Sequence[ArticleSlot]]


def load_snapshot(
    folder: Path | str, index_dir: Path | None, params: BM25Params, progress: Progress = QUIET
) -> Snapshot:
    """Load a corpus folder's index, saved in index_dir when given (else built in memory)."""
    store = IndexStore(
        folder, index_dir, persist=index_dir is not None, params=params, progress=progress
    )
    return store.load()


def snapshot_aliases(snapshot: Snapshot) -> tuple[Aliases, AliasFileError | None]:
    """Build the aliases of a snapshot's folder, and the alias file's error when it was ignored."""
    texts = snapshot.acronym_texts
    try:
        return build_aliases(snapshot.root, texts), None
    except AliasFileError as exc:
        # A typo in the alias file must not take the whole corpus down.
        snapshot.corpus.problems.append(f"ignored the alias file: {exc}")
        return build_aliases(None, texts), exc


def bm25_index(sentences: CorpusSentences, params: BM25Params) -> BM25Index:
    """Index an in-memory corpus's sentences."""
    return BM25Index([terms(s.text) for s in sentences.sentences], params)


def sentence_terms(
    index: BM25Index, sentences: CorpusSentences, arrays: ArrayStores, slots: Slots | None
) -> SentenceTerms:
    """Hold the sentences' terms: their stored rows open once the engine serves (Engine.serve)."""
    return SentenceTerms(
        index.lengths,
        sentences.text,
        stored_rows(arrays.get(terms_kind()), slots or (lambda: article_slots(sentences))),
    )


def article_slots(sentences: CorpusSentences) -> list[ArticleSlot]:
    """Place each article's rows in the array store, keyed by the digest of its sentences."""
    slots, first = [], 0
    for position, article in enumerate(sentences.articles):
        count = len(article.sentences)
        slots.append(
            ArticleSlot(position, rows_key(sentences.texts(first, first + count)), first, count)
        )
        first += count
    return slots


def embeddings(
    semantic: SemanticModel,
    sentences: CorpusSentences,
    arrays: ArrayStores | None,
    slots: Slots | None,
) -> SemanticIndex:
    """Return the corpus's semantic index, filled in the background from what is saved."""
    articles = sentences.articles
    # A saved index knows each article's digest: a restart need not read every
    # sentence again to find its saved embeddings.
    keys = [slot.key for slot in slots()] if slots else [""] * len(articles)
    spans, start = [], 0
    for article, key in zip(articles, keys, strict=True):
        spans.append(ArticleSpan(start, len(article.sentences), key))
        start += spans[-1].count
    return semantic.index(spans, sentences.texts, arrays)
