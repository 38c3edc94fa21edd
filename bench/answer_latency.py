"""Time a full lexical answer at scale against BM25 retrieval alone, and against a baseline tree.

Run from the repository root after bench/scale.py has built the corpus and its index:

    python bench/answer_latency.py [--size 1m] [--questions 200] [--k 3]
    python bench/answer_latency.py --baseline 8aa39c4 [--rounds 2]

BENCH_INDEX_DIR names the index folder (default bench/data/index-<size>); with
--baseline each tree uses that name with its index code's version appended, so
two trees whose index code differs do not rebuild each other's index in turns.

It loads bench/data/corpus-<size> from its saved index, writes the same questions
as bench/scale.py, and times for each question, one at a time: retrieval alone
(BM25Index.search, the baseline inside the run) and Engine.answer (ranking,
passages, answerability and answer spans). Each is timed as wall time and as the
CPU time of the thread (what the answer costs, without the time other programs
of a loaded machine took the core away). It prints p50/p99 of both and their ratio.

With --baseline REV the same measurement runs in fresh processes for the tree at
git revision REV and for this one, in turns (--rounds), each number the lowest
over the rounds, and the table gives the ratio of this tree to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import trees  # this script's folder: bench/trees.py of this tree, in every child too


def measure(size: str, n_questions: int, k: int) -> dict[str, Any]:
    """Time retrieval and full answers on the saved index (this process's bot package)."""
    import scale

    from bot.answer.engine import Engine
    from bot.index.tokenize import terms

    corpus = Path(os.environ.get("BENCH_CORPUS") or scale.DATA / f"corpus-{size}")
    index_dir = Path(os.environ.get("BENCH_INDEX_DIR") or scale.DATA / f"index-{size}")
    if os.environ.get("BENCH_INDEX_PER_CODE"):
        # Trees whose index code differs would rebuild each other's index in turns.
        from bot.index.storage import code_version

        index_dir = index_dir.with_name(f"{index_dir.name}-{code_version()}")
    if not corpus.is_dir():
        sys.exit(f"bench: {corpus} not found: run bench/scale.py --sizes {size} first")
    engine = Engine.from_folder(corpus, index_dir=index_dir)
    # A tree that stores sentence terms opens (or first computes) them on a thread, once
    # told it serves (older trees: by themselves): timed apart, and waited for, so answers
    # are timed alone.
    start = time.perf_counter()
    stored = getattr(engine, "terms", None)
    if hasattr(engine, "serve"):
        engine.serve()
    if stored is not None:
        stored.ready.wait()
    terms_ready = time.perf_counter() - start
    questions = scale.make_questions(engine, n_questions, scale.SEED)
    for q in scale.make_questions(engine, 20, scale.SEED + 1):
        engine.answer(q, k=k)
    weights = [{t: float(c) for t, c in Counter(terms(q)).items()} for q in questions]
    timings: dict[str, list[float]] = {
        "retrieval": [],
        "retrieval_cpu": [],
        "answer": [],
        "answer_cpu": [],
    }
    answered = 0
    for question, w in zip(questions, weights, strict=True):
        start, cpu = time.perf_counter(), time.thread_time()
        engine.index.search(w, 10)
        timings["retrieval"].append(time.perf_counter() - start)
        timings["retrieval_cpu"].append(time.thread_time() - cpu)
        start, cpu = time.perf_counter(), time.thread_time()
        answer = engine.answer(question, k=k)
        timings["answer"].append(time.perf_counter() - start)
        timings["answer_cpu"].append(time.thread_time() - cpu)
        answered += answer.answered
    result: dict[str, Any] = {name: trees.percentiles(v) for name, v in timings.items()}
    result.update(sentences=len(engine.sentences), questions=len(questions), answered=answered)
    result["terms_ready_s"] = round(terms_ready, 3)
    return result


def report(result: dict[str, Any], k: int) -> None:
    """Print one tree's numbers."""
    print(f"{result['sentences']:,} sentences, {result['questions']} questions, k={k}")
    for name, label in (("retrieval", "retrieval alone"), ("answer", "full answer")):
        wall, cpu = result[name], result[f"{name}_cpu"]
        print(
            f"{label + ':':17s}p50 {wall['p50']:.2f} ms   p99 {wall['p99']:.2f} ms   "
            f"(CPU p50 {cpu['p50']:.2f} ms, p99 {cpu['p99']:.2f} ms)"
        )
    a, r = result["answer"], result["retrieval"]
    p50, p99 = a["p50"] / r["p50"], a["p99"] / r["p99"]
    print(f"ratio answer/retrieval: p50 {p50:.1f}x   p99 {p99:.1f}x")
    print(f"({result['answered']} answered; stored terms ready {result['terms_ready_s']} s)")


def main() -> int:
    if trees.in_child():
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--baseline", help="git revision to compare with (in fresh processes)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(trees.BENCH))
    sys.path.insert(0, str(trees.ROOT))
    if not args.baseline:
        report(measure(args.size, args.questions, args.k), args.k)
        return 0
    import scale

    env = {
        "BENCH_CORPUS": str(scale.DATA / f"corpus-{args.size}"),
        "BENCH_INDEX_DIR": os.environ.get("BENCH_INDEX_DIR")
        or str(scale.DATA / f"index-{args.size}"),
        "BENCH_INDEX_PER_CODE": "1",
    }
    child_args = [args.size, str(args.questions), str(args.k)]
    here = Path(__file__).resolve()
    base, head = trees.compare(here, args.baseline, child_args, env, args.rounds)
    print(f"{head['sentences']:,} sentences, {head['questions']} questions, k={args.k}")
    print(f"| measure | baseline {args.baseline} | this tree | ratio |")
    print("|---|---|---|---|")
    for name in ("answer", "answer_cpu", "retrieval", "retrieval_cpu"):
        for at in ("p50", "p99"):
            label = f"{name.replace('_cpu', ' (CPU)')} {at}"
            print(trees.ratio_row(label, base[name][at], head[name][at]))
    print(f"answered: baseline {base['answered']}, this tree {head['answered']}")
    print(f"stored terms ready after the load: {head['terms_ready_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
