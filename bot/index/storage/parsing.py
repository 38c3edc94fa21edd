"""Read, split and tokenise article files for the index, on every core when there are many."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bot.index.aliases import defined_acronyms
from bot.index.storage.records import FileRecord
from bot.index.tokenize import terms
from bot.ingest.loader import (
    SourceFile,
    check_size,
    decode_text,
    display_name,
    parse_article,
    reason,
)
from bot.ingest.reading import read_article
from bot.progress import Progress

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

logger = logging.getLogger(__name__)

# The digest recorded for a file refused without reading it (too large, not a regular
# file, a link that leads outside): trusted again while its size and time hold.
REFUSED = "refused"
# Fewer files than this are read in this process; more are shared among worker processes.
PARALLEL_FROM = 400


def _no_ints() -> npt.NDArray[np.int32]:
    return np.empty(0, dtype=np.int32)


@dataclass
class ParsedFile:
    """One article file read, split and tokenised, ready to be merged into an index.

    Made of few objects (one bytes, one string, arrays): a worker process hands
    tens of thousands of them over, and each object costs to pass.
    """

    record: FileRecord
    failure: str | None = None  # an OSError while reading: the file is there but unreadable
    vanished: bool = False
    paragraphs: npt.NDArray[np.int32] = field(default_factory=_no_ints)
    numbers: npt.NDArray[np.int32] = field(default_factory=_no_ints)
    text: bytes = b""  # the sentences' UTF-8 text, one after the other
    sizes: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    vocabulary: str = ""  # this article's terms, one a line
    tokens: npt.NDArray[np.int32] = field(default_factory=_no_ints)
    lengths: npt.NDArray[np.int32] = field(default_factory=_no_ints)

    def terms(self) -> list[str]:
        """Return the article's terms, in order of first use (tokens number them)."""
        return self.vocabulary.split("\n") if self.vocabulary else []


def read_file(root: str, source: SourceFile) -> ParsedFile:
    """Read, split and tokenise one article file below root; problems are kept, never raised."""
    parsed, inode = _read_file(root, source)
    parsed.record = parsed.record._replace(inode=inode)
    return parsed


def _read_file(root: str, source: SourceFile) -> tuple[ParsedFile, int]:
    rel = source.rel
    try:
        check_size(source.size)
        data, stat = read_article(root, rel)
    except FileNotFoundError as exc:
        record = FileRecord(rel, source.size, source.mtime_ns, "", False, _skipped(rel, exc))
        return ParsedFile(record, vanished=True), source.inode
    except OSError as exc:
        record = FileRecord(rel, source.size, source.mtime_ns, "", False, _skipped(rel, exc))
        return ParsedFile(record, failure=f"cannot read {rel} ({reason(exc)})"), source.inode
    except ValueError as exc:
        record = FileRecord(rel, source.size, source.mtime_ns, REFUSED, False, _skipped(rel, exc))
        return ParsedFile(record), source.inode
    return parse_file(rel, data, stat.st_size, stat.st_mtime_ns), stat.st_ino


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
    every: list[str] = []
    lengths: list[int] = []
    acronyms: list[str] = []
    for sentence_text in texts:
        sentence_terms = terms(sentence_text)
        every += sentence_terms
        lengths.append(len(sentence_terms))
        if "(" in sentence_text and defined_acronyms([sentence_text]):
            acronyms.append(sentence_text)
    # The article's terms in order of first use; each token is its term's number there.
    local = {term: i for i, term in enumerate(dict.fromkeys(every))}
    tokens = list(map(local.__getitem__, every))
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
    encoded = [text.encode() for text in texts]
    return ParsedFile(
        record,
        paragraphs=np.array([s.paragraph for s in article.sentences], dtype=np.int32),
        numbers=np.array([s.number for s in article.sentences], dtype=np.int32),
        text=b"".join(encoded),
        sizes=np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)),
        vocabulary="\n".join(local),  # terms hold no line break
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


def _read_chunk(root: str, sources: list[SourceFile]) -> list[ParsedFile]:
    return [read_file(root, source) for source in sources]


def read_files(
    root: Path, sources: Sequence[SourceFile], progress: Progress
) -> Iterator[ParsedFile]:
    """Read many article files below root, in order, on every core when there are many."""
    done = 0
    where = str(root)
    with progress.phase("reading articles", len(sources)) as advance:
        if len(sources) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1:
            # Imported here: a restart with nothing to read never starts a process.
            from concurrent.futures.process import BrokenProcessPool

            chunk = 64
            chunks = [list(sources[i : i + chunk]) for i in range(0, len(sources), chunk)]
            try:
                with worker_pool() as pool:
                    with _ctrl_c_held():  # map() starts the workers and submits every chunk
                        results = pool.map(partial(_read_chunk, where), chunks)
                    for parsed in results:
                        yield from parsed
                        done += len(parsed)
                        advance(len(parsed))
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                logger.warning("reading the articles in this process only: %s", exc)
        for source in sources[done:]:
            yield read_file(where, source)
            advance()


def worker_pool() -> ProcessPoolExecutor:
    """Start worker processes that die with this one (kill -9 included)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        os.cpu_count(),
        mp_context=_pool_context(),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold back SIGINT while worker processes start; they inherit it held, so ignored.

    A terminal's Ctrl-C reaches the whole process group: a worker it reached before its
    initializer ignored SIGINT printed a KeyboardInterrupt traceback. Here a Ctrl-C
    waits until the workers are started and then interrupts this process as usual.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def die_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the parent process is gone, however it ended.

    Linux delivers SIGKILL on the parent's death (PR_SET_PDEATHSIG); everywhere
    else, and in case the parent died before that was set, a thread checks.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # Workers take no part in the parent's Ctrl-C or SIGTERM: the parent stops them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="parent watch", daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _pool_context() -> BaseContext:
    """Fork when nothing else runs; else spawn, which is safe beside other threads."""
    from multiprocessing import get_all_start_methods, get_context

    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("spawn")
