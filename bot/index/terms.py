"""Keep every sentence's index terms with the index, so an answer never tokenises a sentence again.

The terms are one kind of the index folder's per-sentence array store
(:mod:`bot.index.storage.arrays`): per article, the 64-bit hashes of its
sentences' terms in reading order. A sentence's share of its article's rows is
its BM25 length (terms per sentence, kept by the index anyway), so no offsets
are stored. Rows are keyed by the digest of the article's sentences: a restart
maps them, a new generation reuses them, and a reload computes only the
articles that changed. The kind's name carries a digest of the tokeniser, so a
tokeniser change makes them be computed again.

Hashes, not strings: what the answer layer asks of a passage's terms is which
of the question's terms it holds and where, so it hashes the question's few
terms and compares (:meth:`SentenceTerms.tokens`). Two terms share a 64-bit
hash with odds far below one in a billion for any question.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.index.saved import SavedArray
from bot.index.storage.arrays import ArrayStore, ArticleSlot, SentenceArrays
from bot.index.storage.memory import release_memory
from bot.index.tokenize import terms

logger = logging.getLogger(__name__)

Hashes = npt.NDArray[np.uint64]
# Opens the stored rows, given where each sentence's terms start; returns where each
# article's sentences start (and the total) and the rows.
# More articles than this without stored terms are written as one segment, not one by one.
APPEND_AT_MOST = 64
Opener = Callable[[npt.NDArray[np.int64]], tuple[npt.NDArray[np.int64], "SentenceArrays"]]


# Set when the program ends: a filling thread stops between articles, so that it
# never holds the array store's lock while the interpreter shuts down.
_STOP = threading.Event()
_FILLING: set[threading.Thread] = set()


@atexit.register
def _stop_filling() -> None:
    _STOP.set()
    for thread in list(_FILLING):
        thread.join(timeout=30)  # a segment being written finishes: seconds at most


@cache
def terms_kind() -> str:
    """Name the stored kind: the hash and a digest of the tokeniser that made the terms."""
    import Stemmer

    source = (Path(__file__).with_name("tokenize.py")).read_bytes()
    version = getattr(Stemmer, "__version__", "")
    digest = hashlib.sha256(source + version.encode()).hexdigest()[:12]
    return f"terms:blake2b64@{digest}"


@lru_cache(maxsize=1 << 20)
def term_hash(term: str) -> int:
    """Return a term's 64-bit hash (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")


def hash_terms(found: Iterable[str]) -> Hashes:
    """Return the hashes of some terms, in order."""
    return np.fromiter(map(term_hash, found), dtype=np.uint64)


class SentenceTerms:
    """The hashed terms of one engine's sentences: stored rows, else tokenised on demand.

    Thread-safe. ``computed`` counts the sentences tokenised here (tests use it).
    """

    def __init__(
        self,
        lengths: npt.NDArray[np.integer],
        text: Callable[[int], str],
        open_rows: Opener | None,
        given: dict[int, Hashes] | None = None,
    ) -> None:
        """Hold the terms of sentences with these lengths (terms per sentence).

        text gives a sentence's text; open_rows, given where each sentence's terms
        start, opens the stored rows and says where each article's sentences start
        (None: store nothing, tokenise each time); given holds the hashed terms of
        some articles (by position) already made, which are stored as they are
        (and taken out of it once used, to free their memory).
        """
        self.offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.offsets[1:])
        self._text = text
        # Each article's first sentence (and the total), and the stored rows; set once open.
        self._stored: tuple[npt.NDArray[np.int64], SentenceArrays] | None = None
        # Once every article's rows are saved: where each lies, read there by pread (see
        # _place); then neither a map of every article nor their mapped pages are kept.
        self._placed: _Placed | None = None
        self._open = open_rows
        self._given = given or {}
        self._lock = threading.Lock()
        self.computed = 0
        self._opening = False
        # Set once open() has opened the stored rows (or failed to, and said why).
        self.ready = threading.Event()

    def open(self, *, background: bool) -> None:
        """Open the stored rows and compute the missing ones, once (on a thread if asked).

        Nothing opens them until a process says it goes on serving (Engine.serve):
        at a million sentences the open is half a second of Python work, which a
        one-shot question has no use for (its few passages are tokenised instead:
        the same values, milliseconds). Until the open is done, and for an article
        whose rows are not there yet, a sentence's terms are tokenised when asked.
        """
        with self._lock:
            if self._opening:
                return
            self._opening = True
        if background and not _STOP.is_set():
            thread = threading.Thread(target=self._open_and_fill, name="terms", daemon=True)
            _FILLING.add(thread)
            thread.start()
        else:
            self._open_and_fill()

    def _open_and_fill(self) -> None:
        try:
            if self._open is not None:
                starts, rows = self._open(self.offsets)
                self._stored = starts, rows
                self._fill(starts, rows)
                del rows
                if self._place():
                    # The per-article objects of the open are gone: give their memory back.
                    release_memory()
        except Exception:  # answers tokenise instead; say why once
            logger.exception("could not store the sentences' terms; answers tokenise them")
        finally:
            self.ready.set()
            _FILLING.discard(threading.current_thread())

    def _fill(self, starts: npt.NDArray[np.int64], rows: SentenceArrays) -> None:
        """Compute and store the terms of the articles that have none yet.

        A few (a reload's changed articles) are appended one by one; many (a first
        build, an index folder from before terms were stored) are written with the
        stored ones as one new segment in sentence order, in one commit.
        """
        missing = rows.missing()
        if len(missing) <= APPEND_AT_MOST or rows.store.folder is None:
            for slot in missing:
                if _STOP.is_set():
                    return
                rows.append(slot, self._article(starts, slot))
            return
        if rows.store.dtype is None:
            # A store's first append fixes its row type, which a rewrite needs.
            first = missing.pop(0)
            rows.append(first, self._article(starts, first))
        total = int(self.offsets[-1])
        every = np.empty(total, dtype=np.uint64)
        lacking = {slot.position for slot in missing}
        for slot in rows.articles:
            if _STOP.is_set():
                return
            found = None if slot.position in lacking else rows.article_rows(slot)
            if found is None:
                found = self._article(starts, slot)
            every[slot.first : slot.first + slot.count] = found
        try:
            rows.store.rewrite(rows.articles, every)
        except (OSError, ValueError) as exc:
            # A folder that cannot be written: keep them in memory (the store says so once).
            logger.warning("could not store the sentences' terms in one segment: %s", exc)
            for slot in missing:
                rows.append(slot, every[slot.first : slot.first + slot.count])
            return
        del every
        self._stored = starts, SentenceArrays(rows.store, rows.articles, total)

    def _place(self) -> bool:
        """Read the stored rows from their files from now on, when all are saved; say if so."""
        stored = self._stored
        if stored is None or stored[1].store.shape != ():
            return False
        starts, rows = stored
        places = rows.places()
        if places is None:
            return False
        paths, which, first = places
        hashes = np.dtype(np.uint64)
        files = [SavedArray(p, 0, hashes, (p.stat().st_size // hashes.itemsize,)) for p in paths]
        # Where sentence i's terms are: first[n] + offsets[i] - offsets[starts[n]].
        base = first - self.offsets[starts[:-1]]
        self._placed = _Placed(starts, files, which, base)
        self._stored = None
        return True

    def _article(self, starts: npt.NDArray[np.int64], slot: ArticleSlot) -> Hashes:
        """Tokenise one article's sentences; return their hashed terms, in order."""
        first, stop = int(starts[slot.position]), int(starts[slot.position + 1])
        given = self._given.pop(slot.position, None)
        if given is not None and given.size == self.offsets[stop] - self.offsets[first]:
            return given
        found = [self._compute(i) for i in range(first, stop)]
        return np.concatenate(found) if found else np.empty(0, np.uint64)

    def _compute(self, i: int) -> Hashes:
        with self._lock:
            self.computed += 1
        return hash_terms(terms(self._text(i)))

    def hashes(self, i: int) -> Hashes:
        """Return the hashed terms of sentence i, in order."""
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        placed = self._placed
        if placed is not None:
            n = int(np.searchsorted(placed.starts, i, side="right")) - 1
            base = int(placed.base[n])
            read: Hashes = placed.files[placed.which[n]][base + start : base + end]
            return read
        stored = self._stored
        if stored is not None:
            starts, rows = stored
            position = int(np.searchsorted(starts, i, side="right")) - 1
            found = rows.article_rows(rows.articles[position])
            if found is not None:
                first = int(self.offsets[starts[position]])
                return np.asarray(found[start - first : end - first])
        return self._compute(i)

    def tokens(self, ids: Sequence[int], wanted: Iterable[str]) -> list[str]:
        """Return the terms of some sentences in order: each term among wanted, else "".

        The length and the places of wanted terms are exact; other terms are blank.
        """
        by_hash = {term_hash(t): t for t in wanted}
        out: list[str] = []
        for i in ids:
            out.extend(by_hash.get(h, "") for h in self.hashes(i).tolist())
        return out


@dataclass(frozen=True)
class _Placed:
    """Where the stored terms lie: per article, its segment file and its rows' offset."""

    starts: npt.NDArray[np.int64]  # each article's first sentence, and the total
    files: list[SavedArray]  # the segment files
    which: npt.NDArray[np.int32]  # per article, its file
    base: npt.NDArray[np.int64]  # per article, its first row minus its first term's offset


def stored_rows(store: ArrayStore, slots: Callable[[], Sequence[ArticleSlot]]) -> Opener:
    """Return what opens the stored terms of a snapshot's articles in store.

    slots gives each article's slot in sentences (its rows key, first sentence
    and count); an article's rows are its terms, so its term slot counts terms.
    """

    def open_rows(
        offsets: npt.NDArray[np.int64],
    ) -> tuple[npt.NDArray[np.int64], SentenceArrays]:
        articles = slots()
        starts = np.array([s.first for s in articles] + [offsets.size - 1], dtype=np.int64)
        firsts = offsets[starts].tolist()
        term_slots = [
            ArticleSlot(s.position, s.key, firsts[n], firsts[n + 1] - firsts[n])
            for n, s in enumerate(articles)
        ]
        return starts, SentenceArrays(store, term_slots, int(offsets[-1]))

    return open_rows
