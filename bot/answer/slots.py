"""Read where a question's wh-word stands, and cut a passage into the stretches that may fill it.

"What theorem did Blum prove?" has no date, number or name to look for; its answer
is a stretch of the passage that the question's own words leave uncovered, next to
them, on the side the question word stands ("what did X prove" - after X's words;
"what caused X" - before them; "the celebration of what unions" - after
"celebration of"). The stretches run between punctuation, clause words and the
question's words; bot.answer.span_ranker scores them. A yes/no question has no
slot, and a "when" clause that only sets the scene does not make a question ask
for a date (asked_cue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer.cues import Cue, question_cue
from bot.index.tokenize import STOP_WORDS, Token, is_content, stem, words

Span = tuple[int, int]

# Where a stretch stops: punctuation between two words.
_BOUNDARY = re.compile(r"[,;:()\"“”!?\[\]]|\s[-–—]\s|[.!?]\s")
_SENTENCE_END = re.compile(r"[.!?][\"”')\]]*\s")
# Words whose full stop ends no sentence ("the U.S. population", "Mt. Kenya").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr mt st jr sr gen col lt gov sen rep prof inc co ltd vs etc fig".split()
    + "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Where a clause stops: the stronger punctuation only.
_CLAUSE_BOUNDARY = re.compile(r"[;:()\"“”!?\[\]]|\s[-–—]\s|[.!?]\s")
# Words that open a new clause: a stretch does not run across them.
_CLAUSE_WORDS = frozenset(
    "which that who whom whose where when while although though but because since whereas "
    "if unless and or".split()
)
_SUBORDINATE = frozenset(
    "which that who whom whose where when while although though because whereas".split()
)
# Words of a question asking for a quantity although it has no "how many".
_QUANTITY = frozenset(
    "number amount total percentage percent population size count many much least most".split()
)
_WH = frozenset("what which how whom whose who where when why".split())
_AUXILIARIES = frozenset(
    "is was are were be been do does did has have had can could will would should may might "
    "must shall".split()
)
_COPULAS = frozenset("is was are were".split())
PREPOSITIONS = frozenset("in at on from to of for with into during by about over under".split())
NAMING = frozenset("called named known as is was are were termed dubbed".split())
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
    quantity: bool = False  # it asks for a quantity ("what is the least number of members")
    preposition: str = ""  # the one that governs the wh-word ("by what church", "consists of?")


def shape_of(question: str) -> Shape:
    """Read where the question word stands in the question.

    "what is the X..." asks for an X as "what X" does: X is its head noun too.
    """
    tokens = [t.word for t in words(question)]
    at = next((i for i, w in enumerate(tokens) if w in _WH), None)
    if at is None:
        return Shape(False, False, frozenset(), frozenset(), any(w in _QUANTITY for w in tokens))
    before = [w for w in tokens[:at] if w not in STOP_WORDS]
    left = frozenset(stem(w) for w in before)
    head, j = _head(tokens, at + 1)
    follows_aux = j < len(tokens) and tokens[j] in _AUXILIARIES
    opening = not before
    subject = opening and not follows_aux
    obj = opening and follows_aux and not head
    if obj and tokens[j] in _COPULAS and tokens[j + 1 : j + 2] == ["the"]:
        head = _head(tokens, j + 2)[0]
    quantity = any(w in _QUANTITY for w in tokens)
    left = left if not opening else frozenset()
    return Shape(subject, obj, left, frozenset(head), quantity, _governing(tokens, at))


def _governing(tokens: list[str], at: int) -> str:
    """Return the preposition before the wh-word, or the one ending the question ("rename to?")."""
    if at and tokens[at - 1] in PREPOSITIONS:
        return tokens[at - 1]
    return tokens[-1] if tokens[-1] in PREPOSITIONS and at < len(tokens) - 1 else ""


def _head(tokens: list[str], j: int) -> tuple[list[str], int]:
    """Return the stems of the noun phrase from word j on, and where it stops."""
    head: list[str] = []
    while j < len(tokens) and tokens[j] not in _AUXILIARIES and len(head) < 4:
        word = tokens[j]
        if word not in STOP_WORDS and word not in _HEAD_SKIP:
            head.append(stem(word))
        elif word != "of" and word not in _HEAD_SKIP:
            break
        j += 1
    return head, j


# "when" opening a clause that sets the scene, not asking for a time: "who led it when
# the war began?", "when rock folds, what does it form?" (a "when did..." asks).
_SCENE_WHEN = re.compile(
    r"\bwhen\s+(?!(?:is|was|are|were|do|does|did|has|have|had|can|could|will|would|should"
    r"|may|might|must|shall)\b)[^,?]*",
    re.IGNORECASE,
)


def asked_cue(question: str, cue: Cue | None) -> Cue | None:
    """Return what the question asks for, reading past a "when" clause that only sets the scene.

    Such a clause stands after the question's own words or is closed by a comma;
    "when Kim visited China?" alone still asks when.
    """
    if cue is not Cue.DATE:
        return cue
    rest = question
    for match in reversed(list(_SCENE_WHEN.finditer(question))):
        if match.start() > 0 or question[match.end() : match.end() + 1] == ",":
            rest = rest[: match.start()] + rest[match.end() :]
    return cue if rest == question else question_cue(rest)


def asks(question: str) -> bool:
    """Tell whether a query asks for a phrase of the passage: it has a slot to fill.

    A bare keyword query ("Russia", "UNSC sanctions") has none; nor has a yes/no question
    ("is the move likely to fail?"), answered by the passage's statement, not by a
    phrase beside its words, unless it names the alternatives ("growth or reduction?").
    """
    tokens = [t.word for t in words(question)]
    if any(w in _WH for w in tokens):
        return True
    if tokens and tokens[0] in _AUXILIARIES:
        return "or" in tokens
    return question.rstrip().endswith("?")


def ends_sentence(text: str, before: Token, after: Token, gap: str) -> bool:
    """Tell whether a sentence ends between two words: a stop, then a capital or a digit.

    The full stop of an initial or an abbreviation ("U.S.", "Mt.") ends none.
    """
    if not _SENTENCE_END.search(gap):
        return False
    word = before.word
    if gap[0] == "." and (len(word) == 1 or "." in word or word in _ABBREVIATIONS):
        return False
    first = text[after.start]
    return first.isupper() or first.isdigit()


def short_stop(text: str, before: Token, after: Token, gap: str) -> bool:
    """Tell whether the gap between two words is a full stop ending no sentence ("St. George")."""
    return gap.strip() == "." and not ends_sentence(text, before, after, gap)


def matched_words(tokens: list[Token], question_terms: frozenset[str]) -> list[bool]:
    """Tell, per word, whether it is one of the question's content words."""
    return [is_content(t) and stem(t.word) in question_terms for t in tokens]


def stretches(text: str, tokens: list[Token], matched: list[bool]) -> list[tuple[int, int]]:
    """Return stretches (first, last token) free of the question's words, within a clause."""
    runs: list[list[int]] = []
    for boundary, clause_words in ((_BOUNDARY, _CLAUSE_WORDS), (_CLAUSE_BOUNDARY, _SUBORDINATE)):
        runs += _runs(text, tokens, matched, boundary, clause_words)
    out: list[tuple[int, int]] = []
    for run in runs:
        # Trim the words that cannot be the answer, but not a part of a hyphenated word.
        while run and (_loose(tokens[run[0]]) or tokens[run[0]].word in NAMING):
            run = run[1:]
        while run and _loose(tokens[run[-1]]):
            run = run[:-1]
        if run and any(is_content(tokens[i]) for i in run) and (run[0], run[-1]) not in out:
            out.append((run[0], run[-1]))
    return out


def _runs(
    text: str,
    tokens: list[Token],
    matched: list[bool],
    boundary: re.Pattern[str],
    clause_words: frozenset[str],
) -> list[list[int]]:
    """Return the runs of words between boundaries, clause words and the question's words."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, token in enumerate(tokens):
        gap = text[tokens[i - 1].end : token.start] if i else " "
        if (
            gap != " "
            and boundary.search(gap + " ")
            and not short_stop(text, tokens[i - 1], token, gap)
        ):
            current = _close(runs, current)
        if matched[i] or token.word in clause_words:
            current = _close(runs, current)
            continue
        current.append(i)
    _close(runs, current)
    return runs


def _loose(token: Token) -> bool:
    """Tell whether a word at a stretch's edge is a stop word standing on its own."""
    return token.word in STOP_WORDS and not token.fragment


def _close(runs: list[list[int]], current: list[int]) -> list[int]:
    if current:
        runs.append(current)
    return []
