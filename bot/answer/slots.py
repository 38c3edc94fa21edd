"""Find the phrase answering a question of no fixed type: the words in the question word's slot.

"What theorem did Blum prove?" has no date, number or name to look for; its answer
is the stretch of the passage that the question's own words leave uncovered, next
to them, on the side the question word stands ("what did X prove" - after X's
words; "what caused X" - before them; "the celebration of what unions" - after
"celebration of"). Each candidate stretch (words between punctuation and the
question's words) is scored by a small linear model over such features, fitted on
the training half of squad-dev by scripts/fit_spans.py; the best one is the span.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.index.tokenize import STOP_WORDS, Token, is_content, stem, words

Span = tuple[int, int]

# The features, in the order of WEIGHTS (scripts/fit_spans.py fits and prints them).
FEATURES = (
    "near",  # closeness to the question's words in the same sentence, sum of 1 / (1 + gap)
    "best_sentence",  # 1 when the stretch is in the sentence holding most question words
    "after_match",  # the word before the stretch is one of the question's
    "before_match",  # the word after the stretch is one of the question's
    "subject_before",  # "what X did..." (the question word is the subject): stretch before them
    "object_after",  # "what did X do" / "what is X": stretch after the question's words
    "after_left",  # wh-word mid-question: stretch right after the words before the wh-word
    "head_next",  # beside the question's head noun ("what theorem": "speed-up theorem")
    "capital",  # holds a capitalised word that does not open the sentence
    "digit",  # holds a digit
    "length",  # log of 1 + its content words
    "named",  # follows "called", "named", "known as", "is", "was", "as"
    "opens",  # opens its sentence
    "nearest",  # the closest stretch of the passage to the question's words
    "lone_word",  # one lowercase word (often a modifier: "primary", "directly")
    "adverb",  # its content words all end in "-ly"
    "left",  # closeness to the nearest question word before it, 1 / (1 + gap)
    "right",  # the same after it
    "head_capital",  # capitalised, for a question with a head noun ("what actress")
    "subject_right",  # the subject's slot: the question's words follow right after
    "object_left",  # the object's slot: the question's words stand right before
    "bias",
)
WEIGHTS: tuple[float, ...] = (
    0.867, 1.196, 0.438, -0.175, -0.224, 0.498, 0.383, 1.326, 0.506, -0.063, -0.166,
    -0.141, 0.767, 0.021, -0.662, -0.297, -0.293, -0.617, 0.492, -0.07, -0.073, 0.0,
)  # fmt: skip

_NEAREST = FEATURES.index("nearest")

# Where a stretch stops: punctuation between two words.
_BOUNDARY = re.compile(r"[,;:()\"“”!?\[\]]|\s[-–—]\s|[.!?]\s")
# Where a clause stops: the stronger punctuation only.
_CLAUSE_BOUNDARY = re.compile(r"[;:()\"“”!?\[\]]|\s[-–—]\s|[.!?]\s")
_SENTENCE_END = re.compile(r"[.!?][\"”')\]]*\s")
# Words that open a new clause: a stretch does not run across them.
_CLAUSE_WORDS = frozenset(
    "which that who whom whose where when while although though but because since whereas "
    "if unless and or".split()
)
_SUBORDINATE = frozenset(
    "which that who whom whose where when while although though because whereas".split()
)
_WH = frozenset("what which how whom whose who where when why".split())
_AUXILIARIES = frozenset(
    "is was are were be been do does did has have had can could will would should may might "
    "must shall".split()
)
_NAMING = frozenset("called named known as is was are were termed dubbed".split())
# Lowercase words that are not nouns a question asks for ("what other..." - "other").
_HEAD_SKIP = frozenset(
    "other else one two three four many type types kind kinds sort sorts".split()
)


@dataclass(frozen=True)
class Shape:
    """Where the question word stands, and the question's words around it."""

    subject: bool  # "what caused...", "which theory states...": the answer comes first
    object: bool  # "what did X...", "what is X": the answer comes after X's words
    left: frozenset[str]  # question terms before a mid-question wh-word
    head: frozenset[str]  # the noun the wh-word asks for ("what theorem")


def shape_of(question: str) -> Shape:
    """Read where the question word stands in the question."""
    tokens = [t.word for t in words(question)]
    at = next((i for i, w in enumerate(tokens) if w in _WH), None)
    if at is None:
        return Shape(False, False, frozenset(), frozenset())
    before = [w for w in tokens[:at] if w not in STOP_WORDS]
    left = frozenset(stem(w) for w in before)
    head: list[str] = []
    j = at + 1
    while j < len(tokens) and tokens[j] not in _AUXILIARIES and len(head) < 4:
        word = tokens[j]
        if word not in STOP_WORDS and word not in _HEAD_SKIP:
            head.append(stem(word))
        elif word != "of" and word not in _HEAD_SKIP:
            break
        j += 1
    follows_aux = j < len(tokens) and tokens[j] in _AUXILIARIES
    opening = not before
    subject = opening and not follows_aux
    obj = opening and follows_aux and not head
    return Shape(subject, obj, left if not opening else frozenset(), frozenset(head))


def slot_spans(question: str, text: str, question_terms: frozenset[str]) -> tuple[Span, ...]:
    """Return the stretch of text that stands where the question word does, if any.

    Only a sentence holding some of the question's words has such a slot.
    """
    rows = candidate_rows(question, text, question_terms)
    if not rows:
        return ()
    scores = [sum(w * x for w, x in zip(WEIGHTS, row, strict=True)) for _, row in rows]
    best = max(range(len(rows)), key=lambda c: (scores[c], -c))
    return (rows[best][0],)


def candidate_rows(
    question: str, text: str, question_terms: frozenset[str]
) -> list[tuple[Span, list[float]]]:
    """Return the candidate spans beside the question's words, with their features."""
    tokens = words(text)
    candidates = _candidates(text, tokens, question_terms)
    rows = _features(text, tokens, candidates, question_terms, shape_of(question))
    return [
        ((tokens[a].start, tokens[b].end), row)
        for (a, b), row in zip(candidates, rows, strict=True)
        if row[0] > 0
    ]


def _matched(tokens: list[Token], question_terms: frozenset[str]) -> list[bool]:
    return [is_content(t) and stem(t.word) in question_terms for t in tokens]


def _candidates(
    text: str, tokens: list[Token], question_terms: frozenset[str]
) -> list[tuple[int, int]]:
    """Return stretches (first, last token) free of the question's words, within a clause."""
    matched = _matched(tokens, question_terms)
    runs: list[list[int]] = []
    for boundary, clause_words in ((_BOUNDARY, _CLAUSE_WORDS), (_CLAUSE_BOUNDARY, _SUBORDINATE)):
        current: list[int] = []
        for i, token in enumerate(tokens):
            if i and boundary.search(text[tokens[i - 1].end : token.start] + " "):
                current = _close(runs, current)
            if matched[i] or token.word in clause_words:
                current = _close(runs, current)
                continue
            current.append(i)
        _close(runs, current)
    out: list[tuple[int, int]] = []
    for run in runs:
        # Trim the words that cannot be the answer, but not a part of a hyphenated word.
        while run and (_loose(tokens[run[0]]) or tokens[run[0]].word in _NAMING):
            run = run[1:]
        while run and _loose(tokens[run[-1]]):
            run = run[:-1]
        if run and any(is_content(tokens[i]) for i in run) and (run[0], run[-1]) not in out:
            out.append((run[0], run[-1]))
    return out


def _loose(token: Token) -> bool:
    """Tell whether a word at a stretch's edge is a stop word standing on its own."""
    return token.word in STOP_WORDS and not token.fragment


def _close(runs: list[list[int]], current: list[int]) -> list[int]:
    if current:
        runs.append(current)
    return []


def _features(
    text: str,
    tokens: list[Token],
    candidates: list[tuple[int, int]],
    question_terms: frozenset[str],
    shape: Shape,
) -> list[list[float]]:
    matched = _matched(tokens, question_terms)
    sentence = [0] * len(tokens)
    for i in range(1, len(tokens)):
        gap = text[tokens[i - 1].end : tokens[i].start] + " "
        sentence[i] = sentence[i - 1] + bool(_SENTENCE_END.search(gap))
    held: dict[int, set[str]] = {}
    for i, hit in enumerate(matched):
        if hit:
            held.setdefault(sentence[i], set()).add(stem(tokens[i].word))
    most = max((len(v) for v in held.values()), default=0)
    stems = [stem(t.word) for t in tokens]
    rows: list[list[float]] = []
    for first, last in candidates:
        s = sentence[first]
        near = sum(
            1.0 / (1 + max(first - j - 1 if j < first else j - last - 1, 0))
            for j, hit in enumerate(matched)
            if hit and sentence[j] == s
        )
        previous = _neighbour(tokens, first, -1)
        following = _neighbour(tokens, last, 1)
        after = previous is not None and matched[previous] and sentence[previous] == s
        before = following is not None and matched[following] and sentence[following] == s
        later = any(matched[j] for j in range(last + 1, len(tokens)) if sentence[j] == s)
        earlier = any(matched[j] for j in range(first) if sentence[j] == s)
        after_left = previous is not None and stems[previous] in shape.left
        head_next = any(j is not None and stems[j] in shape.head for j in (previous, following))
        span_tokens = tokens[first : last + 1]
        opening = first == 0 or sentence[first - 1] != s
        capital = any(
            text[t.start].isupper() and not (opening and k == 0) for k, t in enumerate(span_tokens)
        )
        digit = any(ch.isdigit() for ch in text[tokens[first].start : tokens[last].end])
        content = sum(is_content(t) for t in span_tokens)
        named = first > 0 and tokens[first - 1].word in _NAMING
        content_words = [t.word for t in span_tokens if is_content(t)]
        lone = len(span_tokens) == 1 and not capital and not digit
        adverb = all(w.endswith("ly") for w in content_words)
        lefts = [first - j - 1 for j in range(first) if matched[j] and sentence[j] == s]
        rights = [
            j - last - 1 for j in range(last + 1, len(tokens)) if matched[j] and sentence[j] == s
        ]
        left = 1.0 / (1 + min(lefts)) if lefts else 0.0
        right = 1.0 / (1 + min(rights)) if rights else 0.0
        rows.append(
            [
                near,
                float(bool(held.get(s)) and len(held[s]) == most),
                float(after),
                float(before),
                float(shape.subject and later and not earlier),
                float(shape.object and earlier),
                float(after_left),
                float(head_next),
                float(capital),
                float(digit),
                math.log1p(content),
                float(named),
                float(opening),
                0.0,
                float(lone),
                float(adverb),
                left,
                right,
                float(bool(shape.head) and capital),
                float(shape.subject) * right,
                float(shape.object) * left,
                1.0,
            ]
        )
    closest = max((row[0] for row in rows), default=0.0)
    for row in rows:
        row[_NEAREST] = float(row[0] == closest)
    return rows


def _neighbour(tokens: list[Token], at: int, step: int) -> int | None:
    """Return the nearest token before (step -1) or after (+1) that is not a stop word."""
    j = at + step
    while 0 <= j < len(tokens) and tokens[j].word in STOP_WORDS:
        j += step
    return j if 0 <= j < len(tokens) else None
