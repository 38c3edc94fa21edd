"""Index the articles by name, source, web site and date as arrays, so a filter costs microseconds.

One :class:`Catalogue` per engine, built when a filter first asks for it (most
questions have none, so a restart does not build it): per article a source code, a
web-site code and a day number, and a map from each name an article goes by to
its positions. A filter then is a comparison over one small array per option
(tens of thousands of articles, not a million sentences) and gives an
:class:`ArticleSet`, a set of article keys held as one flag per article, which
the engine turns into its per-sentence test without listing a key.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.ingest.models import Article

_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]*)")
# The day number of an undated article: below every real date's.
UNDATED = -1
Flags = npt.NDArray[np.bool_]


def article_day(article: Article) -> dt.date | None:
    """Return an article's date as a date, or None when it has none (or a malformed one)."""
    return parse_day(article.date)


def parse_day(date: str | None) -> dt.date | None:
    """Return an ISO date (its first ten characters) as a date; None when absent or malformed."""
    if not date:
        return None
    try:
        return dt.date.fromisoformat(date[:10])
    except ValueError:
        return None


def host_of(url: str | None) -> str:
    """Return the lower-case host name of a web address ("" when there is none)."""
    match = _HOST.match(url) if url else None
    return match.group(1).lower() if match else ""


class _Lines:
    """Strings case-folded into one UTF-8 blob, one a line, searched without a loop over them.

    Making it is a join (milliseconds for tens of thousands of paths, where a map
    from every name to its articles takes a Python loop over them all).
    """

    def __init__(self, items: list[str]) -> None:
        self.blob = ("\n" + "\n".join(items).casefold() + "\n").encode()
        # ends[i] is where line i ends (its newline); line i starts after ends[i - 1].
        newlines = np.flatnonzero(np.frombuffer(self.blob, dtype=np.uint8) == 10)
        self.ends = newlines[1:]

    def _line(self, at: int) -> int:
        """Return the line that holds byte at."""
        return int(np.searchsorted(self.ends, at))

    def _find(self, needle: bytes) -> Iterator[int]:
        blob, at = self.blob, self.blob.find(needle)
        while at >= 0:
            yield at
            at = blob.find(needle, at + 1)

    def equal(self, folded: str) -> list[int]:
        """Return the lines equal to folded."""
        return [self._line(at + 1) for at in self._find(b"\n" + folded.encode() + b"\n")]

    def named(self, folded: str) -> list[int]:
        """Return the lines (paths) whose file name or stem is folded (which holds no "/").

        The stem is the name without its last extension ("a.tar" of "a.tar.gz").
        """
        word = folded.encode()
        blob = self.blob
        lines = []
        for start in (b"/", b"\n"):
            for at in self._find(start + word):
                after = at + 1 + len(word)
                end = blob.index(b"\n", after)
                rest = blob[after:end]
                if not rest or (rest[:1] == b"." and b"." not in rest[1:] and b"/" not in rest):
                    lines.append(self._line(at + 1))
        return lines


def _codes(values: list[Any], name: Any) -> tuple[list[Any], npt.NDArray[np.int32]]:
    """Number the distinct names of values (name(value), "" for none); return them and the codes."""
    table: dict[Any, int] = {}
    named = {value: name(value) for value in set(values)}
    for label in named.values():
        table.setdefault(label, len(table))
    code_of = {value: table[label] for value, label in named.items()}
    codes = np.fromiter(map(code_of.__getitem__, values), dtype=np.int32, count=len(values))
    return list(table), codes


def _having(codes: npt.NDArray[np.int32], wanted: list[int]) -> Flags:
    """Tell per article whether its code is among wanted (a lookup table, one gather)."""
    table = np.zeros(int(codes.max(initial=0)) + 1, dtype=np.bool_)
    table[wanted] = True
    found: Flags = table[codes]
    return found


class Catalogue:
    """The articles of one engine by each thing a filter asks for, as arrays.

    Built on first use, by whichever thread asks first (a few tens of
    milliseconds over tens of thousands of articles, once per engine); the
    others wait for it.
    """

    def __init__(self, articles: Sequence[Article]) -> None:
        self.size = len(articles)
        self._articles = articles
        self._lock = threading.Lock()
        self._built = False
        self._failure: BaseException | None = None

    @classmethod
    def of(cls, articles: Sequence[Article]) -> Catalogue:
        """Catalogue the articles (at once, on this thread)."""
        return cls(articles).wait()

    def _build(self) -> None:
        try:
            fields = attrgetter("key", "path", "source", "url", "date")
            rows = list(map(fields, self._articles))
            columns = [list(c) for c in zip(*rows, strict=True)] or [[] for _ in range(5)]
            keys, paths, sources, urls, dates = columns
            self.keys: list[str] = keys
            self.positions: dict[str, int] = dict(zip(keys, range(self.size), strict=True))
            self.source_names, self.source_codes = _codes(
                sources, lambda s: s.casefold() if s else ""
            )
            self.host_names, self.host_codes = _codes(urls, host_of)
            days = {d: parse_day(d) for d in set(dates)}
            number = {d: day.toordinal() if day else UNDATED for d, day in days.items()}
            self.day_numbers = np.fromiter(
                map(number.__getitem__, dates), dtype=np.int32, count=self.size
            )
            self._days = days
            self._dates = dates
            self._keys_blob = _Lines(keys)
            self._paths_blob = _Lines(paths)
        except BaseException as exc:  # re-raised by every query
            self._failure = exc

    def wait(self) -> Catalogue:
        """Return the catalogue, built (raising what building it raised)."""
        if not self._built:
            with self._lock:
                if not self._built:
                    self._build()
                    self._built = True
        if self._failure is not None:
            raise self._failure
        return self

    # --- selections -------------------------------------------------------------

    def all(self) -> ArticleSet:
        """Return every article."""
        return ArticleSet(self.wait(), np.ones(self.size, dtype=np.bool_))

    def none(self) -> ArticleSet:
        """Return no article."""
        return ArticleSet(self.wait(), np.zeros(self.size, dtype=np.bool_))

    def named(self, wanted: str) -> ArticleSet:
        """Return the articles with this key, path, file name or stem (case-insensitive)."""
        found = self.none()
        folded = wanted.strip().casefold()
        if not folded or "\n" in folded:
            return found
        hits = self._keys_blob.equal(folded)
        # Without a "/", a whole path equal to it is a file name equal to it: named() finds both.
        paths = self._paths_blob
        hits += paths.named(folded) if "/" not in folded else paths.equal(folded)
        found.flags[hits] = True
        return found

    def from_source(self, wanted: str) -> ArticleSet:
        """Return the articles whose source names it, or whose site is it (or below)."""
        wanted = wanted.strip().casefold()
        self.wait()
        sources = [c for c, name in enumerate(self.source_names) if name and wanted in name]
        hosts = [
            c
            for c, host in enumerate(self.host_names)
            if host and (host == wanted or host.endswith("." + wanted))
        ]
        return ArticleSet(
            self, _having(self.source_codes, sources) | _having(self.host_codes, hosts)
        )

    def dated(self, since: dt.date | None, until: dt.date | None) -> ArticleSet:
        """Return the articles dated within [since, until] (undated ones never)."""
        numbers = self.wait().day_numbers
        flags = numbers > UNDATED
        if since is not None:
            flags &= numbers >= since.toordinal()
        if until is not None:
            flags &= numbers <= until.toordinal()
        return ArticleSet(self, flags)

    def of_keys(self, keys: Iterable[str]) -> ArticleSet:
        """Return the articles with these keys (unknown keys are left out)."""
        if isinstance(keys, ArticleSet) and keys.catalogue is self:
            return keys
        found = self.none()
        positions = self.positions
        found.flags[[positions[k] for k in keys if k in positions]] = True
        return found

    def mask(self, keys: Iterable[str], articles: npt.NDArray[np.int32]) -> SentenceMask:
        """Return per sentence whether its article is among keys; articles: each one's article.

        An ArticleSet of this catalogue (what filters give) is read as it is; other
        keys are looked up once. Either way nothing is done per sentence.
        """
        return SentenceMask(self.wait().of_keys(keys).flags, articles)

    def day(self, key: str) -> dt.date | None:
        """Return the date of the article with this key (None: undated or unknown)."""
        self.wait()
        position = self.positions.get(key)
        return None if position is None else self._days[self._dates[position]]

    @property
    def days(self) -> dict[str, dt.date | None]:
        """Map each article's key to its date (None when undated); built on each call."""
        self.wait()
        return {key: self._days[date] for key, date in zip(self.keys, self._dates, strict=True)}


class ArticleSet(AbstractSet[str]):
    """A set of article keys held as one flag per article of a catalogue.

    Reads like a frozenset of keys (``in``, ``len``, iteration, ``&``), but
    choosing tens of thousands of articles costs one array operation, and an
    engine over the same catalogue reads the flags directly.
    """

    __slots__ = ("catalogue", "flags")

    def __init__(self, catalogue: Catalogue, flags: Flags) -> None:
        self.catalogue = catalogue
        self.flags = flags

    def __contains__(self, key: object) -> bool:
        position = self.catalogue.positions.get(key) if isinstance(key, str) else None
        return position is not None and bool(self.flags[position])

    def __iter__(self) -> Iterator[str]:
        keys = self.catalogue.keys
        return (keys[p] for p in np.flatnonzero(self.flags).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(self.flags))

    def __bool__(self) -> bool:
        return bool(self.flags.any())

    def __and__(self, other: Iterable[Any]) -> ArticleSet:  # type: ignore[override]
        if isinstance(other, ArticleSet) and other.catalogue is self.catalogue:
            return ArticleSet(self.catalogue, self.flags & other.flags)
        return ArticleSet(self.catalogue, self.flags & self.catalogue.of_keys(other).flags)

    __rand__ = __and__

    def __hash__(self) -> int:
        return self._hash()

    def __repr__(self) -> str:
        return f"ArticleSet({len(self)} of {self.catalogue.size} articles)"


def intersect(parts: Iterable[ArticleSet]) -> ArticleSet | frozenset[str]:
    """Return the articles in every part (no part: none)."""
    result: ArticleSet | None = None
    for part in parts:
        result = part if result is None else result & part
    return result if result is not None else frozenset()


class SentenceMask:
    """Whether each sentence may be cited: its article's flag, read only where asked.

    ``mask[ids]`` gives the flags of some sentences (what ranking asks, for the
    sentences a question touches); building one costs nothing per sentence, where
    a dense array would cost a pass over a million sentences per question.
    ``np.asarray(mask)`` gives the dense array when something needs it.
    """

    __slots__ = ("articles", "flags")

    def __init__(self, flags: Flags, articles: npt.NDArray[np.int32]) -> None:
        self.flags = flags  # per article
        self.articles = articles  # per sentence: its article's position

    def __getitem__(self, ids: npt.NDArray[np.integer[Any]]) -> Flags:
        flags: Flags = self.flags[self.articles[ids]]
        return flags

    def __len__(self) -> int:
        return int(self.articles.size)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Flags:
        dense = self.flags[self.articles]
        return dense if dtype is None else dense.astype(dtype)
