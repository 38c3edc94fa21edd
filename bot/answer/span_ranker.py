"""Score the candidate answer spans of a passage with the fitted linear model; keep the best.

Candidates are the phrases of the type a question asks for (bot.answer.spans) and the
stretches in the question word's slot (bot.answer.slots). Each gets cheap features -
how close it stands to the question's words, on which side, beside the question's
head noun, capitalised, a number, its length - and one weight vector per question
type (bot.answer.span_weights, written by scripts/fit_spans.py from squad-dev's
training half) scores them. Only the best candidate is marked: marking every name
of a passage would point at nothing.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from bot.answer.cues import _NUMBER_WORDS, Cue
from bot.answer.slots import NAMING, Shape, ends_sentence, short_stop
from bot.answer.span_weights import WEIGHTS
from bot.index.tokenize import STOP_WORDS, Token, is_content, stem

Span = tuple[int, int]

# The features, in the order of each WEIGHTS vector.
FEATURES = (
    "near",  # left + right: closeness to the nearest question word on each side
    "best_sentence",  # in the sentence holding most question words
    "after_match",  # the content word before it is one of the question's
    "before_match",  # the content word after it is one of the question's
    "subject_before",  # "what X did...": before the question's words
    "object_after",  # "what did X do" / "what is X": after the question's words
    "after_left",  # right after the words before a mid-question wh-word
    "head_next",  # beside the question's head noun ("what theorem": "speed-up theorem")
    "capital",  # holds a capitalised word that does not open the sentence
    "digit",  # holds a digit
    "length",  # log of 1 + its content words
    "named",  # follows "called", "named", "known as", "is", "was", "as"
    "opens",  # opens its sentence
    "nearest",  # the closest candidate of the passage to the question's words
    "lone_word",  # one lowercase word (often a modifier: "primary", "directly")
    "adverb",  # its content words all end in "-ly"
    "left",  # closeness to the nearest question word before it, 1 / (1 + gap)
    "right",  # the same after it
    "head_capital",  # capitalised, for a question with a head noun ("what actress")
    "subject_right",  # the subject's slot: the question's words follow right after
    "object_left",  # the object's slot: the question's words stand right before
    "typed",  # a phrase of the asked type (a date, a number, a name, a place, a reason)
    "holds_typed",  # a slot stretch holding such a phrase
    "by_before",  # follows "by" (the agent of a passive: "who built it?")
    "preposition_before",  # follows in/at/on/from/to/of/for/with
    "inside_brackets",  # inside parentheses
    "quoted",  # inside quotation marks (a title)
    "proper",  # every content word capitalised
    "words",  # log of 1 + all its words
    "year",  # holds a year
    "clause_matches",  # share of the question's words in its clause
    "sentence_matches",  # share of the question's words in its sentence
    "typed_and_near",  # a typed phrase beside the question's words (typed x right/left)
    "slot_and_typed_question",  # a slot stretch for a typed question
    "ranked_sentence",  # in the sentence that ranked the passage (all, when not known)
    "copula_link",  # "X is <question's words>" / "<question's words> is X": a definition
    "quantity_fit",  # a number, for a question about a number, amount or total
    "capital_beside",  # its word beside the question's words is capitalised
    "question_share",  # share of its content words that are the question's
    "head_follows",  # the question's head noun comes right after it ("Ku [band]")
    "apposition",  # set off by a comma right beside the question's words ("governor, X")
    "same_preposition",  # follows the preposition governing the wh-word ("licensed by [X]")
)
_COPULAS = frozenset("is was are were".split())
_NEAREST = FEATURES.index("nearest")
_PREPOSITIONS = frozenset("in at on from to of for with into during".split())
_ARTICLES = frozenset("the a an".split())
_CLAUSE_END = re.compile(r"[,;:()\"“”]|[.!?]\s|\s[-–—]\s")
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b")
_QUOTE = re.compile('["“”]')


@dataclass(frozen=True)
class Candidate:
    """A stretch of a passage's words that may answer: its first and last word, its kind."""

    first: int
    last: int
    typed: bool  # found by the finder of the question's type
    span: Span  # the characters marked when it is chosen


@dataclass
class PassageWords:
    """A passage's words read once: which are the question's, their sentences and clauses."""

    text: str
    tokens: list[Token]
    matched: list[bool]
    stems: list[str]
    sentence: list[int]  # per word, the number of its sentence
    clause: list[int]  # per word, the number of its clause
    hits: dict[int, list[int]]  # per sentence, the positions of the question's words
    best: Span | None = None  # the characters of the sentence that ranked the passage


def read_words(
    text: str, tokens: list[Token], matched: list[bool], best: Span | None = None
) -> PassageWords:
    """Number each word's sentence and clause, and find the question's words in each sentence."""
    sentence = [0] * len(tokens)
    clause = [0] * len(tokens)
    for i in range(1, len(tokens)):
        gap = text[tokens[i - 1].end : tokens[i].start]
        if gap == " ":  # most gaps: no regular expression needed
            sentence[i], clause[i] = sentence[i - 1], clause[i - 1]
            continue
        gap += " "
        ends = ends_sentence(text, tokens[i - 1], tokens[i], gap)
        sentence[i] = sentence[i - 1] + ends
        clause[i] = clause[i - 1] + (ends or _clause_ends(text, tokens[i - 1], tokens[i], gap))
    hits: dict[int, list[int]] = {}
    for i, hit in enumerate(matched):
        if hit:
            hits.setdefault(sentence[i], []).append(i)
    stems = [stem(t.word) for t in tokens]
    return PassageWords(text, tokens, matched, stems, sentence, clause, hits, best)


def _clause_ends(text: str, before: Token, after: Token, gap: str) -> bool:
    """Tell whether a clause ends between two words; an initial's full stop ends none."""
    return bool(_CLAUSE_END.search(gap)) and not short_stop(text, before, after, gap)


def best_span(
    passage: PassageWords, candidates: list[Candidate], shape: Shape, cue: Cue | None
) -> Span | None:
    """Return the characters of the best-scoring candidate, or None without one."""
    if not candidates:
        return None
    weights = WEIGHTS[cue.value if cue else "none"]
    scores = np.asarray(features(passage, candidates, shape)) @ np.asarray(weights)
    return candidates[int(np.argmax(scores))].span  # the first of equals


def features(passage: PassageWords, candidates: list[Candidate], shape: Shape) -> list[list[float]]:
    """Return each candidate's features, in the order of FEATURES."""
    text, tokens, matched, sentence = (
        passage.text,
        passage.tokens,
        passage.matched,
        passage.sentence,
    )
    stems, best = passage.stems, passage.best
    held = {s: {stems[j] for j in found} for s, found in passage.hits.items()}
    most = max((len(v) for v in held.values()), default=0)
    question_size = max(len(set().union(*held.values())), 1)
    in_clause: dict[int, set[str]] = {}
    for j, hit in enumerate(matched):
        if hit:
            in_clause.setdefault(passage.clause[j], set()).add(stems[j])
    # Per word, then summed up to each word, so a candidate's counts are two look-ups.
    content_word = [is_content(t) for t in tokens]
    upper = [text[t.start].isupper() for t in tokens]
    digits = _prefix(not t.word.isalpha() and any(map(str.isdigit, t.word)) for t in tokens)
    contents = _prefix(content_word)
    proper = _prefix(c and u for c, u in zip(content_word, upper, strict=True))
    adverbs = _prefix(
        c and t.word.endswith("ly") for c, t in zip(content_word, tokens, strict=True)
    )
    uppers = _prefix(upper)
    numbers = _prefix(t.word in _NUMBER_WORDS for t in tokens)
    quotes = [m.start() for m in _QUOTE.finditer(text)]
    rows: list[list[float]] = []
    # Typed spans do not overlap (spans._distinct): sorted by start, they are by end too.
    typed_spans = sorted(c.span for c in candidates if c.typed)
    typed_starts = [a for a, _ in typed_spans]
    for candidate in candidates:
        first, last = candidate.first, candidate.last
        s = sentence[first]
        hits = passage.hits.get(s, [])  # in word order
        below = bisect_left(hits, first)
        above = bisect_right(hits, last)
        # The nearest question word on each side: a sum over all of them would favour
        # long stretches reaching many of them.
        left = 1.0 / (first - hits[below - 1]) if below else 0.0
        right = 1.0 / (hits[above] - last) if above < len(hits) else 0.0
        near = left + right
        previous = _neighbour(tokens, first, -1)
        following = _neighbour(tokens, last, 1)
        after = previous is not None and matched[previous] and sentence[previous] == s
        before = following is not None and matched[following] and sentence[following] == s
        words = last + 1 - first
        opening = first == 0 or sentence[first - 1] != s
        capital = uppers[last + 1] - uppers[first + opening] > 0
        start, end = tokens[first].start, tokens[last].end
        digit = digits[last + 1] > digits[first]
        content = contents[last + 1] - contents[first]
        word_before = tokens[first - 1].word if first > 0 else ""
        clause = set().union(
            in_clause.get(passage.clause[first], ()), in_clause.get(passage.clause[last], ())
        )
        rows.append(
            [
                near,
                float(bool(held.get(s)) and len(held[s]) == most),
                float(after),
                float(before),
                float(shape.subject and bool(right) and not left),
                float(shape.object and bool(left)),
                float(previous is not None and stems[previous] in shape.left),
                float(any(j is not None and stems[j] in shape.head for j in (previous, following))),
                float(capital),
                float(digit),
                math.log1p(content),
                float(word_before in NAMING),
                float(opening),
                0.0,
                float(words == 1 and not capital and not digit),
                float(adverbs[last + 1] - adverbs[first] == content),
                left,
                right,
                float(bool(shape.head) and capital),
                float(shape.subject) * right,
                float(shape.object) * left,
                float(candidate.typed),
                float(not candidate.typed and _holds(typed_spans, typed_starts, start, end)),
                float(word_before == "by"),
                float(word_before in _PREPOSITIONS),
                float(_inside(text, start, end, "(", ")")),
                float(
                    bisect_left(quotes, start) % 2 == 1 and bisect_left(quotes, end) < len(quotes)
                ),
                float(bool(content) and proper[last + 1] - proper[first] == content),
                math.log1p(words),
                float(bool(_YEAR.search(text, start, end))),
                len(clause) / question_size,
                len(held.get(s, ())) / question_size,
                float(candidate.typed) * max(left, right),
                float(not candidate.typed and bool(typed_spans)),
                float(best is None or best[0] <= start < best[1]),
                float(_copula_link(tokens, matched, first, last)),
                float(shape.quantity and (digit or numbers[last + 1] > numbers[first])),
                # The capitalised word itself touches the question's words.
                float((after and upper[first] and not opening) or (before and upper[last])),
                (above - below) / content if content else 0.0,
                float(following is not None and stems[following] in shape.head),
                float(_apposition(passage, previous, following, first, last)),
                float(bool(shape.preposition) and _governor(tokens, first) == shape.preposition),
            ]
        )
    closest = max((row[0] for row in rows), default=0.0)
    for row in rows:
        row[_NEAREST] = float(row[0] == closest)
    return rows


def _prefix(flags: Iterable[bool]) -> list[int]:
    """Return the running count of true flags: entry i counts those before word i."""
    return list(accumulate(flags, int.__add__, initial=0))


def _copula_link(tokens: list[Token], matched: list[bool], first: int, last: int) -> bool:
    """Tell whether a copula joins the candidate to the question's words, on either side."""
    if last + 2 < len(tokens) and tokens[last + 1].word in _COPULAS:
        following = _neighbour(tokens, last + 1, 1)
        if following is not None and matched[following]:
            return True
    if first >= 2 and tokens[first - 1].word in _COPULAS:
        return bool(matched[first - 2])
    return False


def _governor(tokens: list[Token], first: int) -> str:
    """Return the word before a candidate, past an article ("by [the] Methodist Church")."""
    j = first - 1
    while j >= 0 and tokens[j].word in _ARTICLES:
        j -= 1
    return tokens[j].word if j >= 0 else ""


def _apposition(
    passage: PassageWords, previous: int | None, following: int | None, first: int, last: int
) -> bool:
    """Tell whether a comma alone parts the candidate from a question word beside it."""
    text, tokens, matched = passage.text, passage.tokens, passage.matched
    if (
        previous is not None
        and matched[previous]
        and _comma_gap(text[tokens[previous].end : tokens[first].start])
    ):
        return True
    if following is not None and matched[following]:
        return _comma_gap(text[tokens[last].end : tokens[following].start])
    return False


def _comma_gap(gap: str) -> bool:
    """Tell whether the text between two words is a comma, with at most an article after it."""
    return gap.lstrip().startswith(",") and gap.count(",") == 1 and len(gap) <= 7


def _holds(spans: list[Span], starts: list[int], start: int, end: int) -> bool:
    """Tell whether one of the sorted, disjoint spans lies within start..end."""
    i = bisect_left(starts, start)
    return i < len(spans) and spans[i][1] <= end + 1


def _inside(text: str, start: int, end: int, opening: str, closing: str) -> bool:
    before = text.rfind(opening, 0, start)
    return before >= 0 and text.rfind(closing, before, start) < 0 and closing in text[end:]


def _neighbour(tokens: list[Token], at: int, step: int) -> int | None:
    """Return the nearest word before (step -1) or after (+1) that is not a stop word."""
    j = at + step
    while 0 <= j < len(tokens) and tokens[j].word in STOP_WORDS:
        j += step
    return j if 0 <= j < len(tokens) else None
