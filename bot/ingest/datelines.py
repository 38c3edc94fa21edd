"""Date an article by its dateline ("SEOUL, Nov. 28 (Yonhap) --") when nothing else does.

Wire datelines name the month and day but seldom the year. The year is found,
in this order:

1. in the dateline itself ("SEOUL, Nov. 28, 2013 (Yonhap) --");
2. else the latest year the article's text mentions, not after this year
   (news copy says "in 2013 alone", "since 2011"), or the year before it
   when the lead names a weekday ("the government said Thursday") that the
   month and day fall on in that year and not in the latest;
3. else there is no date: a year is never guessed from the clock alone.

Only the first paragraphs are searched for the dateline.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_DATELINE = re.compile(
    r"""^[A-Z][A-Za-z .'-]{1,40},\s+
    (?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?
      |Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+
    (?P<day>\d{1,2})(?:,?\s+(?P<year>(?:19|20)\d{2}))?
    \s*(?:\([A-Z][\w&.' -]{1,40}\))?\s*(?:--|—|–|-)""",
    re.VERBOSE,
)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d{2})\b")
_WEEKDAY = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PARAGRAPHS_SEARCHED = 3


def dateline_date(text: str, today: dt.date | None = None) -> str | None:
    """Return the ISO date of the article's dateline, or None when it has none (see module)."""
    today = today or dt.date.today()
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()][:_PARAGRAPHS_SEARCHED]
    for paragraph in paragraphs:
        match = _DATELINE.match(paragraph)
        if match is None:
            continue
        month = _MONTHS[match.group("month")[:3].lower()]
        day = int(match.group("day"))
        if match.group("year"):
            return _iso(int(match.group("year")), month, day)
        return _year_from_text(text, paragraph, month, day, today)
    return None


def _year_from_text(text: str, lead: str, month: int, day: int, today: dt.date) -> str | None:
    years = [int(y) for y in _YEAR.findall(text) if int(y) <= today.year]
    if not years:
        return None
    latest = max(years)
    weekday = _WEEKDAY.search(lead)
    if weekday is None:
        return _iso(latest, month, day)
    wanted = _WEEKDAYS.index(weekday.group(1))
    # A story may name next year ("talks due in 2014"): the year before is the other
    # candidate. A weekday that fits neither (the lead's day is not the dateline's)
    # leaves the latest year.
    for year in (latest, latest - 1):
        try:
            if dt.date(year, month, day).weekday() == wanted:
                return _iso(year, month, day)
        except ValueError:
            continue  # 29 February in a common year
    return _iso(latest, month, day)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None
