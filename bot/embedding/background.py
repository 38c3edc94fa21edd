"""Compute a corpus's missing sentence embeddings in the background, article by article.

The job first maps every article whose rows the store already holds (by a
digest of its sentences), so a restart serves them at once, then embeds the
rest on worker threads (one per core, onnxruntime runs them in parallel),
saving each batch of articles as soon as it is done and handing it to the
index, which ranks those articles by meaning from then on. Progress shows on a
terminal (phase, done, rate, time left) and as periodic log lines otherwise.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.embedding.index import SemanticIndex
from bot.index.storage.memory import release_memory
from bot.progress import QUIET, Progress

log = logging.getLogger(__name__)

# Sentences per unit of work: several small articles go together, for full batches.
# Also about the most a job finishes after it is asked to stop.
WORK_SENTENCES = 64

_RUNNING: set[EmbeddingJob] = set()


@atexit.register
def _stop_all() -> None:
    """Stop every job before the interpreter exits: onnxruntime aborts if torn down mid-run."""
    for job in list(_RUNNING):
        job.stop(timeout=30)


@dataclass(frozen=True)
class ArticleSpan:
    """An article's sentences in the corpus: positions start..start+count."""

    start: int
    count: int
    key: str = ""  # the digest of its sentences when the index knows it (else computed)


def article_digest(texts: Sequence[str]) -> str:
    """Identify an article's sentences: the same texts, the same embeddings."""
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def default_workers() -> int:
    """Use every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class EmbeddingJob:
    """Fills a SemanticIndex: saved rows first, then the missing articles on worker threads."""

    def __init__(
        self,
        index: SemanticIndex,
        spans: Sequence[ArticleSpan],
        texts: Callable[[int, int], list[str]],
        *,
        workers: int | None = None,
        progress: Progress = QUIET,
    ) -> None:
        self.index = index
        self.spans = list(spans)
        self.texts = texts
        self.workers = workers or default_workers()
        self.progress = progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embed corpus", daemon=True)

    def start(self) -> EmbeddingJob:
        """Start in a background thread; returns self."""
        _RUNNING.add(self)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """Tell whether the job is still at work."""
        return self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the job to stop after the batches in flight, and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._fill()
        except Exception as exc:  # the answer engine goes on by word match
            log.exception("embedding the corpus failed")
            self.index.finish(f"embedding the corpus failed: {exc}")
        else:
            self.index.finish(self.index.failed)
        finally:
            _RUNNING.discard(self)
            # Mapping a million saved rows leaves about 20 MB of freed heap that glibc
            # would otherwise keep for the life of the server (bench/semantic_memory.py).
            release_memory()

    def _fill(self) -> None:
        articles: list[tuple[ArticleSpan, str]] = []
        self._embed(articles)
        if not self._stop.is_set() and self.index.complete:
            self._merge(articles)

    def _merge(self, articles: list[tuple[ArticleSpan, str]]) -> None:
        """Merge the store's small finished segments; point the index at the moved rows."""

        def repoint(moved: dict[str, int]) -> None:
            at = [(span, moved[digest]) for span, digest in articles if digest in moved]
            if not at:
                return
            self.index.move(
                np.concatenate([np.arange(s.start, s.start + s.count) for s, _ in at]),
                np.concatenate([np.arange(ref, ref + s.count) for s, ref in at]),
            )
            log.info("merged the stored embeddings of %d articles into one segment", len(at))

        self.index.store.merge_small([(digest, span.count) for span, digest in articles], repoint)

    def _embed(self, articles: list[tuple[ArticleSpan, str]]) -> None:
        """Map the saved rows, then embed the missing articles; list every article in articles."""
        store, index = self.index.store, self.index
        missing: list[tuple[ArticleSpan, str]] = []
        store.refresh()  # rows other writers saved (another process, an earlier run)
        positions: list[np.ndarray] = []
        refs: list[np.ndarray] = []
        for n, span in enumerate(self.spans):
            if self._stop.is_set():
                return
            if not span.count:
                continue
            digest = span.key or article_digest(self.texts(span.start, span.start + span.count))
            articles.append((span, digest))
            saved = store.find(digest, span.count)
            if saved is None:
                missing.append((span, digest))
                continue
            positions.append(np.arange(span.start, span.start + span.count))
            refs.append(np.arange(saved, saved + span.count))
            if n % 4096 == 4095:  # hand them over in batches: ranking by meaning starts sooner
                index.assign_at(np.concatenate(positions), np.concatenate(refs))
                positions, refs = [], []
        if positions:
            index.assign_at(np.concatenate(positions), np.concatenate(refs))
        store.index_all()  # rows saved before their graph was (a kill -9)
        total = sum(span.count for span, _ in missing)
        if not total:
            return
        embedder = index.model.embedder
        if embedder is None:
            index.failed = index.model.failure
            return
        work: queue.Queue[list[tuple[ArticleSpan, str]]] = queue.Queue()
        batch: list[tuple[ArticleSpan, str]] = []
        for item in missing:
            batch.append(item)
            if sum(span.count for span, _ in batch) >= WORK_SENTENCES:
                work.put(batch)
                batch = []
        if batch:
            work.put(batch)
        errors: list[BaseException] = []
        with self.progress.phase("embedding sentences", total, unit="sentences") as advance:

            def worker() -> None:
                while not self._stop.is_set() and not errors:
                    try:
                        item = work.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        flat = [
                            text
                            for span, _ in item
                            for text in self.texts(span.start, span.start + span.count)
                        ]
                        vectors = embedder.encode(flat)
                        parts, offset = [], 0
                        for span, digest in item:
                            parts.append((digest, vectors[offset : offset + span.count]))
                            offset += span.count
                        starts = store.append(parts)
                        for (span, _), first in zip(item, starts, strict=True):
                            index.assign(span.start, np.arange(first, first + span.count))
                        advance(len(flat))
                    except BaseException as exc:
                        errors.append(exc)
                        return

            threads = [
                threading.Thread(target=worker, name=f"embed {n}", daemon=True)
                for n in range(self.workers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        store.flush()
        if errors:
            raise errors[0]
