"""Find the phrase of a passage answering the question type: date, number, name, place, reason."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from bot.answer.cues import _MONTHS, Cue, question_cue
from bot.answer.slots import asked_cue, asks, matched_words, shape_of, stretches
from bot.answer.span_ranker import Candidate, PassageWords, best_span, read_words
from bot.index.tokenize import STOP_WORDS, Token, stem, words

Span = tuple[int, int]

_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# Whole date phrases, longest forms first: "Dec. 17, 2011", "Feb. 12", "in 2013", "Thursday".
_DATE_PHRASE = re.compile(
    rf"\b(?:(?:early|mid|late)[\s-]+)?(?:{_MONTH})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?"
    r"(?:,?\s+(?:1[0-9]{3}|20[0-9]{2}))?\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH})\.?(?:,?\s+(?:1[0-9]{{3}}|20[0-9]{{2}}))?\b"
    r"|\b(?:the\s+)?(?:early\s+|mid-?|late\s+)?(?:1[0-9]{3}|20[0-9]{2})s?\b"
    rf"|\b(?:{_DAY})\b"
    r"|\b(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\s+century\b"
    r"|\b(?:last|this|next|previous|the\s+same|that|early|late)[\s-]+"
    r"(?:year|month|week|decade|century)\b"
    r"|\b(?:yesterday|today|tomorrow)\b"
    r"|\b(?:(?:about|some|more\s+than|over|nearly)\s+)?[\d,.]+(?:\s+(?:thousand|million|billion))?"
    r"\s+(?:years?|months?|weeks?|days?)\s+(?:ago|later|earlier|after|before)\b"
    # Named periods and days: "the Cambrian period", "the first millennium AD", "Christmas Day".
    r"|\b(?:the\s+)?[A-Z][a-z]+\s+(?:epoch|period|era|age|time|Day|Eve)\b"
    r"|\b(?:the\s+)?(?:first|second|third|\d(?:st|nd|rd|th))\s+millennium(?:\s+(?:AD|BC|BCE|CE))?",
    re.IGNORECASE,
)
_NUMBER_WORD = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty"
    r"|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half"
)
# A number with what it counts ("30 years old", "$1.2 billion", "5 percent", "three").
_NUMBER_PHRASE = re.compile(
    r"(?:(?:about|around|some|nearly|almost|over|more\s+than|less\s+than|at\s+least|up\s+to)\s+)?"
    r"[$€£¥]?\s?(?:\d[\d,.]*\d|\d)(?:\s*(?:%|percent|per\s+cent))?"
    rf"(?:\s+(?:{_NUMBER_WORD}))*"
    r"(?:\s+(?:[a-z]+-)?[a-z]+){0,1}"
    rf"|\b(?:{_NUMBER_WORD})(?:[\s-]+(?:{_NUMBER_WORD}))*(?:\s+[a-z]+)?\b",
    re.IGNORECASE,
)
# A run of capitalised words, allowing "of", "the", "de" inside ("Bank of Korea").
# A word of a name: capitalised, an initial ("A. A. Michelson") or with a particle
# ("al-Zahrawi").
_NAME_WORD = r"(?:(?:al|el|ibn|bin)-)?[A-Z](?:[\w'.-]*\w|\.)"
_NAME_RUN = re.compile(
    rf"(?<![\w'-]){_NAME_WORD}(?:\s+(?:(?:of|the|de|da|von|van|al|bin|ibn)\s+)?{_NAME_WORD})*"
)
_PLACE_NAME = r"(?:[A-Z][\w'.-]*[\w])(?:\s+(?:of\s+)?[A-Z][\w'.-]*[\w])*"
_PLACE_RUN = re.compile(
    r"\b(?:in|at|from|to|near|across|throughout|into|outside|inside|within|of|between|with)\s+"
    rf"(?:the\s+)?({_PLACE_NAME}(?:(?:,\s+|,?\s+(?:and|or)\s+){_PLACE_NAME})*)"
)
# Openers that say a reason follows; "to" and "since" may open one too, saying less.
_STATED = (
    r"because(?:\s+of)?|due\s+to|owing\s+to|in\s+a\s+bid\s+to|in\s+an\s+(?:effort|attempt)\s+to"
    r"|in\s+order\s+to|so\s+that|so\s+as\s+to|as\s+a\s+result\s+of"
)
_REASON = re.compile(
    rf"\b(?:{_STATED}|thanks\s+to|aimed\s+at|for\s+the\s+purpose\s+of|since|to\s+(?=[a-z]))\s*",
    re.IGNORECASE,
)
# A stated opener ending where a reason starts.
_STATED_REASON = re.compile(rf"\b(?:{_STATED})\s*$", re.IGNORECASE)
_YEAR = re.compile(r"(?:1[0-9]{3}|20[0-9]{2})s?[,.]?")
# Where a reason clause stops.
_CLAUSE_END = re.compile(r"[,;:.!?()\"“”]|\s(?:and|but|while|whereas|the\s+\w+\s+said)\s")
_NOT_NAMES = frozenset(
    """I The A An In On At By For From To Of And But Or As It He She They We This That
    These Those His Her Its Their Our When Where Who Why What How After Before While
    During Since Meanwhile However Also""".split()
)
_NOT_NAMES |= {m.capitalize() for m in _MONTHS} | {d.capitalize() for d in _DAY.split("|")}


def spans_for(
    question: str,
    text: str,
    question_terms: frozenset[str],
    cue: Cue | None = None,
    tokens: list[Token] | None = None,
    best: Span | None = None,
) -> tuple[Span, ...]:
    """Return the character span of text that best answers the question, if any.

    A typed question (cue, else read from the question) weighs what its type asks
    for against the stretches standing in the question word's slot ("repaired by
    local volunteers" answers "who repaired it?"); any other weighs the stretches
    alone. A date or a number question is answered by a date or a number only.
    tokens are text's words when the caller has them already; best is where the
    sentence that ranked the passage stands in it, when it joins several.
    """
    cue = asked_cue(question, cue or question_cue(question))
    passage, found = candidates(question, text, question_terms, cue, tokens, best)
    best = best_span(passage, found, shape_of(question), cue)
    return (best,) if best is not None else ()


def candidates(
    question: str,
    text: str,
    question_terms: frozenset[str],
    cue: Cue | None,
    tokens: list[Token] | None = None,
    best: Span | None = None,
) -> tuple[PassageWords, list[Candidate]]:
    """Return the passage's words, read once, and the candidate spans.

    A typed phrase counts only in a sentence holding some of the question's words,
    when there is one (a passage may join a sentence that answers to its neighbours).
    """
    tokens = words(text) if tokens is None else tokens
    passage = read_words(text, tokens, matched_words(tokens, question_terms), best)
    found: list[Candidate] = []
    starts = [t.start for t in tokens]
    for span in find_spans(cue, text, question_terms) if cue is not None else ():
        first, last = _token_range(tokens, starts, span)
        if first <= last:
            found.append(Candidate(first, last, True, span))
    asked = [c for c in found if passage.sentence[c.first] in passage.hits]
    found = asked or found
    # A reason given in so many words ("because", "in a bid to") beside the question's
    # words answers "why" alone, as a date answers "when".
    said = cue is Cue.REASON and any(_stated_reason(text, c.span[0]) for c in asked)
    if not question or said or cue in (Cue.DATE, Cue.NUMBER) or not (cue or asks(question)):
        return passage, found
    typed = [(c.first, c.last) for c in found]
    # Only a sentence holding some of the question's words has a slot; a stretch holding
    # a typed phrase is left out, as the phrase alone says it in fewer words.
    for first, last in stretches(text, tokens, passage.matched):
        if passage.sentence[first] in passage.hits and not any(
            first <= a and b <= last for a, b in typed
        ):
            found.append(Candidate(first, last, False, (tokens[first].start, tokens[last].end)))
    return passage, found


def _stated_reason(text: str, start: int) -> bool:
    """Tell whether an opener saying it is a reason ends right where start is."""
    return bool(_STATED_REASON.search(text, max(start - 30, 0), start))


def _token_range(tokens: list[Token], starts: list[int], span: Span) -> tuple[int, int]:
    """Return the first and last word overlapping a character span (first > last: none)."""
    first = bisect_right(starts, span[0]) - 1
    if first < 0 or tokens[first].end <= span[0]:
        first += 1
    return first, bisect_left(starts, span[1]) - 1


def find_spans(cue: Cue, text: str, question_terms: frozenset[str]) -> tuple[Span, ...]:
    """Return the spans of text holding what a question of this type asks for.

    Phrases made only of the question's own words are no answer to it ("who is Kim?"
    is not answered by "Kim"), so they are left out.
    """
    if cue is Cue.DATE:
        # "may" in lower case is the verb, not the month.
        found = [m.span() for m in _DATE_PHRASE.finditer(text) if not m.group().startswith("may")]
    elif cue is Cue.NUMBER:
        found = [_unit_trim(text, _trim(text, m.span())) for m in _NUMBER_PHRASE.finditer(text)]
        # A year is a date, not the count or age asked for.
        found = [s for s in found if not _YEAR.fullmatch(text[s[0] : s[1]].split()[0])]
    elif cue is Cue.NAME:
        found = _names(text, question_terms)
    elif cue is Cue.PLACE:
        found = [m.span(1) for m in _PLACE_RUN.finditer(text) if m.group(1) not in _NOT_NAMES]
        found = [s for s in found if not _only_question_words(text[s[0] : s[1]], question_terms)]
    else:
        found = _reasons(text)
    kept = [
        s
        for s in found
        if s[1] > s[0] and not _only_question_words(text[s[0] : s[1]], question_terms)
    ]
    return tuple(_distinct(kept))


def _trim(text: str, span: Span) -> Span:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1] in " ,.":
        end -= 1
    return start, end


def _unit_trim(text: str, span: Span) -> Span:
    """Drop the word after a number when it is no unit ("4 and", "10 o'clock" cut at "o")."""
    start, end = span
    head, _, last = text[start:end].rpartition(" ")
    if head and (last.casefold() in STOP_WORDS or len(last) == 1):
        return start, start + len(head.rstrip(" ,"))
    return span


def _names(text: str, question_terms: frozenset[str]) -> list[Span]:
    spans: list[Span] = []
    for match in _NAME_RUN.finditer(text):
        start, end = match.span()
        words = match.group(0).split()
        # A sentence's first word is capitalised anyway: skip a lone common one.
        while words and words[0] in _NOT_NAMES:
            start += len(words[0]) + 1
            words = words[1:]
        if words:
            spans.append((start, end))
    return [s for s in spans if not _only_question_words(text[s[0] : s[1]], question_terms)]


def _reasons(text: str) -> list[Span]:
    spans: list[Span] = []
    strong: list[Span] = []
    for match in _REASON.finditer(text):
        start = match.end()
        stop = _CLAUSE_END.search(text, start)
        end = stop.start() if stop else len(text)
        if end - start < 3:
            continue
        opener = match.group(0).strip().lower()
        (spans if opener in {"to", "since"} else strong).append((start, end))
    return strong or spans[:1]


def _only_question_words(phrase: str, question_terms: frozenset[str]) -> bool:
    """Tell whether a phrase's content words are all the question's ("Doctor Who", asked about).

    Stop words do not count either way: "who" is no search term, yet "Doctor Who" only
    repeats a question about Doctor Who.
    """
    words = [w.casefold() for w in re.findall(r"[^\W_]+", phrase)]
    content = [stem(w) for w in words if w not in STOP_WORDS and w != "de"]
    return bool(content) and all(t in question_terms for t in content)


def _distinct(spans: list[Span]) -> list[Span]:
    """Drop spans inside or overlapping an earlier one, keeping text order."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    return kept
