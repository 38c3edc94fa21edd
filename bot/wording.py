"""Words that depend on a number: the one pluralising helper every front end uses."""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """Return "1 article", "2 articles" or "1,000 articles" (plural_form for irregular nouns)."""
    word = noun if count == 1 else plural_form or f"{noun}s"
    return f"{count:,} {word}"
