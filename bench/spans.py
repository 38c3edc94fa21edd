"""Time marking the answering phrase, and whole answers, on squad-dev against a baseline tree.

Run from the repository root:

    python bench/spans.py [--questions 600]
    python bench/spans.py --baseline 88b13f8 [--rounds 2]

Each of squad-dev's first N questions is asked of its article (lexical, k=3), and
the CPU time of the thread is taken for the whole answer (ranking, passages,
answerability and answer spans) and for bot.answer.spans.spans_for alone over the
passages shown (called as a caller without the passage's words would, so the
passage is tokenised inside the timing in both trees). It prints the mean and
p50/p99 of each. With --baseline REV the same runs in fresh processes for the tree
at git revision REV and for this one, in turns, and the table gives the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import trees  # this script's folder: bench/trees.py of this tree, in every child too

SQUAD = Path("/work/shared/eval/squad-dev/questions.jsonl")


def measure(squad: Path, n_questions: int) -> dict[str, Any]:
    """Time answers and span marking on squad-dev (this process's bot package)."""
    from bot.answer.cues import question_cue
    from bot.answer.spans import spans_for
    from bot.evaluation.datasets import load_eval_file
    from bot.evaluation.runner import engines_for

    eval_set = load_eval_file(squad)
    questions = eval_set.questions[:n_questions]
    engine_of = engines_for(eval_set, None)
    for question in questions:  # build every engine and warm the caches first
        engine_of(question).answer(question.question, k=3)
    answer_cpu: list[float] = []
    span_cpu: list[float] = []
    passages = 0
    for question in questions:
        engine = engine_of(question)
        cpu = time.thread_time()
        answer = engine.answer(question.question, k=3)
        answer_cpu.append(time.thread_time() - cpu)
        terms = engine.assess(question.question, k=3)[1].query.terms
        cue = question_cue(question.question)
        cpu = time.thread_time()
        for passage in answer.passages:
            spans_for(question.question, passage.text, terms, cue)
        span_cpu.append(time.thread_time() - cpu)
        passages += len(answer.passages)
    result: dict[str, Any] = {
        "answer_cpu": trees.percentiles(answer_cpu),
        "spans_cpu": trees.percentiles(span_cpu),
    }
    result["answer_cpu"]["mean"] = round(statistics.mean(answer_cpu) * 1000, 4)
    result["spans_cpu"]["mean"] = round(statistics.mean(span_cpu) * 1000, 4)
    result.update(questions=len(questions), passages=passages)
    return result


def report(result: dict[str, Any]) -> None:
    """Print one tree's numbers."""
    print(f"{result['questions']} questions, {result['passages']} passages shown")
    for name, label in (("answer_cpu", "whole answer"), ("spans_cpu", "spans_for alone")):
        r = result[name]
        print(
            f"{label:16s} CPU mean {r['mean']:.3f} ms  p50 {r['p50']:.3f} ms  p99 {r['p99']:.3f} ms"
        )


def main() -> int:
    if trees.in_child():
        print(json.dumps(measure(Path(sys.argv[2]), int(sys.argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--baseline", help="git revision to compare with (in fresh processes)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(trees.BENCH))
    sys.path.insert(0, str(trees.ROOT))
    if not args.baseline:
        report(measure(args.squad, args.questions))
        return 0
    child_args = [str(args.squad), str(args.questions)]
    here = Path(__file__).resolve()
    base, head = trees.compare(here, args.baseline, child_args, {}, args.rounds)
    shown = f"{head['passages']} passages shown (baseline {base['passages']})"
    print(f"{head['questions']} questions, {shown}")
    print(f"| measure | baseline {args.baseline} | this tree | ratio |")
    print("|---|---|---|---|")
    for name in ("answer_cpu", "spans_cpu"):
        for at in ("mean", "p50", "p99"):
            label = f"{name.replace('_cpu', ' (CPU)')} {at}"
            print(trees.ratio_row(label, base[name][at], head[name][at]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
