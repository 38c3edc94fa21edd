"""A persisted, incremental index of a corpus folder.

Building the index of a large folder means reading, splitting and tokenising
every article. This module keeps the result on disk (``INDEX_DIR``) so that a
restart only checks the folder and memory-maps the saved arrays, and so that a
change re-reads only the files that changed.

Layout of the index folder of one corpus (see :func:`index_folder`)::

    CURRENT              name of the live generation, replaced atomically
    lock                 advisory lock taken while switching generations
    text-<id>.bin        a text pack: sentences' UTF-8 text, appended to by
                         each generation (kept articles keep their bytes), rewritten
                         with only the live text once more than half of it is dead
    gen-<id>/            one complete index ("generation")
        meta.json        header line (magic, format, CRC-32 of the rest), then JSON:
                         code version, BM25 parameters, one row per article file
                         (path, size, mtime, content digest, title... or why it
                         was skipped), the size and CRC-32 of every array file and
                         the pack's name, used length and CRC-32
        vocab.txt        the terms, one a line; a term's id is its line number
        offsets.npy      postings: offsets[t]..offsets[t+1] index docs and tf
        docs.npy, tf.npy the sentences holding each term and how often
        lengths.npy      terms per sentence
        contrib.npy      the BM25 saturation of every posting under the saved parameters
        sentences.npy    per sentence: start and end in the pack, paragraph, number
        linked.npy       per sentence: is the next one in the same body paragraph
        extra-<name>.npy optional per-sentence arrays (embeddings), see Snapshot.extra

Every file of a generation is written into a temporary folder, then the
folder is renamed and CURRENT replaced, so a reader sees the old generation or
the new one, never half of one. A generation is checked when opened: magic,
format, code version, corpus path, sizes and CRC-32 checksums (on another thread
while the folder is listed). A file that fails is reported in one log line and
the index is rebuilt from the articles.

A file whose size and modification time match the saved row is not read again;
one whose stat changed is read and hashed, and only if its content changed is
it split and tokenised again. The postings of the unchanged articles are kept,
renumbered and merged with the new ones; N, avgdl and IDF are recomputed from
the merged arrays. A reload serves the new index from memory at once and saves
it in the background, then reads the saved files instead (same values).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from platformdirs import user_cache_dir

from bot.index.aliases import defined_acronyms
from bot.index.bm25 import (
    BM25Index,
    BM25Params,
    Floats,
    Postings,
    average_length,
    saturations,
    saturations_in_chunks,
)
from bot.index.sentences import SentenceTable, SentenceView, StoredArticle, StoredCorpus
from bot.index.tokenize import terms
from bot.ingest.loader import (
    MAX_ARTICLE_BYTES,
    CorpusError,
    SourceFile,
    article_keys,
    check_size,
    decode_text,
    display_name,
    parse_article,
    reason,
    scan_folder,
)
from bot.progress import QUIET, Progress

logger = logging.getLogger(__name__)

INDEX_FORMAT = 1
MAGIC = "qabot-index"
# Files whose mtime is this close to the scan that recorded it are read again
# next time: a write in the same clock tick would not change the mtime.
RACY_NS = 2_000_000_000
# A text pack is rewritten with only live text when more than half of it is dead
# (removed or changed articles) and it is larger than this.
COMPACT_FROM = 16 << 20
# The digest recorded for a file too large to read.
TOO_LARGE = "too-large"
# Fewer files than this are read in this process; more are shared among worker processes.
PARALLEL_FROM = 400
_CODE_MODULES = (
    "bot/index/store.py",
    "bot/index/sentences.py",
    "bot/index/bm25.py",
    "bot/index/tokenize.py",
    "bot/index/aliases.py",
    "bot/ingest/loader.py",
    "bot/ingest/cleaning.py",
    "bot/ingest/datelines.py",
    "bot/ingest/splitting.py",
    "bot/ingest/models.py",
)
_ARRAYS = ("offsets", "docs", "tf", "lengths", "contrib", "sentences", "linked")
_EXTRA_NAME = re.compile(r"^[A-Za-z0-9_.:+-]{1,100}$")


class StoreError(Exception):
    """A saved index cannot be used; the message says which file and why."""


class ReadError(Exception):
    """An article file could not be read during a reload (it is not just gone)."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("; ".join(failures))
        self.failures = failures


@cache
def code_version() -> str:
    """Return a digest of everything that shapes the saved index.

    The source of the modules that read, split and tokenise articles, the
    stemmer's and Unicode's versions, and the format number: a change to any
    of them makes old saved indexes unusable, so they are rebuilt.
    """
    digest = hashlib.sha256(f"{MAGIC} {INDEX_FORMAT}".encode())
    base = Path(__file__).resolve().parents[2]
    for name in _CODE_MODULES:
        digest.update(name.encode())
        with contextlib.suppress(OSError):
            digest.update((base / name).read_bytes())
    import Stemmer

    stemmer_version = getattr(Stemmer, "__version__", "")
    digest.update(f"{stemmer_version} {unicodedata.unidata_version}".encode())
    return digest.hexdigest()[:20]


def default_index_root() -> Path:
    """Return the folder that holds saved indexes when INDEX_DIR is not set."""
    return Path(user_cache_dir("qabot")) / "index"


def index_folder(corpus_dir: Path | str, index_dir: Path | None = None) -> Path:
    """Return the folder that holds the saved index of corpus_dir.

    Each corpus folder gets its own subfolder of index_dir (default: the user's
    cache folder), named after the folder and a digest of its absolute path.
    """
    resolved = Path(corpus_dir).resolve()
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", resolved.name).strip("-")[:40] or "corpus"
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    return (index_dir or default_index_root()) / f"{name}-{digest}"


# --- the rows kept for every article file ------------------------------------


class FileRecord(NamedTuple):
    """What the index knows of one article file: where, which content, and the result."""

    rel: str
    size: int
    mtime_ns: int
    digest: str  # of the raw bytes; "" when it could not be read (read again next time)
    readable: bool  # decoded as text (counts towards "several articles": keys in citations)
    problem: str | None = None  # why the file was skipped, as a "skipped <file>: ..." line
    title: str = ""
    source: str | None = None
    url: str | None = None
    date: str | None = None
    content_hash: str = ""
    sentences: int = 0
    acronyms: tuple[str, ...] = ()  # the article's sentences that define an acronym

    @property
    def usable(self) -> bool:
        """Tell whether the file is an indexed article."""
        return self.problem is None


def _records_to_columns(records: Sequence[FileRecord]) -> dict[str, list[Any]]:
    columns = [list(column) for column in zip(*records, strict=True)] or [
        [] for _ in FileRecord._fields
    ]
    return dict(zip(FileRecord._fields, columns, strict=True))


def _records_from_columns(columns: dict[str, list[Any]]) -> list[FileRecord]:
    try:
        ordered = [columns[name] for name in FileRecord._fields]
        ordered[-1] = [tuple(a) for a in ordered[-1]]
        return list(map(FileRecord._make, zip(*ordered, strict=True)))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"meta.json has malformed article rows ({exc})") from None


# --- reading one article file (runs in worker processes too) -----------------


@dataclass
class ParsedFile:
    """One article file read, split and tokenised, ready to be merged into an index."""

    record: FileRecord
    failure: str | None = None  # an OSError while reading: the file is there but unreadable
    vanished: bool = False
    paragraphs: list[int] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)  # this article's terms
    tokens: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    lengths: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty(0, dtype=np.int32))


def read_file(source: SourceFile) -> ParsedFile:
    """Read, split and tokenise one article file; problems are kept, never raised."""
    rel = source.rel
    try:
        check_size(source.size)
        data, stat = read_bytes(source.location)
    except FileNotFoundError as exc:
        record = FileRecord(rel, source.size, source.mtime_ns, "", False, _skipped(rel, exc))
        return ParsedFile(record, vanished=True)
    except OSError as exc:
        record = FileRecord(rel, source.size, source.mtime_ns, "", False, _skipped(rel, exc))
        return ParsedFile(record, failure=f"cannot read {rel} ({reason(exc)})")
    except ValueError as exc:
        # Too large: recorded without reading; trusted again while size and time hold.
        record = FileRecord(rel, source.size, source.mtime_ns, TOO_LARGE, False, _skipped(rel, exc))
        return ParsedFile(record)
    return parse_file(rel, data, stat.st_size, stat.st_mtime_ns)


def read_bytes(location: str) -> tuple[bytes, os.stat_result]:
    """Read a file of at most MAX_ARTICLE_BYTES, with its stat from before the read.

    Raises ValueError for a larger file (without reading it) and OSError when it
    cannot be read.
    """
    with open(location, "rb") as handle:
        stat = os.fstat(handle.fileno())
        check_size(stat.st_size)
        data = handle.read(MAX_ARTICLE_BYTES + 1)
    check_size(len(data))
    return data, stat


def parse_file(rel: str, data: bytes, size: int, mtime_ns: int) -> ParsedFile:
    """Split and tokenise the bytes of one article file."""
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        text = decode_text(data)
    except ValueError as exc:
        return ParsedFile(FileRecord(rel, size, mtime_ns, digest, False, _skipped(rel, exc)))
    if not text.strip():
        problem = f"skipped {display_name(rel)}: the file is empty"
        return ParsedFile(FileRecord(rel, size, mtime_ns, digest, True, problem))
    try:
        article = parse_article(text, rel_path=rel, key="", prefix_citations=False)
    except ValueError as exc:
        problem = f"skipped {display_name(rel)}: the file {exc}"
        return ParsedFile(FileRecord(rel, size, mtime_ns, digest, True, problem))
    texts = [s.text for s in article.sentences]
    local: dict[str, int] = {}
    tokens: list[int] = []
    lengths: list[int] = []
    acronyms: list[str] = []
    for sentence_text in texts:
        sentence_terms = terms(sentence_text)
        tokens.extend(local.setdefault(t, len(local)) for t in sentence_terms)
        lengths.append(len(sentence_terms))
        if "(" in sentence_text and defined_acronyms([sentence_text]):
            acronyms.append(sentence_text)
    record = FileRecord(
        rel,
        size,
        mtime_ns,
        digest,
        True,
        None,
        article.title,
        article.source,
        article.url,
        article.date,
        article.content_hash,
        len(texts),
        tuple(acronyms),
    )
    return ParsedFile(
        record,
        paragraphs=[s.paragraph for s in article.sentences],
        numbers=[s.number for s in article.sentences],
        texts=texts,
        vocabulary=list(local),
        tokens=np.asarray(tokens, dtype=np.int32),
        lengths=np.asarray(lengths, dtype=np.int32),
    )


def _skipped(rel: str, exc: Exception) -> str:
    return f"skipped {display_name(rel)}: {reason(exc)}"


def _read_chunk(sources: list[SourceFile]) -> list[ParsedFile]:
    return [read_file(source) for source in sources]


def read_files(sources: Sequence[SourceFile], progress: Progress) -> Iterator[ParsedFile]:
    """Read many article files, in order, on every core when there are many."""
    done = 0
    with progress.phase("reading articles", len(sources)) as advance:
        if len(sources) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1:
            chunk = 64
            chunks = [list(sources[i : i + chunk]) for i in range(0, len(sources), chunk)]
            try:
                with ProcessPoolExecutor(os.cpu_count(), mp_context=_pool_context()) as pool:
                    for parsed in pool.map(_read_chunk, chunks):
                        yield from parsed
                        done += len(parsed)
                        advance(len(parsed))
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                logger.warning("reading the articles in this process only: %s", exc)
        for source in sources[done:]:
            yield read_file(source)
            advance()


def _pool_context() -> BaseContext:
    """Fork when nothing else runs; else spawn, which is safe beside other threads."""
    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("spawn")


# --- one complete index -------------------------------------------------------


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

    @cached_property
    def articles(self) -> list[FileRecord]:
        """Return the records of the indexed articles, in order."""
        return [r for r in self.records if r.usable]

    @cached_property
    def term_ids(self) -> dict[str, int]:
        """Map each term to its id."""
        return {term: i for i, term in enumerate(self.vocabulary)}

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

    def index(self) -> BM25Index:
        """Return the BM25 index over the saved postings."""
        assert self.contrib is not None, "saturations not computed: save or use in_memory()"
        postings = Postings(self.vocabulary, self.offsets, self.docs, self.tf)
        return BM25Index.from_postings(
            postings, self.lengths, self.params, (self.avgdl, self.contrib), self.term_ids
        )


def _ranges(starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Concatenate range(start, start + count) for every pair, as one array."""
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shifts = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    ranges: npt.NDArray[np.int64] = np.arange(total, dtype=np.int64) + shifts
    return ranges


@dataclass
class _Plan:
    """Where each article of a new generation comes from, in sentence ids."""

    counts: npt.NDArray[np.int64]  # sentences per article, new order
    starts: npt.NDArray[np.int64]  # first sentence id per article, plus the total
    from_old: npt.NDArray[np.int64]  # positions (new order) of kept articles
    old_positions: npt.NDArray[np.int64]  # ... and their positions in the old generation
    from_new: npt.NDArray[np.int64]  # positions of newly read articles
    old_ids: npt.NDArray[np.int64]  # old sentence ids of the kept articles' sentences
    kept_ids: npt.NDArray[np.int64]  # ... and their new ids
    new_ids: npt.NDArray[np.int64]  # sentence ids of the newly read articles' sentences
    parsed: list[ParsedFile]  # the newly read articles, in order


def merge(
    old: Generation | None,
    records: list[FileRecord],
    kept: dict[int, int],
    parsed: dict[int, ParsedFile],
    params: BM25Params,
) -> Generation:
    """Build the generation of records from the old one and the newly parsed articles.

    records are the new rows in corpus order; kept maps the position of a
    usable row to the position of the same article among the old generation's
    articles, parsed maps it to the newly read file. The old postings of kept
    articles are renumbered, never tokenised again.
    """
    usable = [i for i, r in enumerate(records) if r.usable]
    counts = np.fromiter((records[i].sentences for i in usable), dtype=np.int64, count=len(usable))
    starts = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    from_old = np.array([p for p, i in enumerate(usable) if i in kept], dtype=np.int64)
    from_new = np.array([p for p, i in enumerate(usable) if i not in kept], dtype=np.int64)
    old_positions = np.array([kept[usable[p]] for p in from_old], dtype=np.int64)
    if old is not None and from_old.size:
        old_ids = _ranges(old.article_starts()[old_positions], counts[from_old])
    else:
        old_ids = np.empty(0, dtype=np.int64)
    plan = _Plan(
        counts=counts,
        starts=starts,
        from_old=from_old,
        old_positions=old_positions,
        from_new=from_new,
        old_ids=old_ids,
        kept_ids=_ranges(starts[from_old], counts[from_old]),
        new_ids=_ranges(starts[from_new], counts[from_new]),
        parsed=[parsed[usable[p]] for p in from_new],
    )
    vocabulary, offsets, docs, tf, term_ids = _merge_postings(old, plan)
    lengths, rows, text, tail = _merge_sentences(old, plan)
    keys = article_keys([r.rel for r in records])
    generation = Generation(
        records=records,
        keys=[keys[records[i].rel] for i in usable],
        prefix=sum(1 for r in records if r.readable) > 1,
        params=params,
        vocabulary=vocabulary,
        offsets=offsets,
        docs=docs,
        tf=tf,
        lengths=lengths,
        avgdl=average_length(lengths),
        contrib=None,
        text=text,
        sentences=rows,
        linked=_linked(rows, counts),
        tail=tail,
    )
    if old is not None and text is old.text:
        generation.pack, generation.pack_crc = old.pack, old.pack_crc
    if term_ids is not None:
        generation.__dict__["term_ids"] = term_ids
    return generation


def _merge_postings(
    old: Generation | None, plan: _Plan
) -> tuple[
    list[str], npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[Any], dict[str, int] | None
]:
    """Renumber the kept postings, insert the new articles' and drop terms no longer used.

    Also returns the term map of the new vocabulary when it comes for free.
    """
    vocabulary = list(old.vocabulary) if old is not None else []
    term_ids = dict(old.term_ids) if old is not None else {}
    new_terms: list[npt.NDArray[np.int64]] = []
    new_docs: list[npt.NDArray[np.int64]] = []
    for position, file in zip(plan.from_new.tolist(), plan.parsed, strict=True):
        mapping = np.fromiter(
            (term_ids.setdefault(t, len(term_ids)) for t in file.vocabulary),
            dtype=np.int64,
            count=len(file.vocabulary),
        )
        first = int(plan.starts[position])
        ids = np.arange(first, first + file.lengths.size, dtype=np.int64)
        new_terms.append(mapping[file.tokens])
        new_docs.append(np.repeat(ids, file.lengths))
    vocabulary.extend(list(term_ids)[len(vocabulary) :])
    added_keys, added_tf = _group(new_terms, new_docs)
    added_terms = added_keys >> 32
    added_docs = (added_keys & 0xFFFFFFFF).astype(np.int32)
    added_counts = np.bincount(added_terms, minlength=len(vocabulary))
    counts = added_counts.copy()
    if old is not None and plan.old_ids.size:
        # Renumbering keeps each term's sentences in ascending order: sentences of
        # kept articles keep their relative order.
        renumber = np.full(old.lengths.size, -1, dtype=np.int32)
        renumber[plan.old_ids] = plan.kept_ids
        moved = renumber[old.docs]
        del renumber
        kept_counts = np.diff(old.offsets)
        removed = np.flatnonzero(moved < 0)
        kept_docs, kept_tf = moved, np.asarray(old.tf)
        if removed.size:
            keep = moved >= 0
            kept_docs, kept_tf = moved[keep], kept_tf[keep]
            terms_removed = np.searchsorted(old.offsets, removed, side="right") - 1
            kept_counts = kept_counts - np.bincount(terms_removed, minlength=kept_counts.size)
        counts[: kept_counts.size] += kept_counts
        kept_offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(counts - added_counts, out=kept_offsets[1:])
        where = _insertion_points(kept_offsets, kept_docs, added_terms, added_docs)
        largest = int(added_tf.max()) if added_tf.size else 0
        tf_type = _count_type(max(largest, _top_count(kept_tf)))
        docs = np.insert(kept_docs, where, added_docs)
        tf = np.insert(kept_tf.astype(tf_type, copy=False), where, added_tf.astype(tf_type))
    else:
        docs = added_docs
        tf = added_tf.astype(_count_type(int(added_tf.max()) if added_tf.size else 0))
    live = np.flatnonzero(counts)
    offsets = np.zeros(live.size + 1, dtype=np.int64)
    np.cumsum(counts[live], out=offsets[1:])
    if live.size != len(vocabulary):
        return [vocabulary[i] for i in live.tolist()], offsets, docs, tf, None
    return vocabulary, offsets, docs, tf, term_ids


def _insertion_points(
    offsets: npt.NDArray[np.int64],
    docs: npt.NDArray[np.int32],
    terms: npt.NDArray[np.int64],
    new_docs: npt.NDArray[np.int32],
) -> npt.NDArray[np.int64]:
    """Return where each new (term, sentence) posting goes among the kept postings.

    terms (with new_docs) are sorted; a term's kept postings are
    docs[offsets[t]:offsets[t + 1]], ascending.
    """
    where = np.empty(terms.size, dtype=np.int64)
    if not terms.size:
        return where
    bounds = np.flatnonzero(np.diff(terms)) + 1
    firsts = np.concatenate([[0], bounds]).tolist()
    lasts = np.concatenate([bounds, [terms.size]]).tolist()
    if len(firsts) > 200_000:
        # Many terms at once (a large change): one vectorised search over (term, sentence) keys.
        term_of = np.repeat(np.arange(offsets.size - 1, dtype=np.int64), np.diff(offsets))
        keys = (term_of << 32) | docs
        found: npt.NDArray[np.int64] = np.searchsorted(keys, (terms << 32) | new_docs)
        return found
    starts = offsets[terms[firsts]].tolist()
    ends = offsets[terms[firsts] + 1].tolist()
    for first, last, start, end in zip(firsts, lasts, starts, ends, strict=True):
        where[first:last] = start + np.searchsorted(docs[start:end], new_docs[first:last])
    return where


def _count_type(largest: int) -> type[np.unsignedinteger[Any]]:
    """Return the smallest unsigned type that holds term counts up to largest."""
    if largest <= 0xFF:
        return np.uint8
    return np.uint16 if largest <= 0xFFFF else np.uint32


def _top_count(tf: npt.NDArray[Any]) -> int:
    """Return the largest count the type of tf can hold (no scan of the values)."""
    return int(np.iinfo(tf.dtype).max) if tf.size else 0


def _merge_sentences(
    old: Generation | None, plan: _Plan
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.uint8], bytes]:
    """Lay out the sentences in the new order: lengths, rows, and the text pack.

    Kept sentences keep their place in the pack; new ones are appended. When
    more than half the pack is dead text (removed or changed articles), the live
    text is copied into a new pack.
    """
    n = int(plan.starts[-1])
    lengths = np.empty(n, dtype=np.int32)
    rows = np.empty((n, 4), dtype=np.int64)
    text = old.text if old is not None else np.empty(0, dtype=np.uint8)
    tail = old.tail if old is not None else b""
    if old is not None and plan.old_ids.size:
        lengths[plan.kept_ids] = old.lengths[plan.old_ids]
        rows[plan.kept_ids] = old.sentences[plan.old_ids]
    if plan.parsed:
        encoded = [t.encode() for f in plan.parsed for t in f.texts]
        sizes = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
        ends = text.size + len(tail) + np.cumsum(sizes)
        lengths[plan.new_ids] = np.concatenate([f.lengths for f in plan.parsed])
        rows[plan.new_ids, 0] = ends - sizes
        rows[plan.new_ids, 1] = ends
        rows[plan.new_ids, 2] = [p for f in plan.parsed for p in f.paragraphs]
        rows[plan.new_ids, 3] = [n for f in plan.parsed for n in f.numbers]
        tail += b"".join(encoded)
    total = text.size + len(tail)
    live = int((rows[:, 1] - rows[:, 0]).sum())
    if total > COMPACT_FROM and live * 2 < total:
        return (lengths, *_compact(rows, text, tail, plan))
    return lengths, rows, text, tail


def _linked(rows: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Tell, for each sentence but the last, whether the next is in the same body paragraph."""
    articles = np.repeat(np.arange(counts.size), counts)
    paragraphs = rows[:, 2]
    linked: npt.NDArray[np.bool_] = (
        (articles[1:] == articles[:-1]) & (paragraphs[1:] == paragraphs[:-1]) & (paragraphs[1:] > 0)
    )
    return linked


def _compact(
    rows: npt.NDArray[np.int64], text: npt.NDArray[np.uint8], tail: bytes, plan: _Plan
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], bytes]:
    """Copy the live text into a new pack, article by article; rebase the rows."""
    whole = memoryview(text.data).cast("B") if text.size else memoryview(b"")
    tail_view = memoryview(tail)
    pieces: list[memoryview] = []
    shifts = np.empty(plan.counts.size, dtype=np.int64)
    size = 0
    firsts = plan.starts[:-1].tolist()
    lasts = plan.starts[1:].tolist()
    for position, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
        if first == last:
            shifts[position] = 0
            continue
        start, end = int(rows[first, 0]), int(rows[last - 1, 1])
        if end <= text.size:
            pieces.append(whole[start:end])
        else:
            pieces.append(tail_view[start - text.size : end - text.size])
        shifts[position] = size - start
        size += end - start
    rebased = rows.copy()
    per_sentence = np.repeat(shifts, plan.counts)
    rebased[:, 0] += per_sentence
    rebased[:, 1] += per_sentence
    return rebased, np.empty(0, dtype=np.uint8), b"".join(pieces)


def _group(
    term_ids: list[npt.NDArray[np.int64]], doc_ids: list[npt.NDArray[np.int64]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return the sorted (term << 32 | sentence) keys of the occurrences, and their counts."""
    if not term_ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    keys = (np.concatenate(term_ids) << 32) | np.concatenate(doc_ids)
    unique, counts = np.unique(keys, return_counts=True)
    return unique, counts.astype(np.int64)


def reweight(generation: Generation, params: BM25Params) -> Generation:
    """Return the generation with its saturations computed under other BM25 parameters."""
    return _replaced(generation, params=params, contrib=None, folder=None)


# --- saving and opening generations ---------------------------------------------


class _CrcWriter:
    """A file wrapper that computes the CRC-32 and size of what is written."""

    def __init__(self, handle: Any, crc: int = 0, size: int = 0) -> None:
        self.handle = handle
        self.crc = crc
        self.size = size

    def write(self, data: bytes | memoryview) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        written: int = self.handle.write(data)
        return written


def _write_file(folder: Path, name: str, write: Callable[[_CrcWriter], object]) -> dict[str, int]:
    with open(folder / name, "wb") as handle:
        writer = _CrcWriter(handle)
        write(writer)
    return {"bytes": writer.size, "crc32": writer.crc}


def _write_array(folder: Path, name: str, array: npt.NDArray[Any]) -> dict[str, int]:
    contiguous = np.ascontiguousarray(array)

    def write(writer: _CrcWriter) -> None:
        np.lib.format.write_array(writer, contiguous, allow_pickle=False)  # type: ignore[no-untyped-call]

    return _write_file(folder, name, write)


def _write_contrib(folder: Path, name: str, generation: Generation) -> dict[str, int]:
    """Write the saturations as a .npy file, computed chunk by chunk."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (int(generation.docs.size),)}

    def write(writer: _CrcWriter) -> None:
        np.lib.format.write_array_header_1_0(writer, header)  # type: ignore[no-untyped-call]
        generation.write_contrib(lambda part: writer.write(part.data.cast("B")))

    return _write_file(folder, name, write)


def _meta_bytes(meta: dict[str, Any]) -> bytes:
    body = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
    return f"{MAGIC} {INDEX_FORMAT} {zlib.crc32(body):08x}\n".encode() + body


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / "meta.json"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path} cannot be read ({reason(exc)})") from None
    header, _, body = data.partition(b"\n")
    parts = header.decode("ascii", "replace").split()
    if len(parts) != 3 or parts[0] != MAGIC:
        raise StoreError(f"{path} is not a qabot index file")
    if parts[1] != str(INDEX_FORMAT):
        raise StoreError(f"{path} has index format {parts[1]}, this program reads {INDEX_FORMAT}")
    if f"{zlib.crc32(body):08x}" != parts[2]:
        raise StoreError(f"{path} is corrupted (checksum mismatch)")
    try:
        meta: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        raise StoreError(f"{path} is corrupted ({exc})") from None
    return meta


def _checksum(path: Path, buffer: bytearray, limit: int | None = None) -> tuple[int, int]:
    """Return the size and CRC-32 of a file, or of its first limit bytes."""
    crc = size = 0
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while limit is None or size < limit:
            chunk = view if limit is None else view[: min(len(view), limit - size)]
            n = handle.readinto(chunk)
            if not n:
                break
            crc = zlib.crc32(chunk[:n], crc)
            size += n
    return size, crc


def _verify(
    folder: Path, files: dict[str, dict[str, int]], pack: dict[str, Any] | None = None
) -> list[str]:
    """Check the size and CRC-32 of every file and of the used part of the pack."""
    wrong: list[str] = []
    buffer = bytearray(4 << 20)
    checks: list[tuple[Path, dict[str, Any], int | None]] = [
        (folder / name, expected, None) for name, expected in files.items()
    ]
    if pack is not None:
        checks.append((folder.parent / str(pack.get("file")), pack, int(pack.get("bytes", 0))))
    for path, expected, limit in checks:
        try:
            size, crc = _checksum(path, buffer, limit)
        except OSError as exc:
            wrong.append(f"{path.name} cannot be read ({reason(exc)})")
            continue
        if size != expected.get("bytes"):
            wrong.append(
                f"{path.name} is truncated ({size} bytes, expected {expected.get('bytes')})"
            )
        elif crc != expected.get("crc32"):
            wrong.append(f"{path.name} is corrupted (checksum mismatch)")
    return wrong


def _load_array(path: Path) -> npt.NDArray[Any]:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:
        # An empty array cannot be memory-mapped.
        array = np.load(path, allow_pickle=False)
    return np.asarray(array)


def save(
    generation: Generation, store_folder: Path, corpus_root: Path, old: Generation | None = None
) -> tuple[Path, dict[str, Any]]:
    """Write a generation beside the current one and make it current.

    Files whose arrays are those of old (saved) are linked, not written again;
    the text pack is appended to. Returns the generation's folder and meta.
    """
    store_folder.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.time_ns():x}-{os.getpid()}"
    temporary = store_folder / f"tmp-{name}"
    temporary.mkdir()
    try:
        files = _write_files(generation, temporary, old)
        pack = _write_pack(generation, store_folder)
        meta = {
            "magic": MAGIC,
            "format": INDEX_FORMAT,
            "code": code_version(),
            "corpus": str(corpus_root.resolve()),
            "params": [generation.params.k1, generation.params.b, generation.params.delta],
            "avgdl": generation.avgdl,
            "prefix": generation.prefix,
            "scanned_ns": generation.scanned_ns,
            "files": files,
            "pack": pack,
            "keys": generation.keys,
            "records": _records_to_columns(generation.records),
        }
        (temporary / "meta.json").write_bytes(_meta_bytes(meta))
        final = store_folder / name
        temporary.rename(final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    with _locked(store_folder):
        previous = _current_name(store_folder)
        staged = store_folder / f"CURRENT.{os.getpid()}.tmp"
        staged.write_text(name + "\n")
        os.replace(staged, store_folder / "CURRENT")
        if previous is not None:
            _carry_extras(store_folder / previous, final)
        _clean(store_folder, keep={name, pack["file"]})
    return final, meta


def _write_pack(generation: Generation, store_folder: Path) -> dict[str, Any]:
    """Append the generation's new text to its pack (or write a new pack); describe it."""
    if generation.pack is not None:
        path = store_folder / generation.pack
        with contextlib.suppress(FileNotFoundError), open(path, "ab") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            # Append only where this generation's text ends: another program may
            # have appended to the same pack meanwhile.
            if os.fstat(handle.fileno()).st_size == generation.text.size:
                writer = _CrcWriter(handle, generation.pack_crc, generation.text.size)
                writer.write(generation.tail)
                return {"file": generation.pack, "bytes": writer.size, "crc32": writer.crc}
    name = f"text-{time.time_ns():x}-{os.getpid()}.bin"
    text = memoryview(generation.text.data).cast("B") if generation.text.size else b""

    def write(writer: _CrcWriter) -> None:
        writer.write(text)
        writer.write(generation.tail)

    return {"file": name, **_write_file(store_folder, name, write)}


def _write_files(
    generation: Generation, folder: Path, old: Generation | None
) -> dict[str, dict[str, int]]:
    """Write (or link from old) every array file of a generation; return their sizes and CRCs."""
    files: dict[str, dict[str, int]] = {}
    old_files: dict[str, Any] = {}
    if old is not None and old.folder is not None:
        with contextlib.suppress(StoreError):
            old_files = _read_meta(old.folder).get("files", {})

    def linked(file_name: str, same: bool) -> bool:
        if not same or file_name not in old_files or old is None or old.folder is None:
            return False
        try:
            os.link(old.folder / file_name, folder / file_name)
        except OSError:
            return False
        files[file_name] = old_files[file_name]
        return True

    for array_name in _ARRAYS:
        file_name = f"{array_name}.npy"
        array = getattr(generation, array_name)
        if linked(file_name, old is not None and array is getattr(old, array_name)):
            continue
        if array is None:
            files[file_name] = _write_contrib(folder, file_name, generation)
        else:
            files[file_name] = _write_array(folder, file_name, array)
    if not linked("vocab.txt", old is not None and generation.vocabulary is old.vocabulary):
        vocabulary = "\n".join(generation.vocabulary).encode()
        files["vocab.txt"] = _write_file(folder, "vocab.txt", lambda w: w.write(vocabulary))
    return files


@contextlib.contextmanager
def _locked(store_folder: Path) -> Iterator[None]:
    with open(store_folder / "lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _current_name(store_folder: Path) -> str | None:
    try:
        name = (store_folder / "CURRENT").read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if re.fullmatch(r"gen-[0-9a-f]+-[0-9]+", name) else None


def _clean(store_folder: Path, keep: set[str]) -> None:
    """Delete old generations, unused packs and temporary folders left by crashed writers."""
    now = time.time()
    for entry in store_folder.iterdir():
        if entry.name in keep:
            continue
        stale = entry.name.startswith("tmp-") and now - entry.stat().st_mtime > 3600
        if entry.name.startswith("gen-") or stale:
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith("text-") and now - entry.stat().st_mtime > 60:
            # Another program may be appending to a pack it just made: leave young ones.
            entry.unlink(missing_ok=True)


def open_generation(
    store_folder: Path, corpus_root: Path, during: Callable[[], None] | None = None
) -> Generation | None:
    """Open the current saved generation, checked; None when there is none yet.

    during, if given, is called while the checksums are being checked (on
    another thread). Raises StoreError when the generation is there but
    unusable (foreign, other version, truncated, corrupted).
    """
    with _locked(store_folder) if store_folder.is_dir() else contextlib.nullcontext():
        name = _current_name(store_folder)
        if name is None:
            if (store_folder / "CURRENT").exists():
                raise StoreError(f"{store_folder / 'CURRENT'} is corrupted")
            return None
        folder = store_folder / name
        meta = _read_meta(folder)
        if meta.get("code") != code_version():
            raise StoreError(f"{folder} was built by another version of the program")
        if meta.get("corpus") != str(corpus_root.resolve()):
            raise StoreError(f"{folder} belongs to another corpus folder ({meta.get('corpus')})")
        files, pack = meta.get("files"), meta.get("pack")
        if (
            not isinstance(files, dict)
            or set(files) != {*(f"{a}.npy" for a in _ARRAYS), "vocab.txt"}
            or not isinstance(pack, dict)
            or not re.fullmatch(r"text-[0-9a-f]+-[0-9]+\.bin", str(pack.get("file")))
        ):
            raise StoreError(f"{folder}/meta.json lists the wrong files")
        # Check every file on the other core while this one parses the rest.
        wrong: list[str] = []
        thread = threading.Thread(target=lambda: wrong.extend(_verify(folder, files, pack)))
        thread.start()
        try:
            generation = _open_files(folder, meta)
            if during is not None:
                during()
        finally:
            thread.join()
        if wrong:
            raise StoreError(f"{folder}: {'; '.join(wrong)}")
        return generation


def _open_files(folder: Path, meta: dict[str, Any], like: Generation | None = None) -> Generation:
    """Open a generation's files; like, a generation just saved there, lends its Python objects."""
    try:
        k1, b, delta = (float(x) for x in meta["params"])
        records = like.records if like is not None else _records_from_columns(meta["records"])
        arrays = {name: _load_array(folder / f"{name}.npy") for name in _ARRAYS}
        if like is not None:
            vocabulary = like.vocabulary
        else:
            vocabulary_bytes = (folder / "vocab.txt").read_bytes()
            vocabulary = vocabulary_bytes.decode().split("\n") if vocabulary_bytes else []
        pack = meta["pack"]
        used = int(pack["bytes"])
        text = (
            np.asarray(np.memmap(folder.parent / pack["file"], np.uint8, "r", shape=(used,)))
            if used
            else np.empty(0, dtype=np.uint8)
        )
        generation = Generation(
            records=records,
            keys=list(meta["keys"]),
            prefix=bool(meta["prefix"]),
            params=BM25Params(k1, b, delta),
            vocabulary=vocabulary,
            offsets=arrays["offsets"],
            docs=arrays["docs"],
            tf=arrays["tf"],
            lengths=arrays["lengths"],
            avgdl=float(meta["avgdl"]),
            contrib=arrays["contrib"],
            text=text,
            sentences=arrays["sentences"],
            linked=np.array(arrays["linked"]),  # small: read, not mapped
            pack=str(pack["file"]),
            pack_crc=int(pack["crc32"]),
            scanned_ns=int(meta["scanned_ns"]),
            folder=folder,
        )
    except (OSError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{folder} cannot be opened ({exc})") from None
    _check_shapes(generation, folder)
    if like is not None:
        generation.share_terms(like)
    return generation


def _check_shapes(g: Generation, folder: Path) -> None:
    """Check that the arrays agree with each other (their content is checked by CRC)."""
    usable = g.articles
    n = sum(r.sentences for r in usable)
    problems = []
    if len(g.keys) != len(usable):
        problems.append("keys")
    if g.offsets.shape != (len(g.vocabulary) + 1,) or (g.offsets.size and g.offsets[0] != 0):
        problems.append("offsets")
    elif g.docs.shape != (int(g.offsets[-1]),) or g.tf.shape != g.docs.shape:
        problems.append("postings")
    if g.contrib is None or g.contrib.shape != g.docs.shape or g.lengths.shape != (n,):
        problems.append("weights")
    if g.sentences.shape != (n, 4) or g.linked.shape != (max(n - 1, 0),):
        problems.append("sentences")
    if problems:
        raise StoreError(f"{folder} has inconsistent arrays ({', '.join(problems)})")


# --- what the engine reads ----------------------------------------------------------


@dataclass
class Changes:
    """What a load found changed since the saved index."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reread: int = 0  # files read again (changed stat), whether or not their content changed

    @property
    def any(self) -> bool:
        """Tell whether any article was added, changed or removed."""
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        """Say what changed, in a few words."""
        parts = [
            f"{len(items)} {label}"
            for items, label in (
                (self.added, "added"),
                (self.changed, "changed"),
                (self.removed, "removed"),
            )
            if items
        ]
        return ", ".join(parts) if parts else "no article changed"


@dataclass
class Snapshot:
    """A loaded index: corpus, BM25 index and what is needed for the aliases."""

    root: Path
    generation: Generation
    corpus: StoredCorpus
    index: BM25Index
    changes: Changes
    store_folder: Path | None
    # Extra arrays computed while the generation was only in memory (right after a
    # reload), written beside it once the background save is done (see saved_in).
    _unsaved: dict[str, tuple[npt.NDArray[Any], list[str], list[int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _saved_folder: Path | None = field(default=None, init=False, repr=False, compare=False)
    _extras_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @property
    def table(self) -> SentenceTable:
        """Return the sentence table."""
        assert self.corpus.view is not None
        return self.corpus.view.table

    @property
    def acronym_key(self) -> tuple[str, ...]:
        """Identify the acronym definitions: same key, same acronym aliases."""
        return tuple(r.digest for r in self.generation.articles if r.acronyms)

    @property
    def acronym_texts(self) -> list[str]:
        """Return the sentences that define acronyms, in corpus order."""
        return [text for r in self.generation.articles for text in r.acronyms]

    def extra(
        self, name: str, compute: Callable[[list[str]], npt.NDArray[Any]]
    ) -> npt.NDArray[Any]:
        """Return a per-sentence array saved under name (e.g. "emb:<model>"), cached per article.

        Row i belongs to sentence i. compute(texts) must return one row per text,
        all rows of the same shape and dtype; it is called once, only with the
        sentences of the articles that have no saved rows under this name (new or
        changed articles, or the first call). With a saved index the result is
        saved beside it, memory-mapped, and its rows are reused article by article
        (by content digest) by the next generations. Right after a reload, while
        the new index is being saved, rows are reused from the saved one.
        """
        if not _EXTRA_NAME.match(name):
            raise ValueError(f"extra array name {name!r} must be 1-100 of A-Z a-z 0-9 _ . : + -")
        with self._extras_lock:
            folder = self.generation.folder or self._saved_folder
        file_name = "extra-" + name.replace(":", "~").replace("/", "~")
        digests = [r.digest for r in self.generation.articles]
        if folder is not None:
            cached: npt.NDArray[Any] | None = _open_extra(folder, file_name, digests)
            if cached is not None:
                return cached
        # Per article digest: the saved rows that hold its sentences.
        found: dict[str, tuple[npt.NDArray[Any], int, int]] = {}
        old_rows: npt.NDArray[Any] | None = None

        def reuse(source: Path, source_name: str) -> None:
            nonlocal old_rows
            rows = _open_extra(source, source_name, None)
            if rows is None:
                return
            old_rows = rows if old_rows is None else old_rows
            for digest, (first, last) in _extra_spans(source, source_name).items():
                found.setdefault(digest, (rows, first, last))

        if folder is not None:
            reuse(folder, "stale-" + file_name)
        elif self.store_folder is not None and self.store_folder.is_dir():
            # Not saved yet (a reload): reuse the rows of the saved generation, its own
            # or those it carried from the one before. Under the lock that the background
            # save takes to switch generations, which moves them and deletes the old one.
            with _locked(self.store_folder):
                current = _current_name(self.store_folder)
                if current:
                    reuse(self.store_folder / current, file_name)
                    reuse(self.store_folder / current, "stale-" + file_name)
        reusable: dict[int, tuple[npt.NDArray[Any], int, int]] = {}
        starts = self.generation.article_starts().tolist()
        missing: list[int] = []
        for position, record in enumerate(self.generation.articles):
            hit = found.get(record.digest)
            if hit is not None and hit[2] - hit[1] == record.sentences:
                reusable[position] = hit
            else:
                missing.extend(range(starts[position], starts[position + 1]))
        computed = np.asarray(compute([self.table.text(i) for i in missing])) if missing else None
        if computed is not None and computed.shape[0] != len(missing):
            raise ValueError(f"compute returned {computed.shape[0]} rows for {len(missing)} texts")
        template = computed if computed is not None else old_rows
        n = len(self.table)
        if template is None:
            result: npt.NDArray[Any] = np.empty((n,), dtype=np.float32)
        else:
            result = np.empty((n, *template.shape[1:]), dtype=template.dtype)
        if computed is not None:
            result[np.asarray(missing, dtype=np.int64)] = computed
        for position, (rows, first, last) in reusable.items():
            result[starts[position] : starts[position + 1]] = rows[first:last]
        counts = [r.sentences for r in self.generation.articles]
        if folder is None:
            with self._extras_lock:
                folder = self.generation.folder or self._saved_folder
                if folder is None:
                    if self.store_folder is not None:
                        # Written beside the generation once the background save is done,
                        # so that the next reload and the next start reuse these rows.
                        self._unsaved[file_name] = (result, digests, counts)
                    return result
        return _keep_extra(folder, file_name, result, digests, counts)

    def saved_in(self, folder: Path) -> None:
        """Record that the generation is now saved in folder; write the extra arrays beside it.

        Called by the background save of a reload: the arrays computed meanwhile from
        the in-memory generation are saved there, as extra() would have saved them.
        """
        with self._extras_lock:
            self._saved_folder = folder
            unsaved, self._unsaved = self._unsaved, {}
            for file_name, (rows, digests, counts) in unsaved.items():
                _keep_extra(folder, file_name, rows, digests, counts)


def _keep_extra(
    folder: Path, file_name: str, rows: npt.NDArray[Any], digests: list[str], counts: list[int]
) -> npt.NDArray[Any]:
    """Save an extra array in a generation's folder; return it memory-mapped from there."""
    try:
        _save_extra(folder, file_name, rows, digests, counts)
    except OSError as exc:
        logger.warning("could not save %s in %s: %s", file_name, folder, exc)
        return rows
    saved: npt.NDArray[Any] | None = _open_extra(folder, file_name, digests)
    return saved if saved is not None else rows


def _extra_spans(folder: Path, file_name: str) -> dict[str, tuple[int, int]]:
    """Map each article digest of a saved extra array to its rows."""
    try:
        side = json.loads((folder / f"{file_name}.json").read_text())
        spans: dict[str, tuple[int, int]] = {}
        start = 0
        for digest, count in zip(side["digests"], side["counts"], strict=True):
            spans.setdefault(str(digest), (start, start + int(count)))
            start += int(count)
        return spans
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _open_extra(folder: Path, file_name: str, digests: list[str] | None) -> Any:
    """Open a saved extra array after checking it; None when absent, stale or broken."""
    try:
        side = json.loads((folder / f"{file_name}.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("rebuilding %s in %s: %s", file_name, folder, exc)
        return None
    if digests is not None and side.get("digests") != digests:
        return None
    wrong = _verify(folder, {f"{file_name}.npy": side.get("file", {})})
    if wrong:
        logger.warning("rebuilding %s in %s: %s", file_name, folder, "; ".join(wrong))
        return None
    try:
        return _load_array(folder / f"{file_name}.npy")
    except (OSError, ValueError) as exc:
        logger.warning("rebuilding %s in %s: %s", file_name, folder, exc)
        return None


def _save_extra(
    folder: Path, file_name: str, array: npt.NDArray[Any], digests: list[str], counts: list[int]
) -> None:
    staged = f"{file_name}.{os.getpid()}.tmp"
    info = _write_array(folder, staged, array)
    os.replace(folder / staged, folder / f"{file_name}.npy")
    side = {"file": info, "digests": digests, "counts": counts}
    (folder / f"{staged}.json").write_text(json.dumps(side))
    os.replace(folder / f"{staged}.json", folder / f"{file_name}.json")


def _carry_extras(previous: Path, new: Path) -> None:
    """Move the previous generation's extra arrays beside the new one, for reuse by article."""
    with contextlib.suppress(OSError):
        for side in previous.glob("extra-*.json"):
            stem = side.name[: -len(".json")]
            os.replace(previous / f"{stem}.npy", new / f"stale-{stem}.npy")
            os.replace(side, new / f"stale-{stem}.json")


# --- loading a folder ------------------------------------------------------------------


class IndexStore:
    """Keeps the index of one corpus folder up to date, on disk or in memory only.

    load() reads the folder and returns a Snapshot. The first load opens the
    saved generation (when persist is on) or builds everything; later loads
    start from the last generation and read only files whose size or time
    changed, then split and tokenise only those whose content changed.
    """

    def __init__(
        self,
        corpus_dir: Path | str,
        index_dir: Path | None = None,
        *,
        persist: bool = True,
        params: BM25Params | None = None,
        progress: Progress = QUIET,
    ) -> None:
        self.root = Path(corpus_dir)
        self.folder = index_folder(self.root, index_dir) if persist else None
        self.params = params or BM25Params()
        self.progress = progress
        self._last: Generation | None = None
        self._last_snapshot: Snapshot | None = None
        self._last_problems: list[str] = []
        self._lock = threading.Lock()
        self._saving: threading.Thread | None = None

    def load(self, *, strict: bool = False) -> Snapshot:
        """Bring the index up to date with the folder and return it.

        With strict (a reload), a file that is there but cannot be read raises
        ReadError and nothing changes, and a file that vanishes while being read
        counts as removed. Otherwise such files are skipped and named in the
        corpus problems, as are files that are not usable articles.
        Raises CorpusError when the folder is missing or holds no usable article.
        """
        with self._lock:
            self.wait_saved()
            snapshot = self._load(strict)
        release_memory()
        return snapshot

    def wait_saved(self, timeout: float | None = None) -> None:
        """Wait until the index built by the last reload is saved (reloads save in background)."""
        saving = self._saving
        if saving is not None:
            saving.join(timeout)

    def _load(self, strict: bool) -> Snapshot:
        root = self.root
        if not root.exists():
            raise CorpusError(f"corpus folder {root} does not exist")
        if not root.is_dir():
            raise CorpusError(f"corpus path {root} is not a folder")
        scanned_ns = time.time_ns()
        scanned: list[tuple[list[SourceFile], list[str]]] = []

        def scan() -> None:
            scanned.append(scan_folder(root))

        old = self._last
        if old is None:
            # On a start, the folder is listed while the saved files' checksums are checked.
            old = self._open_saved(during=scan)
        if not scanned:
            scan()
        sources, link_problems = scanned[0]
        since = old.scanned_ns - RACY_NS if old is not None else 0
        if old is not None and _unchanged(sources, old.records, since):
            # The usual start: every file as saved. Nothing to compare one by one.
            previous: dict[str, FileRecord] = {}
            records: list[FileRecord | None] = list(old.records)
            sources = []
        else:
            previous = {r.rel: r for r in old.records} if old is not None else {}
            records = []
        to_read: list[SourceFile] = []
        for source in sources:
            record = previous.get(source.rel)
            if (
                record is not None
                and record.digest
                and record.size == source.size
                and record.mtime_ns == source.mtime_ns
                and source.mtime_ns < since
            ):
                records.append(record)
            else:
                records.append(None)
                to_read.append(source)

        parsed: dict[str, ParsedFile] = {}
        failures: list[str] = []
        gone: set[str] = set()
        slots = {source.rel: i for i, source in enumerate(sources) if records[i] is None}
        for result in read_files(to_read, self.progress):
            rel = result.record.rel
            if strict and result.vanished:
                gone.add(rel)
            elif strict and result.failure is not None:
                failures.append(result.failure)
            else:
                before = previous.get(rel)
                if before is not None and before.digest and before.digest == result.record.digest:
                    # Same content, new size or time: keep what was indexed.
                    result.record = before._replace(
                        size=result.record.size, mtime_ns=result.record.mtime_ns
                    )
                else:
                    parsed[rel] = result
                records[slots[rel]] = result.record
        if failures:
            raise ReadError(failures)
        final = [r for r in records if r is not None and r.rel not in gone]
        # As load_corpus says them: links, then files that could not be read, then the rest.
        problems = link_problems + [r.problem for r in final if r.problem and not r.readable]
        problems += [r.problem for r in final if r.problem and r.readable]
        if not any(r.usable for r in final):
            found = "no .txt or .md files"
            if sources:
                found = f"{len(sources)} article file(s), none usable"
            raise CorpusError(f"corpus folder {root} holds {found}", problems)

        old_articles = {r.rel: i for i, r in enumerate(old.articles)} if old is not None else {}
        changes = Changes(reread=len(to_read))
        kept: dict[int, int] = {}
        fresh: dict[int, ParsedFile] = {}
        for position, record in enumerate(final):
            if not record.usable:
                continue
            if record.rel in parsed:
                fresh[position] = parsed[record.rel]
                (changes.changed if record.rel in old_articles else changes.added).append(
                    record.rel
                )
            else:
                kept[position] = old_articles[record.rel]
        usable_now = {r.rel for r in final if r.usable}
        changes.removed = sorted(set(old_articles) - usable_now)

        generation: Generation
        if old is None or changes.any:
            with self.progress.phase("merging the index", 1, "steps") as advance:
                generation = merge(old, final, kept, fresh, self.params)
                advance()
        else:
            generation = old
            if old.params != self.params:
                generation = reweight(generation, self.params)
            if final != old.records:
                generation = relabel(generation, final)
        save_later = False
        if generation is not old or changes.reread:
            generation = _replaced(generation, scanned_ns=scanned_ns)
            if self.folder is None:
                generation = generation.in_memory()
            elif strict:
                # A reload: serve the new index from memory now, save it meanwhile.
                generation = generation.in_memory()
                save_later = True
            else:
                generation = self._save(generation, old)
        self._last = generation
        last = self._last_snapshot
        if (
            last is not None
            and not changes.any
            and self._last_problems == problems
            and _same_articles(last.generation, generation)
        ):
            # No article changed: serve the same corpus and index objects.
            return replace(last, changes=changes)
        snapshot = self._last_snapshot = self._snapshot(generation, list(problems), changes)
        self._last_problems = problems
        if save_later:
            self._saving = threading.Thread(
                target=self._save_in_background,
                # In a list, so that the thread can drop the arrays once they are saved.
                args=([generation], old, snapshot),
                name=f"save index {self.folder}",
            )
            self._saving.start()
        return snapshot

    def _save_in_background(
        self, box: list[Generation], old: Generation | None, snapshot: Snapshot
    ) -> None:
        """Save a generation, then serve its memory-mapped files instead of its arrays."""
        generation = box.pop()
        saved = self._save(generation, old)
        if saved.folder is None:
            return
        # Extra arrays (embeddings) computed meanwhile are saved with the generation.
        snapshot.saved_in(saved.folder)
        # Same values in other memory: questions running meanwhile see either, never a mix
        # of different contents.
        if saved.contrib is None:  # pragma: no cover - a saved generation has them
            return
        postings = Postings(saved.vocabulary, saved.offsets, saved.docs, saved.tf)
        snapshot.index.rebind(postings, saved.lengths, saved.contrib)
        pack = self.folder / saved.pack if self.folder is not None and saved.pack else None
        snapshot.table.rebind(saved.text, saved.tail, saved.sentences, pack)
        if self._last is generation:
            self._last = saved
            snapshot.generation = saved
        del generation
        release_memory()

    def _open_saved(self, during: Callable[[], None]) -> Generation | None:
        if self.folder is None:
            return None
        try:
            return open_generation(self.folder, self.root, during)
        except StoreError as exc:
            logger.warning("rebuilding the index: %s", exc)
        except OSError as exc:
            logger.warning("rebuilding the index: cannot open %s (%s)", self.folder, reason(exc))
        return None

    def _save(self, generation: Generation, old: Generation | None) -> Generation:
        assert self.folder is not None
        try:
            folder, meta = save(generation, self.folder, self.root, old)
            # Serve from the memory-mapped files rather than the arrays just built.
            return _open_files(folder, meta, like=generation)
        except (OSError, StoreError) as exc:
            logger.warning("could not save the index in %s: %s", self.folder, exc)
            return generation.in_memory()

    def _snapshot(self, generation: Generation, problems: list[str], changes: Changes) -> Snapshot:
        starts = generation.article_starts()
        g = generation
        pack = self.folder / g.pack if self.folder is not None and g.pack is not None else None
        counts = np.diff(starts)
        table = SentenceTable(
            g.text, g.tail, g.sentences, counts, g.keys, g.prefix, pack=pack, linked=g.linked
        )
        corpus = StoredCorpus(root=self.root, problems=problems, view=table.view())
        bounds = starts.tolist()
        corpus.articles = [
            StoredArticle(
                key,
                r.rel,
                r.title,
                r.source,
                r.url,
                r.date,
                SentenceView(table, range(first, last)),
                r.content_hash,
            )
            for key, r, first, last in zip(g.keys, g.articles, bounds[:-1], bounds[1:], strict=True)
        ]
        return Snapshot(
            root=self.root,
            generation=generation,
            corpus=corpus,
            index=generation.index(),
            changes=changes,
            store_folder=self.folder,
        )


def release_memory() -> None:
    """Give the memory freed by a build back to the system (glibc keeps it otherwise)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


def _unchanged(sources: list[SourceFile], records: list[FileRecord], since: int) -> bool:
    """Tell whether the listed files are exactly the recorded ones, none touched since."""
    if len(sources) != len(records) or not sources:
        return False
    return (
        list(map(itemgetter(1, 2, 3), sources)) == list(map(itemgetter(0, 1, 2), records))
        and all(map(itemgetter(3), records))  # read and hashed (not a failed read to retry)
        and max(map(itemgetter(3), sources)) < since
    )


def _same_articles(a: Generation, b: Generation) -> bool:
    """Tell whether two generations index the same articles the same way (stat aside)."""
    if a is b:
        return True
    if a.keys != b.keys or a.prefix != b.prefix or a.params != b.params:
        return False
    return [r._replace(size=0, mtime_ns=0) for r in a.articles] == [
        r._replace(size=0, mtime_ns=0) for r in b.articles
    ]


def _replaced(generation: Generation, **changes: Any) -> Generation:
    """Return a copy of generation with some fields changed, keeping its term map."""
    copy = replace(generation, **changes)
    copy.share_terms(generation)
    return copy


def relabel(generation: Generation, records: list[FileRecord]) -> Generation:
    """Return the generation with new file rows around the same articles (keys may change)."""
    keys = article_keys([r.rel for r in records])
    return _replaced(
        generation,
        records=records,
        keys=[keys[r.rel] for r in records if r.usable],
        prefix=sum(1 for r in records if r.readable) > 1,
    )


def saved_size(store_folder: Path) -> int:
    """Return the bytes the current saved generation takes on disk (0 when there is none)."""
    name = _current_name(store_folder)
    if name is None or not (store_folder / name).is_dir():
        return 0
    return sum(p.stat().st_size for p in (store_folder / name).iterdir() if p.is_file())
