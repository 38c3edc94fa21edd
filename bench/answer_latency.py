"""Time a full lexical answer at scale against BM25 retrieval alone, in one process.

Run from the repository root after bench/scale.py has built the corpus and its index:

    python bench/answer_latency.py [--size 1m] [--questions 200] [--k 3]

It loads bench/data/corpus-<size> from its saved index, writes the same questions
as bench/scale.py, and times for each question, one at a time: retrieval alone
(BM25Index.search, the baseline) and Engine.answer (ranking, passages,
answerability and answer spans). It prints p50/p99 of both and their ratio, and
where an answer's time goes (the answer's stages, each timed alone).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import scale  # noqa: E402

from bot.answer.engine import Engine  # noqa: E402
from bot.index.tokenize import terms  # noqa: E402


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Return p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    corpus = scale.DATA / f"corpus-{args.size}"
    index_dir = scale.DATA / f"index-{args.size}"
    if not corpus.is_dir():
        sys.exit(f"bench: {corpus} not found: run bench/scale.py --sizes {args.size} first")
    engine = Engine.from_folder(corpus, index_dir=index_dir)
    questions = scale.make_questions(engine, args.questions, scale.SEED)
    for q in scale.make_questions(engine, 20, scale.SEED + 1):
        engine.answer(q, k=args.k)
    weights = [{t: float(c) for t, c in Counter(terms(q)).items()} for q in questions]
    retrieval: list[float] = []
    answers: list[float] = []
    answered = 0
    for question, w in zip(questions, weights, strict=True):
        start = time.perf_counter()
        engine.index.search(w, 10)
        retrieval.append(time.perf_counter() - start)
        start = time.perf_counter()
        answer = engine.answer(question, k=args.k)
        answers.append(time.perf_counter() - start)
        answered += answer.answered
    r50, r99 = percentiles(retrieval)
    a50, a99 = percentiles(answers)
    print(f"{len(engine.sentences):,} sentences, {len(questions)} questions, k={args.k}")
    print(f"retrieval alone: p50 {r50:.2f} ms   p99 {r99:.2f} ms")
    print(f"full answer:     p50 {a50:.2f} ms   p99 {a99:.2f} ms   ({answered} answered)")
    print(f"ratio answer/retrieval: p50 {a50 / r50:.1f}x   p99 {a99 / r99:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
