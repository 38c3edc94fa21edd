"""Ask every standalone question after earlier ones: is it read as it would be alone?

A question that does not refer back must be answered exactly as it would be alone.
This asks each question of the repo's seed and answerability sets (none has a
previous question) after each of a few earlier questions, and counts how often it
is read with the earlier one, how often that changes the answer, and how often a
question declined alone is answered once read together (the worst case); the same
for the switch probes of eval/switch_probes.jsonl ("what colour is it?"). Then it
asks each switch of the follow-up sets (a new question the articles do not answer)
after its own previous question, and lists those declined alone but answered there.

    PYTHONPATH=. python scripts/followup_standalone.py [--semantic] [--show]
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.answer.engine import Engine
from bot.answer.followup import FollowUp
from bot.answer.models import Answer

REPO = Path(__file__).resolve().parents[1]
SETS = ("seed_questions.jsonl", "answerability_questions.jsonl")
# Questions about a person or thing just mentioned that news articles rarely answer.
PROBES = "switch_probes.jsonl"
# The follow-up sets and the corpus folder each is asked of.
FOLLOW_UP_SETS = (
    ("followup_questions.jsonl", "corpus"),
    ("followup2_questions.jsonl", "corpus"),
    ("followup2_news_questions.jsonl", "eval/followup2"),
    ("followup3_questions.jsonl", "eval/followup3"),
)
# Earlier questions of several kinds (why, who, will, how many, what did X say).
EARLIER = (
    "will Kim visit China?",
    "who imposed sanctions on the North?",
    "why is NK courting ASEAN?",
    "what did the anonymous official say?",
    "who was Kim Jong-un's father?",
    "how many senior-level exchanges were there in 2013?",
)


@dataclass
class Tally:
    """How standalone questions fared after earlier ones."""

    pairs: int = 0
    read_together: int = 0
    changed: int = 0
    answered_only_together: list[tuple[str, str]] = field(default_factory=list)


def _same(one: Answer, other: Answer) -> bool:
    return (one.status, one.passages) == (other.status, other.passages)


def standalone_questions(names: tuple[str, ...] = SETS) -> list[str]:
    """Return the questions of the repo's sets that have no previous question."""
    found = []
    for name in names:
        for line in (REPO / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if "previous" not in record:
                    found.append(str(record["question"]))
    return found


def switches() -> list[tuple[str, str, str]]:
    """Return each switch of the follow-up sets: its corpus folder, previous question, question."""
    found = []
    for name, folder in FOLLOW_UP_SETS:
        for line in (REPO / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("kind") == "switch":
                    found.append((folder, str(record["previous"]), str(record["question"])))
    return found


def switches_answered_only_together(
    engine_for: Callable[[str], Engine], asked: list[tuple[str, str, str]]
) -> list[tuple[str, str]]:
    """Return the switches declined alone but answered after their previous question."""
    found = []
    for folder, previous, question in asked:
        engine = engine_for(folder)
        after = engine.answer(question, previous=FollowUp.from_answer(engine.answer(previous)))
        if after.answered and not engine.answer(question).answered:
            found.append((previous, question))
    return found


def tally(engine: Engine, questions: list[str], show: bool = False) -> Tally:
    """Ask each question alone and after each earlier question; count the differences."""
    result = Tally()
    contexts = [FollowUp.from_answer(engine.answer(q)) for q in EARLIER]
    for question in questions:
        alone = engine.answer(question)
        for context in contexts:
            result.pairs += 1
            after = engine.answer(question, previous=context)
            if after.read_with is None:
                continue
            result.read_together += 1
            if not _same(after, alone):
                result.changed += 1
                if show:
                    print(f"  {context.question!r} -> {question!r}")
            if after.answered and not alone.answered:
                result.answered_only_together.append((context.question, question))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--semantic", action="store_true", help="rank with the model too")
    parser.add_argument("--show", action="store_true", help="list the changed answers")
    args = parser.parse_args()
    semantic = None
    if args.semantic:
        from bot.embedding.loader import SemanticModel

        semantic = SemanticModel()

    @functools.cache
    def engine_for(folder: str) -> Engine:
        engine = Engine.from_folder(REPO / folder, semantic=semantic)
        if engine.semantic is not None:
            engine.semantic.wait()
        return engine

    engine = engine_for("corpus")
    found = tally(engine, standalone_questions(), args.show)
    print(
        f"{engine.mode}: {found.pairs} pairs, read together {found.read_together}, "
        f"answer changed {found.changed}, declined alone but answered together "
        f"{len(found.answered_only_together)}"
    )
    for earlier, question in found.answered_only_together:
        print(f"  answered only together: {earlier!r} -> {question!r}")
    probed = tally(engine, standalone_questions((PROBES,)))
    print(
        f"{engine.mode}: {probed.pairs} probe pairs, declined alone but answered together "
        f"{len(probed.answered_only_together)}"
    )
    for earlier, question in probed.answered_only_together:
        print(f"  answered only together: {earlier!r} -> {question!r}")
    asked = switches()
    leaks = switches_answered_only_together(engine_for, asked)
    print(
        f"{engine.mode}: {len(asked)} switches, declined alone but answered together {len(leaks)}"
    )
    for earlier, question in leaks:
        print(f"  answered only together: {earlier!r} -> {question!r}")


if __name__ == "__main__":
    main()
