"""The corpus's sentences as the answer layer reads them: texts, paragraphs, articles, citations."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from bot.index.sentences import SentenceView
from bot.ingest.loader import Corpus
from bot.ingest.models import Article, Sentence


class CorpusSentences:
    """One corpus's sentences, read without making a Sentence of each where it can.

    A saved index gives a table (SentenceView) that keeps texts, paragraphs and
    articles as columns; an in-memory corpus gives a list. Either reads the same.
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        # A list, or for a saved index a table that makes each Sentence on access.
        self.sentences: Sequence[Sentence] = corpus.sentences
        self._articles = corpus.by_key()

    @property
    def articles(self) -> Sequence[Article]:
        """List the corpus's articles."""
        return self.corpus.articles

    def texts(self, start: int, end: int) -> list[str]:
        """Return the texts of sentences start..end-1."""
        sentences = self.sentences
        if isinstance(sentences, SentenceView):
            return [sentences.text(i) for i in range(start, end)]
        return [sentences[i].text for i in range(start, end)]

    def text(self, position: int) -> str:
        """Return the text of one sentence."""
        sentences = self.sentences
        if isinstance(sentences, SentenceView):
            return sentences.text(position)
        return sentences[position].text

    def joined(self, ids: Sequence[int]) -> str:
        """Return the text of a passage of these sentences."""
        return " ".join(self.sentences[i].text for i in ids)

    def article_of(self, position: int) -> Article:
        """Return the article a sentence belongs to."""
        return self._articles[self.sentences[position].article_key]

    def positions(self, citations: Sequence[str]) -> list[int]:
        """Return the positions of the sentences with these citations."""
        return [self._by_citation[c] for c in citations if c in self._by_citation]

    @cached_property
    def _by_citation(self) -> dict[str, int]:
        return {s.citation: i for i, s in enumerate(self.sentences)}

    @cached_property
    def article_positions(self) -> np.ndarray:
        """Return per sentence the position of its article (articles are contiguous)."""
        sentences = self.sentences
        if isinstance(sentences, SentenceView) and len(sentences) == len(sentences.table):
            # A saved index's table keeps this column already.
            return sentences.table.article_ids
        counts = [len(article.sentences) for article in self.articles]
        return np.repeat(np.arange(len(counts), dtype=np.int32), counts)

    @cached_property
    def linked(self) -> np.ndarray:
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
