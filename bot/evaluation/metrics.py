"""Decide whether a returned passage hits a gold answer, and average the results."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.evaluation.datasets import GoldAnswer

_WORD = re.compile(r"\w+")


def _collapse(text: str) -> str:
    return " ".join(text.casefold().split())


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def is_hit(passage: str, answers: tuple[GoldAnswer, ...]) -> bool:
    """Apply the text rule: the answer occurs in the passage and it overlaps the gold sentence."""
    passage_words = _words(passage)
    for answer in answers:
        if answer.text is not None and _collapse(answer.text) not in _collapse(passage):
            continue
        gold_words = _words(answer.gold_sentence)
        smaller = min(len(passage_words), len(gold_words))
        if smaller and len(passage_words & gold_words) / smaller >= 0.5:
            return True
    return False


@dataclass
class Scores:
    """Running totals over a question set."""

    answerable: int = 0
    hit1: int = 0
    hit3: int = 0
    reciprocal_ranks: float = 0.0
    wrongly_declined: int = 0
    unanswerable: int = 0
    declined: int = 0

    def add_answerable(self, first_hit_rank: int | None, declined: bool) -> None:
        """Record an answerable question: the 1-based rank of its first hit, if any."""
        self.answerable += 1
        self.wrongly_declined += declined
        if first_hit_rank is not None:
            self.hit1 += first_hit_rank == 1
            self.hit3 += first_hit_rank <= 3
            self.reciprocal_ranks += 1.0 / first_hit_rank

    def add_unanswerable(self, declined: bool) -> None:
        """Record a question the corpus does not answer."""
        self.unanswerable += 1
        self.declined += declined

    def as_dict(self) -> dict[str, float | int]:
        """Return the metrics as plain numbers."""
        n = max(self.answerable, 1)
        result: dict[str, float | int] = {
            "answerable": self.answerable,
            "hit@1": round(self.hit1 / n, 4),
            "hit@3": round(self.hit3 / n, 4),
            "mrr@10": round(self.reciprocal_ranks / n, 4),
            "wrongly_declined": self.wrongly_declined,
        }
        if self.unanswerable:
            result["unanswerable"] = self.unanswerable
            result["declined"] = self.declined
            result["declined_share"] = round(self.declined / self.unanswerable, 4)
        return result
