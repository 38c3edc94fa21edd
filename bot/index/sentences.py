"""The sentences of a saved index, kept as arrays and made into objects only on access.

A million Sentence objects take hundreds of megabytes; the same sentences as one
UTF-8 text blob, byte offsets and two small integer columns take a fraction of
that, and can be memory-mapped from the saved index. The engine reads them
through :class:`SentenceView`, a ``Sequence[Sentence]`` like the list it gets
from an in-memory corpus.
"""

from __future__ import annotations

import itertools
import os
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
import numpy.typing as npt

from bot.index.saved import Served
from bot.ingest.loader import Corpus
from bot.ingest.models import Article, Sentence


class SentenceTable:
    """Every sentence of a corpus: text blob, offsets, paragraph and number, article."""

    def __init__(
        self,
        text: npt.NDArray[np.uint8],
        tail: bytes,
        rows: Served,
        counts: npt.NDArray[np.int64],
        keys: list[str],
        prefix: bool,
        *,
        pack: Path | None = None,
        linked: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """Hold the sentences of a corpus.

        rows hold per sentence its text's start and end in text followed by tail,
        its paragraph and number; counts the sentences of each article, whose key
        is in keys; prefix says whether citations carry the article key; rows
        may be read from their saved file (see bot.index.saved). pack, the saved
        file that holds text: sentences are then read from it with pread, so
        that reading passages adds no mapped pages to the program's memory.
        """
        self._buffers = (text, tail, _Pack.open(pack))
        self._rows = rows
        self._linked = linked
        self._keys = keys
        self._prefix = prefix
        self.article_ids = np.repeat(np.arange(counts.size, dtype=np.int32), counts)

    def __len__(self) -> int:
        return int(self._rows.shape[0])

    def get(self, index: int) -> Sentence:
        """Make the Sentence at index (0 <= index < len)."""
        start, end, paragraph, number = self._rows[index].tolist()
        key = self._keys[int(self.article_ids[index])]
        citation = f"{key}:{paragraph}.{number}" if self._prefix else f"{paragraph}.{number}"
        return Sentence(key, paragraph, number, self._decode(start, end), citation)

    def text(self, index: int) -> str:
        """Return one sentence's text without making a Sentence."""
        start, end = self._rows[index][:2].tolist()
        return self._decode(start, end)

    def _decode(self, start: int, end: int) -> str:
        text, tail, pack = self._buffers  # one read: rebind() swaps them at once
        if end <= text.size:
            if pack is not None:
                return pack.read(start, end).decode()
            return text[start:end].tobytes().decode()
        return tail[start - text.size : end - text.size].decode()

    def rebind(
        self,
        text: npt.NDArray[np.uint8],
        tail: bytes,
        rows: Served,
        pack: Path | None = None,
    ) -> None:
        """Read the same sentences from other memory (the saved, memory-mapped files)."""
        self._buffers = (text, tail, _Pack.open(pack))
        self._rows = rows

    def paragraphs(self, start: int = 0, stop: int | None = None) -> npt.NDArray[np.int64]:
        """Return the paragraph numbers (0 for a headline) of the sentences start to stop."""
        found: npt.NDArray[np.int64] = self._rows[start : len(self) if stop is None else stop][:, 2]
        return found

    def same_paragraph(self) -> npt.NDArray[np.bool_]:
        """Tell, for each sentence but the last, whether the next is in the same body paragraph."""
        if self._linked is not None:
            return self._linked
        paragraphs = self.paragraphs()
        linked: npt.NDArray[np.bool_] = (
            (self.article_ids[1:] == self.article_ids[:-1])
            & (paragraphs[1:] == paragraphs[:-1])
            & (paragraphs[1:] > 0)
        )
        return linked

    def view(self, start: int = 0, stop: int | None = None) -> SentenceView:
        """Return the sentences from start to stop as a sequence."""
        return SentenceView(self, range(start, len(self) if stop is None else stop))


class _Pack:
    """A saved text pack, read with pread; closed when no table uses it any more."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        # Not at exit: a background thread may still read the pack then, and would get EBADF
        # (or, once the number is reused, another file's bytes); the OS closes it anyway.
        weakref.finalize(self, os.close, self._fd).atexit = False

    @classmethod
    def open(cls, path: Path | None) -> _Pack | None:
        """Open the pack at path; None without a path, or when it cannot be opened."""
        if path is None:
            return None
        try:
            return cls(path)
        except OSError:
            return None  # read from the memory-mapped text instead

    def read(self, start: int, end: int) -> bytes:
        """Read bytes start to end."""
        return os.pread(self._fd, end - start, start)


class SentenceView(Sequence[Sentence]):
    """A range of a sentence table (the corpus, an article, a slice) as a sequence."""

    __slots__ = ("_span", "table")

    def __init__(self, table: SentenceTable, span: range) -> None:
        self.table = table
        self._span = span

    def __len__(self) -> int:
        return len(self._span)

    @overload
    def __getitem__(self, index: int) -> Sentence: ...

    @overload
    def __getitem__(self, index: slice) -> SentenceView: ...

    def __getitem__(self, index: int | slice) -> Sentence | SentenceView:
        if isinstance(index, slice):
            return SentenceView(self.table, self._span[index])
        return self.table.get(self._span[index])

    def text(self, index: int) -> str:
        """Return the text of the sentence at index, without making a Sentence."""
        return self.table.text(self._span[index])

    def same_paragraph(self) -> npt.NDArray[np.bool_]:
        """Tell, for each sentence but the last, whether the next is in the same body paragraph."""
        span = self._span
        if span.step != 1:
            sentences = list(self)
            return np.array(
                [
                    a.article_key == b.article_key and a.paragraph == b.paragraph > 0
                    for a, b in itertools.pairwise(sentences)
                ],
                dtype=np.bool_,
            )
        linked = self.table.same_paragraph()
        return linked[span.start : max(span.start, span.stop - 1)]

    def body_count(self) -> int:
        """Count the sentences outside headlines, without making them."""
        span = self._span
        if span.step == 1:
            return int(np.count_nonzero(self.table.paragraphs(span.start, span.stop) > 0))
        paragraphs = self.table.paragraphs()
        return sum(1 for i in span if paragraphs[i] > 0)


@dataclass(frozen=True, slots=True)
class StoredArticle(Article):
    """An article whose sentences live in a sentence table."""

    @property
    def body_sentence_count(self) -> int:
        """Count the sentences outside the headline, without making them."""
        sentences = self.sentences
        if isinstance(sentences, SentenceView):
            return sentences.body_count()
        return sum(1 for s in sentences if s.paragraph > 0)


class StoredArticles(Sequence[Article]):
    """The articles of a saved index, each made when first read (then kept).

    Making tens of thousands of article objects took a tenth of every restart,
    for a first answer that reads one or two of them.
    """

    __slots__ = ("_keys", "_made", "_make", "_positions")

    def __init__(self, keys: list[str], make: Callable[[int], Article]) -> None:
        """Hold the articles with these keys, in order; make(i) makes article i."""
        self._keys = keys
        self._make = make
        self._made: list[Article | None] = [None] * len(keys)
        self._positions: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self._made)

    @overload
    def __getitem__(self, index: int) -> Article: ...

    @overload
    def __getitem__(self, index: slice) -> list[Article]: ...

    def __getitem__(self, index: int | slice) -> Article | list[Article]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        made = self._made[index]
        if made is None:
            # Two threads may make the same article at once: equal objects, either kept.
            made = self._made[index] = self._make(index % len(self._made))
        return made

    def __iter__(self) -> Iterator[Article]:
        return map(self.__getitem__, range(len(self._made)))

    def by_key(self) -> Mapping[str, Article]:
        """Map each key to its article, made when looked up."""
        return _ByKey(self)

    def position(self, key: str) -> int | None:
        """Return where the article with this key is (None: no such article)."""
        if self._positions is None:
            self._positions = dict(zip(self._keys, range(len(self._keys)), strict=True))
        return self._positions.get(key)


class _ByKey(Mapping[str, Article]):
    __slots__ = ("_articles",)

    def __init__(self, articles: StoredArticles) -> None:
        self._articles = articles

    def __getitem__(self, key: str) -> Article:
        position = self._articles.position(key)
        if position is None:
            raise KeyError(key)
        return self._articles[position]

    def __iter__(self) -> Iterator[str]:
        return (article.key for article in self._articles)

    def __len__(self) -> int:
        return len(self._articles)


@dataclass
class StoredCorpus(Corpus):
    """A corpus read from a saved index: its sentences are a view of a table, not a list."""

    view: SentenceView | None = None

    def by_key(self) -> Mapping[str, Article]:
        """Map each article's key to the article (made when looked up, for a saved index)."""
        articles = self.articles
        return articles.by_key() if isinstance(articles, StoredArticles) else super().by_key()

    @property
    def sentences(self) -> Sequence[Sentence]:
        """Return every sentence of every article, in corpus order."""
        assert self.view is not None
        return self.view
