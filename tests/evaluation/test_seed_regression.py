"""Regression guard: the repo's own question sets must not get worse, in either mode.

The floors are the figures reached when they were set (see the issue report); raise
them when ranking improves, never lower them to make a change pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.embedding.loader import SemanticModel
from bot.embedding.model import Embedder
from bot.evaluation.datasets import load_eval_file
from bot.evaluation.runner import EvalReport, evaluate

REPO = Path(__file__).parents[2]
CORPUS = REPO / "corpus"
SEED = REPO / "eval" / "seed_questions.jsonl"
FOLLOW_UPS = REPO / "eval" / "followup_questions.jsonl"

# mode -> (seed Hit@1, missing-content declined or labelled "low" out of 16, follow-up
# Hit@1, off-topic declined out of 10). Issue 10 asks a question the article does not
# answer to be declined or marked low; since the on-topic floor (semantic) most of the
# missing-content ones are shown as "low" rather than declined.
FLOORS = {"lexical": (0.95, 14, 0.95, 10), "semantic": (0.95, 16, 0.95, 10)}


@pytest.fixture(scope="module")
def model(minilm: Embedder) -> SemanticModel:
    return SemanticModel(minilm)


def _run(path: Path, mode: str, model: SemanticModel) -> EvalReport:
    return evaluate(load_eval_file(path), CORPUS, semantic=model if mode == "semantic" else None)


@pytest.mark.parametrize("mode", ["lexical", "semantic"])
def test_seed_set(mode: str, model: SemanticModel) -> None:
    report = _run(SEED, mode, model)
    scores = report.scores.as_dict()
    hit1, missing_floor, _, off_topic = FLOORS[mode]
    misses = [(m.question.question, m.rank) for m in report.misses]
    assert scores["answerable"] == 46
    assert scores["hit@1"] >= hit1, misses
    assert scores["hit@3"] == 1.0, misses
    assert scores["wrongly_declined"] == 0, misses
    declined_off_topic, asked_off_topic = report.declined_by_kind["off-topic"]
    assert asked_off_topic == 10 and declined_off_topic >= off_topic
    _, asked = report.declined_by_kind["missing-content"]
    summary = report.calibration.summary()
    unsure = summary["unanswerable_declined"] + summary["unanswerable_low"]
    assert asked == 16 and round(unsure * 26) >= missing_floor + 10  # the off-topic ones too


@pytest.mark.parametrize("mode", ["lexical", "semantic"])
def test_follow_up_set(mode: str, model: SemanticModel) -> None:
    report = _run(FOLLOW_UPS, mode, model)
    scores = report.scores.as_dict()
    assert scores["answerable"] >= 20
    assert scores["hit@1"] >= FLOORS[mode][2], [m.question.question for m in report.misses]
    assert scores["hit@3"] == 1.0, [m.question.question for m in report.misses]
    assert scores["wrongly_declined"] == 0
    declined, asked = report.declined_by_kind["switch"]
    assert declined == asked == 25, [q.question for q in report.false_answers]


def test_follow_ups_need_their_context() -> None:
    """Without the previous question the same follow-ups mostly fail: the context is used."""
    eval_set = load_eval_file(FOLLOW_UPS)
    for question in eval_set.questions:
        object.__setattr__(question, "previous", None)
    assert evaluate(eval_set, CORPUS).scores.as_dict()["hit@1"] < 0.6
