"""Hold one complete index (a generation), in memory or memory-mapped, and copies of it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.index.aliases import DefinedAcronyms
from bot.index.bm25 import (
    BM25Index,
    BM25Params,
    Floats,
    Postings,
    saturations,
    saturations_in_chunks,
)
from bot.index.saved import SavedArray, Served
from bot.index.storage.records import FileRecord
from bot.ingest.loader import article_keys


@dataclass
class Generation:
    """The arrays of one complete index, in memory or memory-mapped from disk.

    The sentence texts live in a text pack: kept articles keep their bytes where
    they are and new articles' bytes are appended (``tail`` until saved), so a
    reload never copies the text of unchanged articles. Rows point into the pack.
    """

    records: list[FileRecord]
    keys: list[str]  # one per usable record, in order
    prefix: bool  # citations carry the article key
    params: BM25Params
    vocabulary: list[str]
    offsets: npt.NDArray[np.int64]
    docs: npt.NDArray[np.int32]
    tf: npt.NDArray[np.unsignedinteger[Any]]
    lengths: npt.NDArray[np.int32]
    avgdl: float
    contrib: Floats | None  # None until needed: saving computes it straight into the file
    text: npt.NDArray[np.uint8]  # the pack as far as this generation saved it
    sentences: npt.NDArray[np.int64]  # per sentence: start, end (in the pack), paragraph, number
    linked: npt.NDArray[np.bool_]  # sentence i and i + 1 are in the same body paragraph
    tail: bytes = b""  # pack bytes after text, not saved yet
    pack: str | None = None  # the pack's file name in the store folder, when saved
    pack_crc: int = 0  # CRC-32 of text
    scanned_ns: int = 0
    folder: Path | None = None  # where it is saved, if it is
    # Open files with a shared lock (meta.json, the pack) that keep other processes
    # from deleting the saved generation while this one is alive (see generations.hold).
    holds: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    # The acronyms learned from the text, as saved (see DefinedAcronyms.to_saved).
    saved_acronyms: Any = field(default=None, repr=False, compare=False)
    # The term ids in the order of their terms, as saved (see TermLookup); None until saved.
    order: npt.NDArray[np.int32] | None = field(default=None, repr=False, compare=False)
    # The hashed terms of the articles this generation read (by position), until the load
    # that made it has stored them (see IndexStore.load and bot.index.terms).
    fresh_terms: dict[int, npt.NDArray[np.uint64]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def articles(self) -> list[FileRecord]:
        """Return the records of the indexed articles, in order."""
        return [r for r in self.records if r.usable]

    @cached_property
    def term_ids(self) -> dict[str, int]:
        """Map each term to its id."""
        return dict(zip(self.vocabulary, range(len(self.vocabulary)), strict=True))

    @cached_property
    def acronyms(self) -> DefinedAcronyms:
        """Return the sentences that define acronyms, in corpus order, and what they define."""
        texts = [text for r in self.articles for text in r.acronyms]
        return DefinedAcronyms(texts, self.saved_acronyms)

    def article_starts(self) -> npt.NDArray[np.int64]:
        """Return where each article's sentences start, plus the total at the end."""
        counts = np.fromiter((r.sentences for r in self.articles), dtype=np.int64)
        starts = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        return starts

    def share_terms(self, other: Generation) -> None:
        """Reuse other's term map (same vocabulary), if it has built one."""
        if "term_ids" in other.__dict__ and other.vocabulary is self.vocabulary:
            self.__dict__["term_ids"] = other.__dict__["term_ids"]

    def in_memory(self) -> Generation:
        """Return the generation ready to serve from memory (its saturations computed)."""
        if self.contrib is not None:
            return self
        contrib = saturations(self.docs, self.tf, self.lengths, self.params)[1]
        ready = replace(self, contrib=contrib, folder=None)
        ready.share_terms(self)
        return ready

    def write_contrib(self, take: Callable[[Floats], object]) -> None:
        """Hand the saturations to take, in chunks, without holding them all in memory."""
        if self.contrib is not None:
            take(self.contrib)
        else:
            saturations_in_chunks(self.docs, self.tf, self.lengths, self.params, take)

    def term_lookup(self) -> Mapping[str, int]:
        """Return what finds a term's id: the term map if made, else a search of the saved order."""
        made = self.__dict__.get("term_ids")
        if made is None and self.order is not None and self.order.size == len(self.vocabulary):
            return TermLookup(self.vocabulary, self.order)
        return self.term_ids

    def served(self, name: str) -> Served:
        """Return one of the arrays as answers read it: from its saved file by pread, if saved.

        Read through the memory map instead, every page an answer touches would stay
        in the program's resident memory (see bot.index.saved).
        """
        array: npt.NDArray[Any] = getattr(self, name)
        if self.folder is None:
            return array
        try:
            saved = SavedArray.open(self.folder / f"{name}.npy")
        except (OSError, ValueError):
            return array  # the map still reads the same values
        return saved if saved.shape == array.shape and saved.dtype == array.dtype else array

    def index(self) -> BM25Index:
        """Return the BM25 index over the saved postings."""
        assert self.contrib is not None, "saturations not computed: save or use in_memory()"
        postings = Postings(self.vocabulary, self.offsets, self.docs, self.tf)
        return BM25Index.from_postings(
            postings,
            self.lengths,
            self.params,
            (self.avgdl, self.contrib),
            self.term_lookup(),
            saved=(self.served("docs"), self.served("contrib")),
        )


def vocabulary_order(vocabulary: list[str]) -> npt.NDArray[np.int32]:
    """Return the term ids in the order of their terms (what TermLookup searches)."""
    ordered = sorted(range(len(vocabulary)), key=vocabulary.__getitem__)
    return np.array(ordered, dtype=np.int32)


class TermLookup(Mapping[str, int]):
    """Find a term's id by binary search of the saved term order, remembering what was asked.

    A map from every term to its id (a quarter of a million at a million
    sentences) took a tenth of a second at every start, for a first answer that
    looks up a few dozen terms.
    """

    def __init__(self, vocabulary: list[str], order: npt.NDArray[np.int32]) -> None:
        self._vocabulary = vocabulary
        self._order = order
        self._asked: dict[str, int | None] = {}

    def get(self, term: str, default: Any = None) -> Any:  # type: ignore[override]
        asked = self._asked
        if term in asked:
            found = asked[term]
        else:
            vocabulary, order = self._vocabulary, self._order
            at = bisect_left(order, term, key=lambda i: vocabulary[i])
            found = int(order[at]) if at < order.size and vocabulary[order[at]] == term else None
            if len(asked) > 1 << 16:
                asked.clear()  # bounded: what questions ask, not the whole vocabulary
            asked[term] = found
        return default if found is None else found

    def __getitem__(self, term: str) -> int:
        found: int | None = self.get(term)
        if found is None:
            raise KeyError(term)
        return found

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._vocabulary)

    def __len__(self) -> int:
        return len(self._vocabulary)


def reweight(generation: Generation, params: BM25Params) -> Generation:
    """Return the generation with its saturations computed under other BM25 parameters."""
    return replaced(generation, params=params, contrib=None, folder=None)


def same_articles(a: Generation, b: Generation) -> bool:
    """Tell whether two generations index the same articles the same way (stat aside)."""
    if a is b:
        return True
    if a.keys != b.keys or a.prefix != b.prefix or a.params != b.params:
        return False
    return [r._replace(size=0, mtime_ns=0, inode=0) for r in a.articles] == [
        r._replace(size=0, mtime_ns=0, inode=0) for r in b.articles
    ]


def replaced(generation: Generation, **changes: Any) -> Generation:
    """Return a copy of generation with some fields changed, keeping its term map."""
    copy = replace(generation, **changes)
    copy.share_terms(generation)
    return copy


def relabel(generation: Generation, records: list[FileRecord]) -> Generation:
    """Return the generation with new file rows around the same articles (keys may change)."""
    keys = article_keys([r.rel for r in records])
    return replaced(
        generation,
        records=records,
        keys=[keys[r.rel] for r in records if r.usable],
        prefix=sum(1 for r in records if r.readable) > 1,
    )
