"""Limit an answer to some articles (--article/--source/--since/--until) and honour time cues.

:class:`ArticleFilter` turns the front ends' options and the engine's articles
into the set of article keys the engine may cite (``Engine.answer(only=...)``).
:func:`filtered_answer` asks the engine with that set and reads the question's
time cue (:mod:`bot.answer.timecues`) as a bounded preference: passages from
the cue's dates, or the newest passages for "latest", are preferred only among
passages that answer about as well as the best one (``PREFERENCE_RATIO`` of
its score), so a cue never hides the only sentence that answers.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.answer.catalogue import Catalogue, intersect
from bot.answer.followup import FollowUp
from bot.answer.models import Answer, Status
from bot.answer.timecues import TimeCue, time_cue
from bot.errors import FilterError
from bot.ingest.models import Article

# A cue's passages are preferred only when they score at least this share of the best.
PREFERENCE_RATIO = 0.8


class Answers(Protocol):
    """What filtered_answer needs of an engine."""

    @property
    def articles(self) -> Sequence[Article]: ...

    def answer(
        self,
        question: str,
        k: int = ...,
        offset: int = ...,
        previous: FollowUp | str | None = ...,
        *,
        only: AbstractSet[str] | None = ...,
    ) -> Answer: ...


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles an answer may cite; every field left None lets all through."""

    article: str | None = None  # an article key, file path or file name
    source: str | None = None  # a source name or web site, case-insensitive
    since: dt.date | None = None  # dated on or after (undated articles are left out)
    until: dt.date | None = None  # dated on or before

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.article, self.source, self.since, self.until))

    def matches(self, article: Article) -> bool:
        """Tell whether an article passes every option that is set."""
        found = self.keys([article])
        return found is None or article.key in found

    def keys(self, articles: Sequence[Article]) -> AbstractSet[str] | None:
        """Return the keys of the articles that pass, or None when no option is set."""
        return self.select(Catalogue.of(articles)) if self else None

    def select(self, catalogue: Catalogue) -> AbstractSet[str] | None:
        """Return the keys of the catalogued articles that pass (None: no option is set).

        The keys come as an :class:`ArticleSet` (one flag per article), which an
        engine over the same catalogue applies without listing them.
        """
        if not self:
            return None
        parts = []
        if self.article is not None:
            parts.append(catalogue.named(self.article))
        if self.source is not None:
            parts.append(catalogue.from_source(self.source))
        if self.since is not None or self.until is not None:
            parts.append(catalogue.dated(self.since, self.until))
        return intersect(parts)

    def describe(self) -> str:
        """Say in words which articles pass, for a message when none does."""
        parts = []
        if self.article is not None:
            parts.append(f"named {self.article!r}")
        if self.source is not None:
            parts.append(f"from {self.source}")
        if self.since is not None and self.until is not None:
            parts.append(f"dated {self.since} to {self.until}")
        elif self.since is not None:
            parts.append(f"dated {self.since} or later")
        elif self.until is not None:
            parts.append(f"dated {self.until} or earlier")
        return "articles " + " and ".join(parts) if parts else "all articles"


_DAY = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_AGO = re.compile(r"^(\d{1,4})\s*(d|days?|w|weeks?)(?:\s+ago)?$")


def parse_day(text: str, *, end: bool, today: dt.date, option: str = "--since") -> dt.date:
    """Read 2013, 2013-11, 2013-11-28, today, yesterday or 7d; a partial date's end if end."""
    value = text.strip().lower()
    if value in {"today", "yesterday"}:
        return today - dt.timedelta(days=value == "yesterday")
    ago = _AGO.match(value)
    if ago:
        return today - dt.timedelta(days=int(ago.group(1)) * (7 if ago.group(2)[0] == "w" else 1))
    match = _DAY.match(value)
    if match:
        year, month, day = match.group(1), match.group(2), match.group(3)
        try:
            if day:
                return dt.date(int(year), int(month), int(day))
            if month:
                first = dt.date(int(year), int(month), 1)
                return _month_end(first) if end else first
            return dt.date(int(year), 12, 31) if end else dt.date(int(year), 1, 1)
        except ValueError:
            pass
    raise FilterError(
        f"{option} must be a date such as 2013-11-28, 2013-11 or 2013, or today, yesterday "
        f"or 7d, not {text!r}."
    )


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


# --- answering with a filter and a time cue ----------------------------------------


def filtered_answer(
    engine: Answers,
    question: str,
    *,
    k: int,
    offset: int = 0,
    options: ArticleFilter | None = None,
    today: dt.date | None = None,
    cues: bool = True,
    **extra: Any,
) -> Answer:
    """Answer from the articles the options allow, preferring what a time cue asks for.

    extra is passed on to engine.answer (previous= for follow-ups).
    """
    options = options or ArticleFilter()
    allowed = _keys(engine, options)
    if allowed is not None and not allowed:
        return Answer(
            question=question,
            status=Status.NOT_FOUND,
            message=f"No article matches: there are no {options.describe()}.",
        )
    cue = time_cue(question, today or dt.date.today()) if cues else None
    if cue is None:
        return _ask(engine, question, k, offset, allowed, extra)
    searched = cue.question or question
    if cue.recent:
        return _newest_first(engine, question, searched, k, offset, allowed, extra)
    return _in_range(engine, question, cue, k, offset, allowed, extra)


def _newest_first(
    engine: Answers,
    question: str,
    searched: str,
    k: int,
    offset: int,
    allowed: AbstractSet[str] | None,
    extra: dict[str, Any],
) -> Answer:
    depth = max(offset + k, 10)
    answer = _ask(engine, searched, depth, 0, allowed, extra)
    if not answer.answered:
        return replace(answer, question=question)
    day = _day(engine)
    best = answer.passages[0].score
    strong = [p for p in answer.passages if p.score >= PREFERENCE_RATIO * best]
    rest = answer.passages[len(strong) :]
    # Newest first among the passages that answer about as well; undated ones last.
    strong.sort(key=lambda p: day(p.article_key) or dt.date.min, reverse=True)
    ranked = [*strong, *rest]
    page = tuple(ranked[offset : offset + k])
    return replace(
        answer,
        question=question,
        passages=page,
        has_more=answer.has_more or len(ranked) > offset + k,
        offset=offset,
        notes=(*answer.notes, "newest first among the passages that answer as well"),
    )


def _in_range(
    engine: Answers,
    question: str,
    cue: TimeCue,
    k: int,
    offset: int,
    allowed: AbstractSet[str] | None,
    extra: dict[str, Any],
) -> Answer:
    # The question as asked: a year may be in the text as a word ("in 2013 alone").
    asked = _ask(engine, question, k, offset, allowed, extra)
    searched = cue.question or question
    window = ArticleFilter(since=cue.since, until=cue.until)
    dated = _keys(engine, window) or frozenset()
    inside = dated if allowed is None else dated & allowed
    if searched == question or not inside:
        return asked
    # Without the cue's words, the dates do their work: the window's best passage is
    # preferred when it answers about as well as the best passage of every article.
    everywhere = _ask(engine, searched, k, offset, allowed, extra)
    preferred = _ask(engine, searched, k, offset, inside, extra)
    if (
        preferred.answered
        and everywhere.answered
        and preferred.passages[0].score >= PREFERENCE_RATIO * everywhere.passages[0].score
    ):
        note = f"read \u201c{cue.phrase}\u201d as {window.describe()}"
        return replace(preferred, question=question, notes=(*preferred.notes, note))
    if asked.answered or not everywhere.answered:
        return asked
    return replace(everywhere, question=question)


# --- engine calls ----------------------------------------------------------------

_CATALOGUES: weakref.WeakKeyDictionary[Any, Catalogue] = weakref.WeakKeyDictionary()


def _catalogue(engine: Answers) -> Catalogue:
    """Return the engine's catalogue: its own (built with it), else one built on first use."""
    own = getattr(engine, "catalogue", None)
    if isinstance(own, Catalogue):
        return own
    try:
        found = _CATALOGUES.get(engine)
    except TypeError:  # an engine that cannot be weakly referenced
        return Catalogue.of(engine.articles)
    if found is None:
        found = _CATALOGUES[engine] = Catalogue.of(engine.articles)
    return found


def _keys(engine: Answers, options: ArticleFilter) -> AbstractSet[str] | None:
    """Return the keys of the engine's articles that pass options (None: no option set)."""
    return options.select(_catalogue(engine)) if options else None


def _day(engine: Answers) -> Any:
    """Return the function that dates an article key of the engine (None: undated)."""
    return _catalogue(engine).day


def _ask(
    engine: Answers,
    question: str,
    k: int,
    offset: int,
    allowed: AbstractSet[str] | None,
    extra: dict[str, Any],
) -> Answer:
    if allowed is None:
        return engine.answer(question, k=k, offset=offset, **extra)
    return engine.answer(question, k=k, offset=offset, only=allowed, **extra)
