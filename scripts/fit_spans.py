"""Fit the span model of bot/answer/span_ranker.py; write bot/answer/span_weights.py.

Run from the repository root:

    python scripts/fit_spans.py            # fit on squad-dev's training half, write the weights
    python scripts/fit_spans.py --check    # score the shipped weights on both halves
    python scripts/fit_spans.py --folds    # also score by leaving each training article out

It asks squad-dev's questions (lexical ranking), keeps those answered right at rank 1,
and labels each candidate span of the top passage (bot.answer.spans.candidates) by
whether it holds a gold answer. Only the best-scoring candidate is marked, so the
weights are fitted for that choice: a softmax over each passage's candidates (a
conditional logit, by gradient descent) puts its mass on the candidates holding the
gold, the tighter ones more (by their word overlap with the gold answer), so the
model is not drawn to long spans that hold the answer among other words. Each
question type gets its own vector: weights shared by all types plus a difference
per type, penalised harder, so a type with few questions stays near the shared ones.
Both halves are scored by how often the chosen candidate holds the gold, with the
chosen spans' mean length in characters beside the gold answers'. --folds also fits
once per training article without it and scores it: a feature or setting can be
chosen on that, without looking at the report half.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.answer import span_ranker  # noqa: E402
from bot.answer.cues import question_cue  # noqa: E402
from bot.answer.passages import best_sentence  # noqa: E402
from bot.answer.slots import asked_cue, shape_of  # noqa: E402
from bot.answer.span_weights import WEIGHTS  # noqa: E402
from bot.answer.spans import candidates  # noqa: E402
from bot.evaluation.datasets import load_eval_file, split_of  # noqa: E402
from bot.evaluation.metrics import is_hit, span_f1, span_holds  # noqa: E402
from bot.evaluation.runner import assess, engines_for  # noqa: E402

SQUAD = Path("/work/shared/eval/squad-dev/questions.jsonl")
OUT = ROOT / "bot" / "answer" / "span_weights.py"
KEYS = ("none", "date", "number", "name", "place", "reason")
# L2 penalties of the shared weights and of each type's difference, steps, step size.
SHARED_PENALTY = 0.01
TYPE_PENALTY = 0.01
STEPS = 800
STEP_SIZE = 0.5
TIGHT_FLOOR = 0.2


@dataclass
class Example:
    """One Hit@1 answer: its type, its candidates' features, spans and labels."""

    key: str
    rows: np.ndarray  # candidates x features
    spans: list[tuple[int, int]]
    holds: list[bool]
    tight: list[float]  # SQuAD's word F1 of each candidate against the gold answer
    gold_chars: int
    article: str  # the corpus the question is asked against


def collect(squad: Path) -> dict[str, list[Example]]:
    """Return, per half, each Hit@1 question's candidates, features and labels."""
    eval_set = load_eval_file(squad)
    engine_of = engines_for(eval_set, None)
    halves: dict[str, list[Example]] = {"train": [], "report": []}
    for question in eval_set.questions:
        engine = engine_of(question)
        answer, reading = assess(engine, question)
        if not answer.answered or reading is None:
            continue
        top = answer.passages[0]
        if not is_hit(top.text, question.answers):
            continue
        cue = question_cue(question.question) or question_cue(reading.query.text)
        cue = asked_cue(question.question, cue)  # as spans_for reads it
        terms = reading.query.terms
        best = next(
            (
                best_sentence(g, engine.sentences)
                for g in reading.groups
                if " ".join(engine.sentences[i].text for i in g.ids) == top.text
            ),
            None,
        )
        passage, found = candidates(question.question, top.text, terms, cue, None, best)
        rows = span_ranker.features(passage, found, shape_of(question.question))
        spans = [c.span for c in found]
        holds = [span_holds(top.text, (s,), question.answers) for s in spans]
        tight = [span_f1(top.text, (s,), question.answers)[0] for s in spans]
        gold = min(len(a.text or "") for a in question.answers)
        halves[split_of(question)].append(
            Example(
                cue.value if cue else "none",
                np.array(rows).reshape(len(rows), len(span_ranker.FEATURES)),
                spans,
                holds,
                tight,
                gold,
                question.corpus_id,
            )
        )
    return halves


def choose(example: Example, weights: dict[str, tuple[float, ...]]) -> int | None:
    """Return the index of the candidate the weights choose."""
    if not example.spans:
        return None
    values = example.rows @ np.array(weights[example.key])
    return int(np.argmax(values))  # the first of equals, as best_span


def score(examples: list[Example], weights: dict[str, tuple[float, ...]]) -> dict[str, float]:
    """Return the share whose chosen span holds the gold, and span and gold lengths."""
    right, chars, gold, f1 = 0, 0, 0, 0.0
    for example in examples:
        best = choose(example, weights)
        gold += example.gold_chars
        if best is not None:
            right += example.holds[best]
            chars += example.spans[best][1] - example.spans[best][0]
            f1 += example.tight[best]
    n = max(len(examples), 1)
    return {
        "n": len(examples),
        "holds": right / n,
        "chars": chars / n,
        "gold": gold / n,
        "f1": f1 / n,
    }


def fit(examples: list[Example]) -> dict[str, tuple[float, ...]]:
    """Fit shared weights plus a penalised difference per type by the conditional logit."""
    width = len(span_ranker.FEATURES)
    groups = []
    for example in examples:
        if any(example.holds):
            target = np.array(
                [h * (TIGHT_FLOOR + t) for h, t in zip(example.holds, example.tight, strict=True)]
            )
            groups.append((KEYS.index(example.key), example.rows, target / target.sum()))
    shared = np.zeros(width)
    per_type = np.zeros((len(KEYS), width))
    for _ in range(STEPS):
        grad_shared = np.zeros(width)
        grad_type = np.zeros_like(per_type)
        for key, x, target in groups:
            z = x @ (shared + per_type[key])
            p = np.exp(z - z.max())
            g = x.T @ (p / p.sum() - target)
            grad_shared += g
            grad_type[key] += g
        shared -= STEP_SIZE * (grad_shared / len(groups) + SHARED_PENALTY * shared)
        per_type -= STEP_SIZE * (grad_type / len(groups) + TYPE_PENALTY * per_type)
    return {
        key: tuple(round(float(w), 3) for w in shared + per_type[i]) for i, key in enumerate(KEYS)
    }


def folds(examples: list[Example]) -> dict[str, float]:
    """Return the share holding the gold when each article's questions are left out of the fit."""
    right = 0
    for article in sorted({e.article for e in examples}):
        weights = fit([e for e in examples if e.article != article])
        held_out = [e for e in examples if e.article == article]
        right += round(score(held_out, weights)["holds"] * len(held_out))
    return {"n": len(examples), "holds": right / max(len(examples), 1)}


def write(weights: dict[str, tuple[float, ...]], out: Path) -> None:
    """Write the weights as the Python module span_ranker reads."""
    lines = [
        '"""The fitted weights of bot.answer.span_ranker: one vector per question type.',
        "",
        "Written by scripts/fit_spans.py (do not edit by hand); each vector follows",
        "bot.answer.span_ranker.FEATURES.",
        '"""',
        "",
        "WEIGHTS: dict[str, tuple[float, ...]] = {",
    ]
    for key, vector in weights.items():
        lines.append(f'    "{key}": (')
        for start in range(0, len(vector), 8):
            lines.append("        " + " ".join(f"{w}," for w in vector[start : start + 8]))
        lines.append("    ),")
    lines.append("}  # fmt: skip")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--check", action="store_true", help="only score the shipped weights")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--folds", action="store_true", help="also score leaving each training article out"
    )
    args = parser.parse_args(argv)
    width = len(span_ranker.FEATURES)
    if not args.check and any(len(v) != width for v in WEIGHTS.values()):
        # A feature was added or removed: the engine marks spans while it is asked, so
        # it gets zero weights (the same dict span_ranker reads) until the fit is written.
        WEIGHTS.update({key: (0.0,) * width for key in KEYS})
    halves = collect(args.squad)
    weights = WEIGHTS if args.check else fit(halves["train"])
    for half, examples in halves.items():
        for key in ("all", *KEYS):
            chosen = [e for e in examples if key in ("all", e.key)]
            s = score(chosen, weights)
            print(
                f"{half:6} {key:6}: {s['n']:4.0f} Hit@1 answers, span holds gold {s['holds']:.1%}"
                f" (spans {s['chars']:.1f} chars on average, gold {s['gold']:.1f};"
                f" SQuAD word F1 {s['f1']:.1%})"
            )
    if args.folds:
        s = folds(halves["train"])
        print(f"train, each article left out of the fit: span holds gold {s['holds']:.1%}")
    if not args.check:
        write(weights, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
