"""The answer object every front end renders; it knows nothing of terminals or Discord."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(Enum):
    """What kind of answer this is."""

    ANSWERED = "answered"
    NOT_FOUND = "not_found"  # a real question the corpus does not answer
    USAGE = "usage"  # not a question to search: empty, a greeting, "help", too long


@dataclass(frozen=True)
class Passage:
    """One cited passage: one sentence, or adjacent sentences that all matched."""

    citation: str  # e.g. "3.1" or "3.1-3.2"; with several articles "key:3.1"
    text: str
    article_key: str
    article_title: str
    source: str | None
    score: float
    matched: tuple[str, ...]  # the question words (as written in text) that matched
    highlights: tuple[tuple[int, int], ...]  # character spans of matched words in text
    context_before: str = ""  # the sentence before, for front ends that show context
    context_after: str = ""  # the sentence after
    citations: tuple[str, ...] = ()  # the citation of every sentence in the passage
    # Character spans of the phrase answering the question type (the date of a "when"...).
    answer_spans: tuple[tuple[int, int], ...] = ()
    date: str | None = None  # ISO date of the article, when known
    url: str | None = None  # where the article was published, when known


@dataclass(frozen=True)
class Answer:
    """The answer to one question."""

    question: str
    status: Status
    passages: tuple[Passage, ...] = ()
    message: str = ""  # what to say when there are no passages (not found, usage)
    has_more: bool = False  # further passages exist beyond these (ask with a larger offset)
    offset: int = 0
    notes: tuple[str, ...] = field(default=())  # e.g. "question shortened to 1000 characters"
    # Calibrated probability that the passages answer the question, and its label
    # ("high" | "medium" | "low"); None for usage answers, which were not searched.
    confidence: float | None = None
    confidence_label: str | None = None
    ranking: str = "lexical"  # "lexical" | "semantic"
    read_with: str | None = None  # the previous question a follow-up was read with

    @property
    def answered(self) -> bool:
        """Tell whether the corpus answers the question."""
        return self.status is Status.ANSWERED
