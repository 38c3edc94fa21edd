"""Read a time cue in a question ("latest", "this week", "yesterday", "in 2013") as dates.

A pure function of the question and today's date. The cue's words are taken
out of the question to search with the dates (articles do not say "yesterday"
about themselves); a year or a month may still be worth searching as words
("in 2013 alone"), so the caller also tries the question as asked.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"

_RECENT = re.compile(
    r"\b(?:the\s+)?(?:latest|newest|most\s+recent(?:ly)?|recent(?:ly)?|lately)\b",
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"\b(?P<phrase>(?:on\s+|from\s+)?(?:today|yesterday)"
    r"|(?:in\s+|during\s+|from\s+)?(?:this|last|past)\s+(?:week|month|year)"
    r"|in\s+the\s+(?:last|past)\s+(?P<n>\d{1,3}|two|three|few)\s+(?P<unit>days|weeks|months))\b",
    re.IGNORECASE,
)
_IN_MONTH = re.compile(rf"\b(?:in|during|of)\s+{_MONTH}\s*,?\s+{_YEAR}\b", re.IGNORECASE)
_IN_YEAR = re.compile(rf"\b(?P<how>in|during|of|since|after|before|until)\s+{_YEAR}\b", re.I)
_COUNTS = {"two": 2, "three": 3, "few": 3}


@dataclass(frozen=True)
class TimeCue:
    """What a question's time cue asks for: a date range, or the most recent articles first."""

    phrase: str  # the words of the question that made the cue
    since: dt.date | None = None
    until: dt.date | None = None
    recent: bool = False  # prefer the newest of the passages that answer about as well
    question: str = ""  # the question without the cue's words


def time_cue(question: str, today: dt.date) -> TimeCue | None:
    """Return the question's time cue, or None when it names no time."""
    match = _IN_MONTH.search(question)
    if match:
        year, month = int(match.group("year")), _MONTHS[match.group("month").lower()]
        last = calendar.monthrange(year, month)[1]
        return TimeCue(
            match.group(0),
            dt.date(year, month, 1),
            dt.date(year, month, last),
            question=_without(question, match),
        )
    match = _IN_YEAR.search(question)
    if match:
        year, how = int(match.group("year")), match.group("how").lower()
        since: dt.date | None = dt.date(year, 1, 1)
        until: dt.date | None = dt.date(year, 12, 31)
        if how in {"since", "after"}:
            until = None
            if how == "after":
                since = dt.date(year + 1, 1, 1)
        elif how in {"before", "until"}:
            since, until = None, dt.date(year - 1, 12, 31) if how == "before" else until
        return TimeCue(match.group(0), since, until, question=_without(question, match))
    match = _RELATIVE.search(question)
    if match:
        since, until = _relative(match, today)
        return TimeCue(match.group(0), since, until, question=_without(question, match))
    match = _RECENT.search(question)
    if match:
        return TimeCue(match.group(0), recent=True, question=_without(question, match))
    return None


def _relative(match: re.Match[str], today: dt.date) -> tuple[dt.date, dt.date]:
    words = match.group("phrase").lower().split()
    if "today" in words:
        return today, today
    if "yesterday" in words:
        day = today - dt.timedelta(days=1)
        return day, day
    if match.group("unit"):
        raw = match.group("n").lower()
        n = _COUNTS.get(raw) or int(raw)
        days = {"days": 1, "weeks": 7, "months": 31}[match.group("unit").lower()] * n
        return today - dt.timedelta(days=days), today
    which, unit = words[-2], words[-1]
    if unit == "week":
        monday = today - dt.timedelta(days=today.weekday())
        if which == "this":
            return monday, today
        if which == "last":
            return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
        return today - dt.timedelta(days=7), today
    if unit == "month":
        first = today.replace(day=1)
        if which == "this":
            return first, today
        if which == "last":
            end = first - dt.timedelta(days=1)
            return end.replace(day=1), end
        return today - dt.timedelta(days=31), today
    start = today.replace(month=1, day=1)
    if which == "this":
        return start, today
    if which == "last":
        return start.replace(year=start.year - 1), start - dt.timedelta(days=1)
    return today - dt.timedelta(days=366), today


def _without(question: str, match: re.Match[str]) -> str:
    rest = question[: match.start()] + " " + question[match.end() :]
    rest = re.sub(r"\s+([?.!,])", r"\1", " ".join(rest.split()))
    # "What is the latest on X?" leaves "What is on X?": keep it a question about X.
    return rest if re.search(r"\w", rest) else question
