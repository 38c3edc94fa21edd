"""Answerability: the shipped model, its labels and how the engine uses the confidence."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bot.answer.answerability import (
    LEXICAL_FEATURES,
    MODEL_FILE,
    SEMANTIC_FEATURES,
    Model,
    Thresholds,
    load_models,
)
from bot.answer.engine import Engine
from bot.answer.models import Status
from bot.cli.text import answer_json, format_answer

REPO = Path(__file__).parents[2]


def test_the_shipped_models_name_every_feature_and_order_their_thresholds() -> None:
    models = load_models(MODEL_FILE)
    assert set(models) >= {"lexical"}
    expected = {"lexical": LEXICAL_FEATURES, "semantic": SEMANTIC_FEATURES}
    for mode, model in models.items():
        assert model.names == expected[mode]
        assert len(model.weights) == len(model.means) == len(model.scales) == len(model.names)
        t = model.thresholds
        assert 0.0 < t.decline <= t.low <= t.high <= 1.0


def test_labels_follow_the_thresholds() -> None:
    model = Model(("coverage",), (0.0,), (1.0,), (4.0,), -2.0, Thresholds(0.2, 0.5, 0.9))
    assert model.label(0.1) is None
    assert model.label(0.3) == "low"
    assert model.label(0.6) == "medium"
    assert model.label(0.95) == "high"
    # More coverage, more confidence: the probability is the logistic of the weighted sum.
    assert model.probability({"coverage": 0.0}) < model.probability({"coverage": 1.0})
    assert model.probability({"coverage": 0.5}) == pytest.approx(0.5)


def test_answers_carry_a_confidence_and_declines_do_too(engine: Engine) -> None:
    answered = engine.answer("when did Kim Jong-il die?")
    assert answered.status is Status.ANSWERED
    assert answered.confidence is not None and answered.confidence_label in {"high", "medium"}
    assert answered.ranking == "lexical"
    declined = engine.answer("How do I bake sourdough bread?")
    assert declined.status is Status.NOT_FOUND and not declined.answered
    assert declined.confidence is not None and declined.confidence < 0.3
    usage = engine.answer("hello")
    assert usage.confidence is None and usage.confidence_label is None


def test_a_low_answer_says_so_in_words_never_as_a_number(engine: Engine) -> None:
    low = Model(
        engine.answerability.names,
        engine.answerability.means,
        engine.answerability.scales,
        tuple(0.0 for _ in engine.answerability.names),
        0.0,  # every probability 0.5
        Thresholds(0.1, 0.9, 0.95),
    )
    unsure = Engine(engine.corpus, engine.aliases, index=engine.index, answerability=low)
    answer = unsure.answer("when did Kim Jong-il die?")
    assert answer.confidence_label == "low" and answer.answered
    text = format_answer(answer)
    assert text.splitlines()[0] == "Not sure the article answers this; closest passages:"
    assert "0.5" not in text
    record = json.loads(answer_json(answer))
    assert record["confidence"] == 0.5 and record["confidence_label"] == "low"
    assert record["answered"] is True


def test_the_fitting_script_chooses_ordered_thresholds() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import fit_answerability as fit
    finally:
        sys.path.pop(0)
    rows: list[dict[str, object]] = []
    for i in range(200):
        good = i % 3 != 0
        value = (0.5 + (i % 50) / 100) if good else (i % 50) / 100
        rows.append(
            {
                "values": {"coverage": value},
                "label": int(good),
                "hit1": int(good and i % 5 != 0),
                "answerable": good or i % 2 == 0,
                "weight": 1.0,
            }
        )
    model = fit.fit(rows, ("coverage",))
    assert model.weights[0] > 0
    t = model.thresholds
    assert 0.0 <= t.decline <= t.low <= t.high <= 1.0
    assert "| declined |" in fit.table(rows, model)
