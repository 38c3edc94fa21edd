"""Correct a misspelt question word to the corpus word one edit away ("nuclaer" -> "nuclear").

Only a word that no sentence holds and that is no English word is corrected:
"flight" asked of a corpus that says "fight" is a word the corpus lacks, not a
typo. The dictionary is the whole words of the packaged model's WordPiece
vocabulary (about 21,000 common English words and names), read once when a
question first needs it. The candidates are the words one deletion, insertion,
transposition or substitution away (Damerau), a substitution being a key beside
the right one or a vowel for another; the one whose stem most sentences hold wins.
"""

from __future__ import annotations

import logging
import string
from functools import cache, lru_cache
from typing import Protocol

from bot.index.tokenize import stem
from bot.index.wordpieces import TOKENIZER_FILE, shipped_pieces

logger = logging.getLogger(__name__)

# Shorter words are one edit from too many others to guess which was meant.
MIN_LENGTH = 4
_LETTERS = string.ascii_lowercase
# A letter is mistyped as a key beside it, or a vowel as another vowel ("primier").
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_VOWELS = "aeiouy"


def _slips() -> dict[str, str]:
    """Return, per letter, the letters a typist puts in its place."""
    near: dict[str, set[str]] = {c: set() for c in _LETTERS}
    for row_number, row in enumerate(_ROWS):
        for column, letter in enumerate(row):
            for other_row in _ROWS[max(0, row_number - 1) : row_number + 2]:
                near[letter].update(other_row[max(0, column - 1) : column + 2])
        for letter in row:
            near[letter].discard(letter)
    for vowel in _VOWELS:
        near[vowel].update(v for v in _VOWELS if v != vowel)
    return {letter: "".join(sorted(others)) for letter, others in near.items()}


_SLIPS = _slips()
# Endings an English word takes that the vocabulary lists without ("pals": "pal").
_ENDINGS = ("s", "es", "ed", "d", "ing", "ly", "er", "ers")


class Vocabulary(Protocol):
    """What the corrector asks of the index: how many sentences hold a term."""

    def document_frequency(self, term: str) -> int:
        """Count the sentences that hold term."""
        ...


@cache
def dictionary() -> frozenset[str]:
    """Return the English words the corrector leaves alone (empty when the file is missing)."""
    try:
        vocabulary = shipped_pieces()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("Spelling correction is off: %s is unreadable (%s).", TOKENIZER_FILE, exc)
        return frozenset()
    return frozenset(w for w in vocabulary if w.isascii() and w.isalpha())


def is_english(word: str, words: frozenset[str]) -> bool:
    """Tell whether a lower-case word, or the word without a common ending, is in words."""
    if word in words or stem(word) in words:
        return True
    return any(word.endswith(e) and word[: -len(e)] in words for e in _ENDINGS)


@lru_cache(maxsize=4096)
def edits(word: str) -> tuple[str, ...]:
    """Return the distinct words one deletion, transposition, slip of a key or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = [a + b[1:] for a, b in splits if b]
    found += [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    found += [a + c + b[1:] for a, b in splits if b for c in _SLIPS.get(b[0], "")]
    found += [a + c + b for a, b in splits for c in _LETTERS]
    return tuple(dict.fromkeys(w for w in found if w != word))


def correction(word: str, vocabulary: Vocabulary) -> str | None:
    """Return the corpus word one edit from a misspelt word, or None.

    word is a normalised lower-case word whose stem no sentence holds. Ties go to
    an English word, then to the candidate made first (a deletion, then a
    transposition...), so the result never depends on set order.
    """
    if len(word) < MIN_LENGTH or not (word.isascii() and word.isalpha()):
        return None
    words = dictionary()
    if not words or is_english(word, words):
        return None
    return _best(word, vocabulary)


def _best(word: str, vocabulary: Vocabulary) -> str | None:
    best: str | None = None
    most = (0, False)
    words = dictionary()
    for candidate in edits(word):
        count = vocabulary.document_frequency(stem(candidate))
        # Of the spellings of one corpus stem, an English word reads best when embedded.
        key = (count, count > 0 and candidate in words)
        if key > most:
            best, most = candidate, key
    return best
