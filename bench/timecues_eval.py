"""Check that reading time cues costs no retrieval quality: a question set scored both ways.

Run from the repository root:

    PYTHONPATH=. python bench/timecues_eval.py ../shared/eval/squad-dev/questions.jsonl

Scores the set as `qabot eval` does (lexical unless --semantic), once asking the engine
directly and once through bot.answer.filters.filtered_answer (time cues read, as the CLI
and the bot ask), and says how many questions carry a cue. On an undated corpus the two
must agree; a difference is a cue reading that changed an answer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bot.evaluation.runner as runner  # noqa: E402
from bot.answer.filters import filtered_answer  # noqa: E402
from bot.answer.timecues import time_cue  # noqa: E402
from bot.evaluation.datasets import load_eval_file  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--corpus", type=Path, default=None)
    args = parser.parse_args()
    eval_set = load_eval_file(args.file)
    plain = runner.evaluate(eval_set, args.corpus).scores.as_dict()
    direct = runner.ask

    def through_filters(engine: runner.Engine, question: runner.EvalQuestion) -> runner.Answer:
        if question.previous:
            return direct(engine, question)
        return filtered_answer(engine, question.question, k=runner.RANK_DEPTH)

    runner.ask = through_filters  # type: ignore[assignment]
    cued = runner.evaluate(eval_set, args.corpus).scores.as_dict()
    today = dt.date.today()
    with_cue = sum(1 for q in eval_set.questions if time_cue(q.question, today))
    print(json.dumps({"file": str(args.file), "with_time_cue": with_cue}))
    print("engine directly   ", json.dumps(plain))
    print("with time cues    ", json.dumps(cued))
    return 0 if plain == cued else 1


if __name__ == "__main__":
    raise SystemExit(main())
