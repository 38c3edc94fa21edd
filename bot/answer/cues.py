"""Question-type cues: a "when" question wants a date, "how many" a number, "who" a name."""

from __future__ import annotations

import re
from enum import Enum
from functools import cached_property, lru_cache

from bot.index.tokenize import stem


class Cue(Enum):
    """The kind of thing a question asks for."""

    DATE = "date"
    NUMBER = "number"
    NAME = "name"
    PLACE = "place"
    REASON = "reason"


# Checked in order; the first pattern found in the question decides.
_QUESTION_CUES: tuple[tuple[re.Pattern[str], Cue], ...] = (
    (
        re.compile(
            r"\b(?:when|what\s+(?:year|date|day|month|century|decade|time|period|era)"
            r"|which\s+(?:year|date|day|month|century|decade)|how\s+long\s+ago)\b"
        ),
        Cue.DATE,
    ),
    (
        re.compile(
            r"\bhow\s+(?:many|much|old|long|far|large|big|tall|high|fast|often)\b"
            r"|\bwhat\s+(?:percentage|percent|share|number|amount|proportion|age)\b"
            r"|['’]s\s+age\b|\bage\s+of\s+(?!the\b)"
        ),
        Cue.NUMBER,
    ),
    (re.compile(r"\b(?:who|whom|whose)\b"), Cue.NAME),
    (
        re.compile(
            r"\bwhere\b|\b(?:what|which)\s+(?:country|countries|city|cities|place|places"
            r"|region|regions|state|states|nation|nations|town|area|continent|location)\b"
        ),
        Cue.PLACE,
    ),
    (
        re.compile(
            r"\bwhy\b|\bhow\s+come\b|\bfor\s+what\s+(?:reason|purpose)\b"
            r"|\bwhat\s+(?:reason|reasons|purpose|motive|caused|causes|led)\b"
        ),
        Cue.REASON,
    ),
)
# Words that open the reason a sentence gives.
REASON_OPENERS = re.compile(
    r"\b(?:because(?:\s+of)?|due\s+to|owing\s+to|thanks\s+to|in\s+a\s+bid\s+to"
    r"|in\s+an\s+(?:effort|attempt)\s+to|in\s+order\s+to|so\s+(?:as\s+)?(?:that|to)"
    r"|aimed\s+at|as\s+a\s+result\s+of|for\s+the\s+purpose\s+of|since|to\s+(?=[a-z]+\b))",
    re.IGNORECASE,
)
_STRONG_REASON = re.compile(
    r"\b(?:because|due\s+to|owing\s+to|in\s+a\s+bid\s+to|in\s+an\s+(?:effort|attempt)\s+to"
    r"|in\s+order\s+to|so\s+that|aimed\s+at|as\s+a\s+result|for\s+the\s+purpose|reason"
    r"|caused|led\s+to|since)\b",
    re.IGNORECASE,
)
# A capitalised word after one of these is likely a place ("in Hanoi", "from Seoul").
_PLACE = re.compile(
    r"\b(?:in|at|from|to|near|across|throughout|into|outside|inside|within)\s+(?:the\s+)?"
    r"[A-Z][\w'-]+"
)

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DATE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b|\b(?:"
    + "|".join(_MONTHS + _DAYS)
    + r")\b\.?|\b(?:century|centuries|decade|yesterday|today|tomorrow|bc|ad|bce|ce)\b"
    r"|\b(?:last|this|next|previous|same|that|early|late|mid)[\s-]+(?:year|month|week|decade)\b"
    r"|\b\d+\s+(?:years?|months?|weeks?|days?)\s+(?:ago|later|earlier|after|before)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy
    eighty ninety hundred hundreds thousand thousands million millions billion billions
    trillion dozen dozens half quarter third percent""".split()
)
_NOT_NAMES = frozenset(w.capitalize() for w in _MONTHS + _DAYS) | frozenset(
    "I The A An In On At By For From To Of And But Or As It He She They We This That".split()
)


def question_cue(question: str) -> Cue | None:
    """Return what kind of answer the question asks for, if its wording says."""
    text = question.casefold()
    for pattern, cue in _QUESTION_CUES:
        if pattern.search(text):
            return cue
    return None


class SentenceCues:
    """What a sentence could answer: dates, numbers (as terms) and names (as terms).

    Each part is found on first use: a question asks for one kind, and the regular
    expressions of the others cost most of the time (hundreds of microseconds a
    sentence for all of them, a tenth of that for names alone).
    """

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def has_date(self) -> bool:
        """Tell whether the sentence mentions a date."""
        return bool(_DATE.search(self.text))

    @cached_property
    def numbers(self) -> frozenset[str]:
        """Return the numbers the sentence mentions, as terms."""
        text = self.text
        numbers = {_term(m.group()) for m in _WITH_DIGIT.finditer(text)}
        numbers.update(_term(m.group()) for m in _NUMBER_WORD.finditer(text))
        return frozenset(numbers)

    @cached_property
    def names(self) -> frozenset[str]:
        """Return the proper names the sentence mentions, as terms."""
        text = self.text
        first = _FIRST_WORD.search(text)
        opening = first.start() if first else 0
        names: set[str] = set()
        for match in _CAPITALISED.finditer(text):
            raw = match.group()
            start, end = match.span()
            if start == opening or raw in _NOT_NAMES or raw.casefold() in _NUMBER_WORDS:
                continue
            fragment = (start > 0 and text[start - 1] == "-") or text[end : end + 1] == "-"
            if fragment and len(raw) <= 2:
                continue
            names.add(_term(raw))
        return frozenset(names)

    @cached_property
    def has_place(self) -> bool:
        """Tell whether the sentence names a place ("in Hanoi")."""
        return bool(_PLACE.search(self.text))

    @cached_property
    def has_reason(self) -> bool:
        """Tell whether the sentence gives a reason ("because", "in a bid to")."""
        return bool(_STRONG_REASON.search(self.text))


# Words with a digit, and capitalised words, as the tokeniser writes them.
_WITH_DIGIT = re.compile(r"(?:[^\W_]\.){2,}|[^\W_]*\d[^\W_]*(?:['’][^\W_]+)*")
_CAPITALISED = re.compile(r"(?<![^\W_])[A-Z][^\W_]*(?:['’][^\W_]+)*")
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(sorted(_NUMBER_WORDS)) + r")\b", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[^\W_]")
_POSSESSIVE = re.compile(r"['’]s$")


def _term(raw: str) -> str:
    return stem(_POSSESSIVE.sub("", raw.casefold().replace("’", "'").replace(".", "")))


@lru_cache(maxsize=100_000)
def sentence_cues(text: str) -> SentenceCues:
    """Find the dates, numbers and proper names a sentence mentions (each on first use).

    Regular expressions over the text, not a full tokenisation: this runs for every
    top candidate of every question.
    """
    return SentenceCues(text)


def answers_cue(cue: Cue, cues: SentenceCues, question_terms: frozenset[str]) -> bool:
    """Tell whether a sentence holds something of the kind asked for, beyond the question."""
    if cue is Cue.DATE:
        return cues.has_date
    if cue is Cue.NUMBER:
        return bool(cues.numbers - question_terms)
    if cue is Cue.PLACE:
        return cues.has_place
    if cue is Cue.REASON:
        return cues.has_reason
    return bool(cues.names - question_terms)
