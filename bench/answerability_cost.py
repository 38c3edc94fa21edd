"""Time the answerability decision (features and model) against the whole answer.

Run from the repository root, at scale after bench/scale.py has built the corpus and
its index, or on squad-dev's articles (no index to build):

    python bench/answerability_cost.py [--size 1m] [--questions 200]
    python bench/answerability_cost.py --squad ../shared/eval/squad-dev/questions.jsonl
    python bench/answerability_cost.py --squad FILE --baseline 88b13f8 [--rounds 2]

For each question it times Engine.assess, then, on the reading the engine chose,
features() and the shipped model's probability() alone (each repeated, the best
of five kept, so that a noisy machine shows the cost, not its load). It prints
p50/p99 of each and the decision's share of the answer. With --baseline REV the
same measurement runs in fresh processes for the tree at git revision REV and for
this one, in turns (bench/trees.py), and the table gives their ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trees  # this script's folder: bench/trees.py of this tree, in every child too


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Return the shortest of runs timings of work(), in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def measure(where: str, n_questions: int) -> dict[str, Any]:
    """Time answers, features and the model (this process's bot package).

    where is a corpus size of bench/scale.py ("1m") or a squad-dev question file.
    """
    from bot.answer.answerability import features

    asked = _questions(where, n_questions)
    answers: list[float] = []
    feature_times: list[float] = []
    model_times: list[float] = []
    cpu = time.process_time()
    for engine, question in asked:
        answers.append(best_of(1, lambda e=engine, q=question: e.assess(q)))
        _, reading = engine.assess(question)
        if reading is None or not reading.groups:
            continue
        feature_times.append(
            best_of(5, lambda r=reading, e=engine: features(r.query, r.evidence, e.index))
        )
        model = engine.answerability
        model_times.append(best_of(5, lambda v=reading.values, m=model: m.probability(v)))
    return {
        "questions": len(feature_times),
        "answer": trees.percentiles(answers),
        "features": trees.percentiles(feature_times),
        "model": trees.percentiles(model_times),
        "cpu_s": round(time.process_time() - cpu, 3),
    }


def _questions(where: str, n_questions: int) -> list[tuple[Any, str]]:
    """Return (engine, question) pairs: squad-dev's questions, or bench/scale.py's at a size."""
    from bot.answer.engine import Engine

    if where.endswith(".jsonl"):
        from bot.evaluation.datasets import load_eval_file
        from bot.evaluation.runner import engines_for

        eval_set = load_eval_file(Path(where))
        engine_of = engines_for(eval_set, None)
        chosen = eval_set.questions[:: max(1, len(eval_set.questions) // n_questions)]
        return [(engine_of(q), q.question) for q in chosen]
    import scale

    corpus = scale.DATA / f"corpus-{where}"
    if not corpus.is_dir():
        sys.exit(f"bench: {corpus} not found: run bench/scale.py --sizes {where} first")
    engine = Engine.from_folder(corpus, index_dir=scale.DATA / f"index-{where}")
    for q in scale.make_questions(engine, 20, scale.SEED + 1):
        engine.answer(q)  # warm
    return [(engine, q) for q in scale.make_questions(engine, n_questions, scale.SEED)]


def report(result: dict[str, Any]) -> None:
    """Print one tree's numbers."""
    print(f"{result['questions']} questions")
    for name in ("answer", "features", "model"):
        print(f"{name:9} p50 {result[name]['p50']:.3f} ms   p99 {result[name]['p99']:.3f} ms")
    share = (result["features"]["p50"] + result["model"]["p50"]) / result["answer"]["p50"]
    print(f"decision share of the answer: p50 {share:.1%}; CPU {result['cpu_s']} s")


def main() -> int:
    if trees.in_child():
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--squad", type=Path, help="a squad-dev question file instead")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--baseline", help="git revision to compare with (in fresh processes)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(trees.BENCH))
    sys.path.insert(0, str(trees.ROOT))
    where = str(args.squad.resolve()) if args.squad else args.size
    if not args.baseline:
        report(measure(where, args.questions))
        return 0
    here = Path(__file__).resolve()
    base, head = trees.compare(here, args.baseline, [where, str(args.questions)], {}, args.rounds)
    print(f"{head['questions']} questions")
    print(f"| measure | baseline {args.baseline} | this tree | ratio |")
    print("|---|---|---|---|")
    for name in ("answer", "features", "model"):
        for at in ("p50", "p99"):
            print(trees.ratio_row(f"{name} {at}", base[name][at], head[name][at]))
    print(f"CPU: baseline {base['cpu_s']} s, this tree {head['cpu_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
