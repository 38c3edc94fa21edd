"""Split article text into paragraphs and sentences.

A rule-based splitter: measured on the seed article and on SQuAD it agrees with
pysbd where pysbd is right, and it is about a hundred times faster, which
matters when a newsroom archive of a million sentences is indexed.
"""

from __future__ import annotations

import re

# A boundary candidate: terminal punctuation, optional closing quotes or
# brackets, whitespace, then something that can open a sentence.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*\s+(?=["'“‘(\[]?[^\W_a-z])""")

# Abbreviations that never end a sentence when followed by a capital word.
_TITLES = frozenset(
    """Mr Mrs Ms Mx Dr Prof St Sr Jr Gen Gov Sen Rep Col Lt Capt Sgt Cmdr Adm Maj Rev Hon Pres
    Supt Insp Fr Messrs Mt Ft Inc Co Corp Ltd Bros vs etc approx Dept Univ Ave Blvd Rd Fig
    Vol Ch Sec Art Op cf al e.g i.e Nos""".split()
)
# Month abbreviations only stay joined before a number ("Feb. 12").
_MONTHS = frozenset("""Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec""".split())
# After a dotted acronym ("U.N.", "U.S."), a new sentence usually starts with one of these.
_STARTERS = frozenset(
    """The A An He She It They We I You His Her Its Their Our This That These Those There But
    And In On At As If When While After Before However Meanwhile Still Yet So Some Many Most
    Officials Police""".split()
)
_LAST_WORD = re.compile(r"([^\s(\[\"'“‘]+)$")
_INITIAL = re.compile(r"(?:^|[\s(\[\"'“‘])[A-Z]\.$")
_DOTTED = re.compile(r"(?:[A-Za-z]\.){2,}$")
_NEXT_WORD = re.compile(r"""["'“‘(\[]?([^\s.,;:!?"'”’)\]]+)""")
_BLANK_LINES = re.compile(r"\n\s*\n")
_TERMINAL = re.compile(r"""[.!?…]["'”’)\]]*$""")


def split_paragraphs(text: str) -> list[str]:
    """Split text into paragraphs at blank lines, joining hard-wrapped lines."""
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [" ".join(line.split()) for line in block.splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            continue
        # One paragraph per line when every line ends a sentence (one-line
        # paragraphs without blank lines between them), else a wrapped block.
        if len(lines) > 1 and all(_TERMINAL.search(line) for line in lines):
            paragraphs.extend(lines)
        else:
            paragraphs.append(" ".join(lines))
    return paragraphs


def _keeps_going(before: str, after: str) -> bool:
    """Tell whether the candidate boundary between before and after is not one."""
    head = before.rstrip()
    head = head.rstrip("\"'”’)]")
    if not head.endswith("."):
        return False
    match = _LAST_WORD.search(head[:-1])
    word = match.group(1) if match else ""
    next_match = _NEXT_WORD.match(after)
    next_word = next_match.group(1) if next_match else ""
    if word in _TITLES:
        return True
    if word in _MONTHS or word == "No":
        return next_word[:1].isdigit()
    if _INITIAL.search(head) or (len(word) == 1 and word.isupper()):
        return True
    if _DOTTED.search(head):
        return next_word not in _STARTERS
    return False


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences."""
    text = " ".join(paragraph.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if _keeps_going(text[start : match.end()], text[end:]):
            continue
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences
