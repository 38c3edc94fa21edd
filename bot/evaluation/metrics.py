"""Decide whether a returned passage hits a gold answer, and average the results."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

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


def marked_chars(spans: tuple[tuple[int, int], ...]) -> int:
    """Return how many characters the spans mark."""
    return sum(end - start for start, end in spans)


def span_holds(
    text: str, spans: tuple[tuple[int, int], ...], answers: tuple[GoldAnswer, ...]
) -> bool:
    """Tell whether a marked span overlaps an occurrence of a gold answer in the passage."""
    folded = text.casefold()
    for answer in answers:
        if answer.text is None or not answer.text.strip():
            continue
        needle = answer.text.casefold().strip()
        start = folded.find(needle)
        while start >= 0:
            end = start + len(needle)
            if any(s < end and start < e for s, e in spans):
                return True
            start = folded.find(needle, start + 1)
    return False


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCTUATION = re.compile(r"[^\w\s]")


def _squad_words(text: str) -> list[str]:
    """Return text's words as SQuAD's scorer reads them: no case, punctuation or articles."""
    return _ARTICLES.sub(" ", _PUNCTUATION.sub("", text.lower())).split()


def span_f1(
    text: str, spans: tuple[tuple[int, int], ...], answers: tuple[GoldAnswer, ...]
) -> tuple[float, bool]:
    """Return SQuAD's word F1 and exact match of the marked words against the best gold answer.

    The strict measure beside span_holds: a span twice the answer's length scores 0.67.
    """
    got = _squad_words(" ".join(text[start:end] for start, end in spans))
    best, exact = 0.0, False
    for answer in answers:
        gold = _squad_words(answer.text or "")
        exact = exact or (bool(gold) and got == gold)
        common = sum(min(got.count(w), gold.count(w)) for w in set(got))
        if common:
            best = max(best, 2 * common / (len(got) + len(gold)))
    return best, exact


# Confidence bins of the calibration table.
BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)
LABELS = ("declined", "low", "medium", "high")


@dataclass
class Calibration:
    """What the confidence said against what happened, question by question."""

    # (confidence, label or "declined", answerable, right at rank 1)
    rows: list[tuple[float, str, bool, bool]] = field(default_factory=list)

    def add(self, confidence: float, label: str, answerable: bool, right: bool) -> None:
        """Record one question."""
        self.rows.append((confidence, label, answerable, right))

    def table(self) -> list[dict[str, float | int | str]]:
        """Return per confidence bin: questions, mean confidence, share right at rank 1."""
        out: list[dict[str, float | int | str]] = []
        for low, high in itertools.pairwise(BINS):
            inside = [r for r in self.rows if low <= r[0] < high]
            if not inside:
                continue
            out.append(
                {
                    "bin": f"{low:.1f}-{min(high, 1.0):.1f}",
                    "questions": len(inside),
                    "confidence": round(sum(r[0] for r in inside) / len(inside), 3),
                    "right": round(sum(r[3] for r in inside) / len(inside), 3),
                }
            )
        return out

    def summary(self) -> dict[str, float | int]:
        """Return the label shares by answerability, Hit@1 of "high" answers and the Brier score."""
        result: dict[str, float | int] = {}
        if not self.rows:
            return result
        for answerable, name in ((True, "answerable"), (False, "unanswerable")):
            group = [r for r in self.rows if r[2] is answerable]
            if not group:
                continue
            for label in LABELS:
                result[f"{name}_{label}"] = round(sum(r[1] == label for r in group) / len(group), 4)
            result[f"{name}_declined_or_low"] = round(
                sum(r[1] in {"declined", "low"} for r in group) / len(group), 4
            )
        high = [r for r in self.rows if r[1] == "high"]
        if high:
            result["high_answers"] = len(high)
            result["high_hit@1"] = round(sum(r[3] for r in high) / len(high), 4)
        result["brier"] = round(sum((r[0] - r[3]) ** 2 for r in self.rows) / len(self.rows), 4)
        result["ece"] = round(
            sum(
                abs(b["confidence"] - b["right"]) * b["questions"]  # type: ignore[operator]
                for b in self.table()
            )
            / len(self.rows),
            4,
        )
        return result


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
    # Hit@1 answers whose passage marked an answer span, and those whose span holds the answer.
    spans_marked: int = 0
    spans_hold: int = 0
    # Characters marked in those passages, and in their shortest gold answers: a span is
    # judged beside its length, as a long one holds the answer more easily.
    span_chars: int = 0
    gold_chars: int = 0
    hit1_with_text: int = 0  # Hit@1 answers whose gold answer has a text (SQuAD)
    # SQuAD's own scores of the marked words over those answers (no span scores 0).
    span_f1: float = 0.0
    span_exact: int = 0

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
        if self.hit1_with_text:
            result["hit1_with_span"] = self.spans_marked
            result["span_holds_gold"] = self.spans_hold
            result["span_holds_share"] = round(self.spans_hold / max(self.spans_marked, 1), 4)
            result["span_holds_of_hit1"] = round(self.spans_hold / self.hit1_with_text, 4)
            result["span_mean_chars"] = round(self.span_chars / max(self.spans_marked, 1), 1)
            result["gold_mean_chars"] = round(self.gold_chars / max(self.spans_marked, 1), 1)
            result["span_f1_of_hit1"] = round(self.span_f1 / self.hit1_with_text, 4)
            result["span_exact_of_hit1"] = round(self.span_exact / self.hit1_with_text, 4)
        return result
