"""Fit the weights of bot/answer/slots.py: which stretch of a passage answers an untyped question.

Run from the repository root:

    python scripts/fit_spans.py            # fit on squad-dev's training half, print WEIGHTS
    python scripts/fit_spans.py --check    # score the weights in slots.py on both halves

It asks squad-dev's questions (lexical ranking), keeps those answered right at rank 1
whose question has no date/number/name/place/reason type, and labels each candidate
stretch of the top passage by whether it overlaps a gold answer. The span shown is
the best-scoring candidate, so the weights are fitted for that choice: a softmax over
each passage's candidates (a conditional logit, by gradient descent with an L2
penalty) puts its mass on the candidates holding the gold. Both halves are scored by
how often the best candidate holds the gold.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.answer import slots  # noqa: E402
from bot.answer.cues import question_cue  # noqa: E402
from bot.evaluation.datasets import load_eval_file, split_of  # noqa: E402
from bot.evaluation.metrics import is_hit, span_holds  # noqa: E402
from bot.evaluation.runner import assess, engines_for  # noqa: E402

SQUAD = Path("/work/shared/eval/squad-dev/questions.jsonl")
# L2 penalty, steps and step size of the gradient descent.
REGULARISATION = 0.01
STEPS = 600
STEP_SIZE = 0.5

# A question, its candidates (span, features, words) and whether each holds the gold.
Example = tuple[str, list[tuple[tuple[int, int], list[float], int]], list[bool]]


def collect(squad: Path) -> dict[str, list[Example]]:
    """Return, per half, each untyped Hit@1 question's candidates, features and labels."""
    eval_set = load_eval_file(squad)
    engine_of = engines_for(eval_set, None)
    halves: dict[str, list[Example]] = {"train": [], "report": []}
    for question in eval_set.questions:
        if question_cue(question.question) is not None:
            continue
        answer, reading = assess(engine_of(question), question)
        if not answer.answered or reading is None:
            continue
        top = answer.passages[0]
        if not is_hit(top.text, question.answers):
            continue
        found = slots.candidate_rows(question.question, top.text, reading.query.terms)
        rows = [(span, row, len(top.text[span[0] : span[1]].split())) for span, row in found]
        labels = [span_holds(top.text, (span,), question.answers) for span, _, _ in rows]
        halves[split_of(question)].append((question.question, rows, labels))
    return halves


def score(examples: list[Example], weights: tuple[float, ...]) -> tuple[float, float]:
    """Return the share of examples whose best candidate holds the gold, and its mean words."""
    right = 0
    lengths: list[int] = []
    for _, rows, labels in examples:
        if not rows:
            continue
        values = [sum(w * x for w, x in zip(weights, row, strict=True)) for _, row, _ in rows]
        best = max(range(len(rows)), key=lambda c: (values[c], -c))
        right += labels[best]
        lengths.append(rows[best][2])
    return right / max(len(examples), 1), sum(lengths) / max(len(lengths), 1)


def fit(examples: list[Example]) -> tuple[float, ...]:
    """Fit the softmax over each passage's candidates; return the weights (the bias stays 0).

    A bias is the same for every candidate of a passage, so it cannot change the choice.
    """
    groups = []
    for _, rows, labels in examples:
        if rows and any(labels):
            x = np.array([row for _, row, _ in rows])
            target = np.array(labels, dtype=np.float64)
            groups.append((x, target / target.sum()))
    weights = np.zeros(groups[0][0].shape[1])
    for _ in range(STEPS):
        gradient = np.zeros_like(weights)
        for x, target in groups:
            z = x @ weights
            p = np.exp(z - z.max())
            gradient += x.T @ (p / p.sum() - target)
        weights -= STEP_SIZE * (gradient / len(groups) + REGULARISATION * weights)
    return tuple(round(float(w), 3) for w in weights)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--check", action="store_true", help="only score the current weights")
    args = parser.parse_args(argv)
    halves = collect(args.squad)
    weights = slots.WEIGHTS if args.check else fit(halves["train"])
    for half, examples in halves.items():
        share, length = score(examples, weights)
        print(
            f"{half}: {len(examples)} untyped Hit@1 answers, span holds gold {share:.1%} "
            f"(spans of {length:.1f} words on average)"
        )
    if not args.check:
        print(f"WEIGHTS = {weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
