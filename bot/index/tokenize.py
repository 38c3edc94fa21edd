"""Turn text into search terms: normalised, case-folded, stop words out, stemmed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

# Words, with inner apostrophes kept ("gov't"); dotted acronyms ("U.N.") as one word.
_WORD = re.compile(r"(?:[^\W_]\.){2,}|[^\W_]+(?:['’][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")
_ASCII_LOWER = re.compile(r"[a-z]")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each few for from further had hadn't has hasn't
    have haven't having he he'd he'll he's her here here's hers herself him himself his how
    how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most
    mustn't my myself no nor not of off on once only or other ought our ours ourselves out
    over own same shan't she she'd she'll she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll
    they're they've this those through to too under until up very was wasn't we we'd we'll
    we're we've were weren't what what's when when's where where's which while who who's
    whom why why's with won't would wouldn't you you'd you'll you're you've your yours
    yourself yourselves us also just said says say tell told does did did whats whos hows
    will shall may might must""".split()
)


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the text: its normalised surface form and where it stands."""

    word: str  # NFKC, case-folded, possessive removed
    start: int
    end: int
    upper: bool  # written in capitals, like an acronym ("US", "WHO")
    fragment: bool = False  # part of a hyphenated word ("un" of "Jong-un")


_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem one normalised word with the Snowball English stemmer."""
    return str(_stemmer.stemWord(word))


def _normal(raw: str) -> str:
    """Return the normalised form of one word as matched by _WORD."""
    word = unicodedata.normalize("NFKC", raw).casefold().replace("’", "'")
    if "." in word:
        word = word.replace(".", "")
    return _POSSESSIVE.sub("", word)


def words(text: str) -> list[Token]:
    """Split text into normalised words, keeping their character offsets."""
    tokens: list[Token] = []
    for match in _WORD.finditer(text):
        raw = match.group()
        upper = len(raw) > 1 and raw.replace(".", "").isupper()
        word = _normal(raw)
        start, end = match.start(), match.end()
        fragment = (start > 0 and text[start - 1] == "-") or text[end : end + 1] == "-"
        tokens.append(Token(word, start, end, upper, fragment))
    return tokens


def is_content(token: Token, *, shouting: bool = False) -> bool:
    """Tell whether a word carries meaning for search (not a stop word or a lone letter)."""
    if len(token.word) == 1 and not token.word.isdigit():
        return False
    # "un" of "Jong-un" must not match a question about the UN.
    if token.fragment and len(token.word) <= 2 and not token.word.isdigit():
        return False
    # An acronym written in capitals ("US", "IT") is a name, not a stop word,
    # unless the whole text is in capitals.
    if token.upper and not shouting:
        return True
    return token.word not in STOP_WORDS


def is_shouting(text: str) -> bool:
    """Tell whether text is written all in capitals."""
    if _ASCII_LOWER.search(text):
        return False  # the usual case, decided without looking at every character
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 3 and all(c.isupper() for c in letters)


def terms(text: str) -> list[str]:
    """Return the search terms of text, in order, repeats kept.

    The terms of the words of words() that is_content() keeps, stemmed; each
    surface form is judged once (see _Terms), as indexing a million sentences
    spends most of its time here. Only a short word next to a hyphen needs
    its place looked at ("un" of "Jong-un" is no term).
    """
    text = unicodedata.normalize("NFKC", text)
    if is_shouting(text):
        return [stem(t.word) for t in words(text) if is_content(t, shouting=True)]
    judged = _TERMS
    if "-" not in text:
        return [t for t in map(judged.__getitem__, _WORD.findall(text)) if t is not None]
    found: list[str] = []
    for match in _WORD.finditer(text):
        raw = match.group()
        term = judged[raw]
        if term is None:
            continue
        if raw in judged.short:
            start, end = match.span()
            if (start > 0 and text[start - 1] == "-") or text[end : end + 1] == "-":
                continue
        found.append(term)
    return found


class _Terms(dict[str, "str | None"]):
    """Surface form -> its stemmed term, or None when is_content() drops it; bounded.

    short holds the forms whose word is is_content()'s short fragment size.
    """

    LIMIT = 100_000  # about 20 MB

    def __init__(self) -> None:
        super().__init__()
        self.short: set[str] = set()

    def __missing__(self, raw: str) -> str | None:
        upper = len(raw) > 1 and raw.replace(".", "").isupper()
        word = _normal(raw)
        token = Token(word, 0, 0, upper)
        term = stem(word) if is_content(token) else None
        if len(self) >= self.LIMIT:
            self.clear()
            self.short.clear()
        self[raw] = term
        if len(word) <= 2 and not word.isdigit():
            self.short.add(raw)
        return term


_TERMS = _Terms()
