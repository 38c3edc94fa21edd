"""Recognise input that is not a question to search: empty, greetings, requests for help."""

from __future__ import annotations

import re
import unicodedata

MAX_QUESTION_CHARS = 500

USAGE_HINT = (
    "Ask a question about the article in plain words, for example "
    '"why is North Korea courting ASEAN?" or "when was the third nuclear test?". '
    "Answers quote the article's sentences with citations like [3.1] "
    "(paragraph 3, sentence 1)."
)

_GREETINGS = frozenset(
    """hi hello hey hiya yo howdy greetings help thanks thank thx ty ok okay cool bye hallo
    morning evening afternoon sup ping test""".split()
)
# Words that may stand beside a greeting without making it a question ("hi there").
_GREETING_FILLERS = frozenset("""there me please bot you how are s up what all everyone""".split())
# Invisible characters vanish (they can split a word); control characters become spaces.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f]")


def tidy(question: str) -> str:
    """Normalise a question and strip invisible and control characters."""
    text = unicodedata.normalize("NFKC", question)
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    return " ".join(text.split())


def usage_reason(question: str) -> str | None:
    """Say why a tidied question is not a search, or None when it is one."""
    if not question:
        return "empty"
    if len(question) > MAX_QUESTION_CHARS:
        return "too long"
    if not any(ch.isalnum() for ch in question):
        return "no words"
    plain = re.findall(r"[^\W_]+", question.casefold())
    if (
        len(plain) <= 3
        and any(w in _GREETINGS for w in plain)
        and all(w in _GREETINGS or w in _GREETING_FILLERS for w in plain)
    ):
        return "greeting"
    return None


def usage_message(reason: str) -> str:
    """Return the short hint for a question that was not searched."""
    if reason == "too long":
        return (
            f"That question is too long ({MAX_QUESTION_CHARS} characters at most). "
            "Ask it in a sentence or two.\n" + USAGE_HINT
        )
    return USAGE_HINT
