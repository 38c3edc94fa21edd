"""The data every later stage reads: articles and their sentences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of an article, with the position a reader can check."""

    article_key: str
    paragraph: int  # 0 is the headline; the body starts at 1
    number: int  # 1-based within its paragraph
    text: str
    citation: str  # what a user quotes back, e.g. "3.1" or "nk-asean:3.1"


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article: metadata plus its sentences in reading order."""

    key: str
    path: str  # relative to the corpus folder
    title: str
    source: str | None
    url: str | None = None
    date: str | None = None
    sentences: Sequence[Sentence] = field(default_factory=tuple)
    content_hash: str = ""
    author: str | None = None
    feed: str | None = None  # the feed the article came from, if any

    @property
    def body_sentence_count(self) -> int:
        """Count the sentences outside the headline."""
        return sum(1 for s in self.sentences if s.paragraph > 0)
