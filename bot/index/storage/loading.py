"""Keep a corpus folder's index up to date: open the saved one, re-read what changed, save."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from operator import eq, itemgetter
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.errors import CorpusError, ReadError, StoreError
from bot.index.bm25 import BM25Params, Postings
from bot.index.sentences import (
    SentenceTable,
    SentenceView,
    StoredArticle,
    StoredArticles,
    StoredCorpus,
)
from bot.index.storage.arrays import ArrayStores
from bot.index.storage.generation import (
    Generation,
    TermLookup,
    relabel,
    replaced,
    reweight,
    same_articles,
)
from bot.index.storage.generations import index_folder, save
from bot.index.storage.memory import collecting_later, release_memory
from bot.index.storage.merging import merge
from bot.index.storage.opening import open_files, open_generation
from bot.index.storage.parsing import ParsedFile, read_files
from bot.index.storage.records import FileRecord
from bot.index.storage.snapshot import Changes, Snapshot
from bot.ingest.loader import SourceFile, reason, scan_folder
from bot.progress import QUIET, Progress

logger = logging.getLogger(__name__)

# Files whose mtime is this close to the scan that recorded it are read again
# next time: a write in the same clock tick would not change the mtime.
RACY_NS = 2_000_000_000


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
        self.array_stores = ArrayStores(self.folder / "arrays" if self.folder is not None else None)

    def load(self, *, strict: bool = False) -> Snapshot:
        """Bring the index up to date with the folder and return it.

        With strict (a reload), a file that is there but cannot be read raises
        ReadError and nothing changes, and a file that vanishes while being read
        counts as removed. Otherwise such files are skipped and named in the
        corpus problems, as are files that are not usable articles.
        Raises CorpusError when the folder is missing or holds no usable article.
        """
        with self._lock, collecting_later():
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
        # Opened first, then listed, one after the other: both are Python work under the
        # one interpreter lock, and listing on a thread of its own only made each stat wait
        # for the lock behind the opening (twice the wall time of doing them in turn).
        old = self._last
        if old is None and self.folder is not None:
            old = self._open_saved()
        sources, link_problems = scan_folder(root)
        since = old.scanned_ns - RACY_NS if old is not None else 0
        if old is not None and unchanged(sources, old.records, since):
            # The usual start: every file as saved. Nothing to compare one by one.
            generation = old if old.params == self.params else reweight(old, self.params)
            problems = link_problems + skipped_lines(old.records)
            return self._serve(generation, old, problems, Changes(), scanned_ns, strict)
        previous = {r.rel: r for r in old.records} if old is not None else {}
        records: list[FileRecord | None] = []
        to_read: list[SourceFile] = []
        for source in sources:
            record = previous.get(source.rel)
            if (
                record is not None
                and record.digest
                and record.size == source.size
                and record.mtime_ns == source.mtime_ns
                and record.inode == source.inode
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
        for result in read_files(root, to_read, self.progress):
            rel = result.record.rel
            if strict and result.vanished:
                gone.add(rel)
            elif strict and result.failure is not None and not _unreadable(previous.get(rel)):
                failures.append(result.failure)
            else:
                before = previous.get(rel)
                if before is not None and before.digest and before.digest == result.record.digest:
                    # Same content, new size or time: keep what was indexed.
                    result.record = before._replace(
                        size=result.record.size,
                        mtime_ns=result.record.mtime_ns,
                        inode=result.record.inode,
                    )
                else:
                    parsed[rel] = result
                records[slots[rel]] = result.record
        if failures:
            raise ReadError(failures)
        final = [r for r in records if r is not None and r.rel not in gone]
        problems = link_problems + skipped_lines(final)
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
        return self._serve(generation, old, problems, changes, scanned_ns, strict)

    def _serve(
        self,
        generation: Generation,
        old: Generation | None,
        problems: list[str],
        changes: Changes,
        scanned_ns: int,
        strict: bool,
    ) -> Snapshot:
        """Save the generation if it is new, and return the snapshot that serves it."""
        fresh_terms = generation.fresh_terms
        save_later = False
        if generation is not old or changes.reread:
            generation = replaced(generation, scanned_ns=scanned_ns)
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
            and same_articles(last.generation, generation)
        ):
            # No article changed: serve the same corpus and index objects.
            return replace(last, changes=changes)
        snapshot = self._last_snapshot = self._snapshot(generation, list(problems), changes)
        self._last_problems = problems
        # Not where the index could not be saved (said once already): the engine keeps them.
        saved = self.folder is None or save_later or generation.folder is not None
        if fresh_terms and saved:
            self._store_terms(snapshot, fresh_terms)
        fresh_terms.clear()  # stored, or left to the engine: free the memory either way
        if save_later:
            self._saving = threading.Thread(
                target=self._save_in_background,
                # In a list, so that the thread can drop the arrays once they are saved.
                args=([generation], old, snapshot),
                name=f"save index {self.folder}",
            )
            self._saving.start()
        return snapshot

    def _store_terms(self, snapshot: Snapshot, fresh: dict[int, npt.NDArray[np.uint64]]) -> None:
        """Store the hashed terms of the articles just read, as the merge made them.

        Before any engine opens the stored terms: none then tokenises a sentence
        again (at a million sentences that took 38 s of CPU, on a thread beside the
        answers, at every start until it finished once).
        """
        from bot.index.terms import SentenceTerms, stored_rows, terms_kind

        opener = stored_rows(self.array_stores.get(terms_kind()), snapshot.article_slots)
        table = snapshot.table
        SentenceTerms(snapshot.index.lengths, table.text, opener, given=fresh).open(
            background=False
        )

    def _save_in_background(
        self, box: list[Generation], old: Generation | None, snapshot: Snapshot
    ) -> None:
        """Save a generation, then serve its memory-mapped files instead of its arrays."""
        generation = box.pop()
        saved = self._save(generation, old)
        if saved.folder is None:
            return
        # Same values in other memory: questions running meanwhile see either, never a mix
        # of different contents.
        if saved.contrib is None:  # pragma: no cover - a saved generation has them
            return
        postings = Postings(saved.vocabulary, saved.offsets, saved.docs, saved.tf)
        # The saved term order finds a question's terms: the merge's map of every term
        # (15 MB at a million sentences) need not outlive the reload.
        lookup = TermLookup(saved.vocabulary, saved.order) if saved.order is not None else None
        saved.__dict__.pop("term_ids", None)
        served = saved.served("docs"), saved.served("contrib")
        snapshot.index.rebind(postings, saved.lengths, served, lookup)
        pack = self.folder / saved.pack if self.folder is not None and saved.pack else None
        snapshot.table.rebind(saved.text, saved.tail, saved.served("sentences"), pack)
        if self._last is generation:
            self._last = saved
            snapshot.generation = saved
        del generation
        release_memory()

    def _open_saved(self) -> Generation | None:
        if self.folder is None:
            return None
        try:
            return open_generation(self.folder, self.root)
        except StoreError as exc:
            logger.warning("rebuilding the index: %s", exc)
        except OSError as exc:
            logger.warning("rebuilding the index: cannot open %s (%s)", self.folder, reason(exc))
        return None

    def _save(self, generation: Generation, old: Generation | None) -> Generation:
        assert self.folder is not None
        try:
            folder, meta, holds = save(generation, self.folder, self.root, old)
            # Serve from the memory-mapped files rather than the arrays just built.
            return open_files(folder, meta, like=generation, holds=holds)
        except (OSError, StoreError) as exc:
            logger.warning("could not save the index in %s: %s", self.folder, exc)
            return generation.in_memory()

    def _snapshot(self, generation: Generation, problems: list[str], changes: Changes) -> Snapshot:
        starts = generation.article_starts()
        g = generation
        pack = self.folder / g.pack if self.folder is not None and g.pack is not None else None
        counts = np.diff(starts)
        table = SentenceTable(
            g.text,
            g.tail,
            g.served("sentences"),
            counts,
            g.keys,
            g.prefix,
            pack=pack,
            linked=g.linked,
        )
        corpus = StoredCorpus(root=self.root, problems=problems, view=table.view())
        bounds = starts.tolist()
        keys, rows = g.keys, g.articles

        def article(i: int) -> StoredArticle:
            r = rows[i]
            sentences = SentenceView(table, range(bounds[i], bounds[i + 1]))
            return StoredArticle(
                keys[i], r.rel, r.title, r.source, r.url, r.date, sentences, r.content_hash
            )

        corpus.articles = StoredArticles(keys, article)
        return Snapshot(
            root=self.root,
            generation=generation,
            corpus=corpus,
            index=generation.index(),
            changes=changes,
            store_folder=self.folder,
            array_stores=self.array_stores,
        )


def skipped_lines(records: list[FileRecord]) -> list[str]:
    """Say which files were skipped, as load_corpus does: unreadable ones first, then the rest."""
    unreadable = [r.problem for r in records if r.problem and not r.readable]
    return unreadable + [r.problem for r in records if r.problem and r.readable]


def _unreadable(record: FileRecord | None) -> bool:
    """Tell whether a file could not be read last time either (skipped again, not a failure)."""
    return record is not None and not record.digest and record.problem is not None


# What a listing says of a file, and what the index recorded of it: (rel, size, mtime, inode).
_LISTED = itemgetter(*(SourceFile._fields.index(f) for f in ("rel", "size", "mtime_ns", "inode")))
_RECORDED = itemgetter(*(FileRecord._fields.index(f) for f in ("rel", "size", "mtime_ns", "inode")))


def unchanged(sources: list[SourceFile], records: list[FileRecord], since: int) -> bool:
    """Tell whether the listed files are exactly the recorded ones, none touched since."""
    if len(sources) != len(records) or not sources:
        return False
    return (
        all(map(eq, map(_LISTED, sources), map(_RECORDED, records)))
        and all(map(itemgetter(3), records))  # read and hashed (not a failed read to retry)
        and max(map(itemgetter(3), sources)) < since
    )
