"""Read, split and tokenise article files for the index, on every core when there are many."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext

import numpy as np
import numpy.typing as npt

from bot.index.aliases import defined_acronyms
from bot.index.storage.records import FileRecord
from bot.index.tokenize import terms
from bot.ingest.loader import (
    MAX_ARTICLE_BYTES,
    SourceFile,
    check_size,
    decode_text,
    display_name,
    parse_article,
    reason,
)
from bot.progress import Progress

logger = logging.getLogger(__name__)

# The digest recorded for a file too large to read.
TOO_LARGE = "too-large"
# Fewer files than this are read in this process; more are shared among worker processes.
PARALLEL_FROM = 400


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
        rows_key(texts),
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


def rows_key(texts: list[str]) -> str:
    """Return the digest of an article's sentences, boundaries included."""
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


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
