"""Time the answerability decision (features and model) against the whole answer, in one process.

Run from the repository root after bench/scale.py has built the corpus and its index:

    python bench/answerability_cost.py [--size 1m] [--questions 200]

For each question it times Engine.answer, then, on the reading the engine chose,
features() and the shipped model's probability() alone (each repeated, the best
of five kept, so that a noisy machine shows the cost, not its load). It prints
p50/p99 of each and the decision's share of the answer.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import scale  # noqa: E402
from answer_latency import percentiles  # noqa: E402

from bot.answer.answerability import features  # noqa: E402
from bot.answer.engine import Engine  # noqa: E402


def best_of(runs: int, work: object) -> float:
    """Return the shortest of runs timings of work(), in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    corpus = scale.DATA / f"corpus-{args.size}"
    index_dir = scale.DATA / f"index-{args.size}"
    if not corpus.is_dir():
        sys.exit(f"bench: {corpus} not found: run bench/scale.py --sizes {args.size} first")
    engine = Engine.from_folder(corpus, index_dir=index_dir)
    questions = scale.make_questions(engine, args.questions, scale.SEED)
    for q in scale.make_questions(engine, 20, scale.SEED + 1):
        engine.answer(q)
    model = engine.answerability
    answers: list[float] = []
    feature_times: list[float] = []
    model_times: list[float] = []
    for question in questions:
        answers.append(best_of(1, lambda q=question: engine.assess(q)))
        _, reading = engine.assess(question)
        if reading is None or not reading.groups:
            continue
        feature_times.append(
            best_of(5, lambda r=reading: features(r.query, r.evidence, engine.index))
        )
        model_times.append(best_of(5, lambda v=reading.values: model.probability(v)))
    a50, a99 = percentiles(answers)
    f50, f99 = percentiles(feature_times)
    m50, m99 = percentiles(model_times)
    kind = type(model).__name__
    print(f"{len(engine.sentences):,} sentences, {len(questions)} questions, model {kind}")
    print(f"full answer:     p50 {a50:.3f} ms   p99 {a99:.3f} ms")
    print(f"features:        p50 {f50:.3f} ms   p99 {f99:.3f} ms")
    print(f"model:           p50 {m50:.3f} ms   p99 {m99:.3f} ms")
    print(f"decision share of the answer: p50 {(f50 + m50) / a50:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
