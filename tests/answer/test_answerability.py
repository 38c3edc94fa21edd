"""Answerability: the shipped model, its labels and how the engine uses the confidence."""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.answer.answerability import (
    LEXICAL_FEATURES,
    MODEL_FILE,
    SEMANTIC_FEATURES,
    Logistic,
    Thresholds,
    Trees,
    load_models,
)
from bot.answer.answerability_models import FALLBACK, model_from_entry, models_or_fallback
from bot.answer.engine import Engine
from bot.answer.models import Status
from bot.cli.text import answer_json, format_answer
from bot.errors import ModelFileError

REPO = Path(__file__).parents[2]


def test_the_shipped_models_name_every_feature_and_order_their_thresholds() -> None:
    models = load_models(MODEL_FILE)
    assert set(models) >= {"lexical"}
    expected = {"lexical": LEXICAL_FEATURES, "semantic": SEMANTIC_FEATURES}
    for mode, model in models.items():
        assert model.names == expected[mode]
        t = model.thresholds
        assert 0.0 < t.decline <= t.low <= t.high <= 1.0


def test_labels_follow_the_thresholds() -> None:
    model = Logistic(("coverage",), (0.0,), (1.0,), (4.0,), -2.0, Thresholds(0.2, 0.5, 0.9))
    assert model.label(0.1) is None
    assert model.label(0.3) == "low"
    assert model.label(0.6) == "medium"
    assert model.label(0.95) == "high"
    # More coverage, more confidence: the probability is the logistic of the weighted sum.
    assert model.probability({"coverage": 0.0}) < model.probability({"coverage": 1.0})
    assert model.probability({"coverage": 0.5}) == pytest.approx(0.5)


def test_a_question_far_from_every_sentence_is_declined_unless_its_words_answer_it() -> None:
    t = Thresholds(0.2, 0.5, 0.9, on_topic=0.3)
    model = Logistic(("coverage",), (0.0,), (1.0,), (4.0,), -2.0, t)
    assert model.label(0.45, nearest=0.25) is None  # would be "low": about something else
    assert model.label(0.45, nearest=0.35) == "low"
    # Word match alone makes it at least medium ("what happened on 12 february", "Feb. 12"
    # in the article): the floor's cosine does not overrule the passage's words.
    assert model.label(0.6, nearest=0.25) == "medium"
    assert model.label(0.95, nearest=0.25) == "high"
    assert model.label(0.95) == "high"  # read with the previous question, or no model
    assert model.label(0.1, nearest=0.9) is None


def test_the_fit_sets_the_on_topic_floor_below_the_answered_questions() -> None:
    fit = _fitting_script()
    rows: list[dict[str, object]] = []
    for i in range(400):
        answerable = i % 4 != 0
        rows.append(
            {
                "values": {"coverage": 0.5},
                "label": int(answerable),
                "hit1": int(answerable),
                "answerable": answerable,
                "weight": 1.0,
                # Off-topic questions come nowhere near a sentence, answered ones do.
                "nearest": 0.3 + (i % 60) / 100 if answerable else (i % 20) / 100,
                "kind": "" if answerable else "off-topic",
            }
        )
    # The off-topic ones sit among the answered ones' lowest probabilities ("low"): the
    # probability alone would decline more than the answered 0.5% to decline them.
    answered = np.array([0.2 + (i % 60) / 100 for i in range(400)])
    off_topic = np.array([not r["answerable"] for r in rows])
    p = np.where(off_topic, 0.22, answered)
    t = fit.choose_thresholds(rows, p, semantic=True)
    assert 0.19 < t.on_topic <= 0.31 and t.decline < 0.22  # the floor declines them
    lexical = fit.choose_thresholds(rows, p, semantic=False)
    assert lexical.on_topic == 0.0 and lexical.decline > 0.22
    # At "medium" the floor does not decline a question (Model.label): the probability must.
    medium = fit.choose_thresholds(rows, np.where(off_topic, 0.7, p), semantic=True)
    assert medium.decline > 0.7


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
    # No weight: every probability is 0.5, between the low and the decline thresholds.
    low = Logistic(("coverage",), (0.0,), (1.0,), (0.0,), 0.0, Thresholds(0.1, 0.9, 0.95))
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
    fit = _fitting_script()
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
    assert isinstance(model, Logistic) and model.weights[0] > 0
    t = model.thresholds
    assert 0.0 <= t.decline <= t.low <= t.high <= 1.0
    assert "| declined |" in fit.table(rows, model)


def test_high_counts_the_unanswerable_questions_it_would_label_high() -> None:
    fit = _fitting_script()
    # 60 answerable questions right at rank 1 at probabilities 0.40-0.99, and one
    # unanswerable question at 0.80 that looks fully covered.
    rows: list[dict[str, object]] = [
        {"label": 1, "hit1": 1, "answerable": True, "kind": ""} for _ in range(60)
    ]
    rows.append({"label": 0, "hit1": 0, "answerable": False, "kind": ""})
    p = np.array([0.4 + i / 100 for i in range(60)] + [0.8])
    high = fit.choose_thresholds(rows, p).high
    # The unanswerable one counts as wrong: at 0.40, 60 of 61 (98.4%) are right,
    # under HIGH_PRECISION, so "high" starts above it.
    chosen = p >= high
    right = np.array([bool(r["hit1"]) for r in rows])[chosen]
    assert high == pytest.approx(0.81) and right.mean() >= fit.HIGH_PRECISION
    # Without it every answer is right: "high" starts where "low" ends.
    alone = fit.choose_thresholds(rows[:60], p[:60])
    assert alone.high == alone.low < 0.5


def test_low_is_read_on_squad_answerable_questions_only() -> None:
    fit = _fitting_script()
    # SQuAD's answerable questions at 0.5-1.0, the repo's own at 0.0-0.5 (worded unlike
    # the article on purpose): "low" sits at LOW_SHARE of SQuAD's, not of both.
    squad = [{"set": "questions.jsonl", "label": 1, "hit1": 1, "answerable": True}] * 100
    own = [{"set": "wording_questions.jsonl", "label": 1, "hit1": 1, "answerable": True}] * 100
    p = np.array([0.5 + i / 200 for i in range(100)] + [i / 200 for i in range(100)])
    low = fit.choose_thresholds([*squad, *own], p).low
    assert low == pytest.approx(float(np.quantile(p[:100], fit.LOW_SHARE)), abs=0.001)


def _fitting_script():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import fit_answerability
    finally:
        sys.path.pop(0)
    return fit_answerability


def test_the_tree_evaluator_equals_scikit_learn_on_the_fitted_model() -> None:
    fit = _fitting_script()
    rng = np.random.default_rng(7)
    names = ("coverage", "margin", "pairs", "negation_mismatch")
    x = rng.random((600, len(names)))
    x[:, 3] = x[:, 3] > 0.8
    logit = 4 * x[:, 0] + 2 * x[:, 1] * x[:, 2] - 3 * x[:, 3] - 2.5
    y = (rng.random(600) < 1 / (1 + np.exp(-logit))).astype(int)
    classifier = fit.tree_classifier()
    classifier.fit(x, y, sample_weight=np.where(y == 1, 1.0, 2.0))
    model = fit.export_trees(classifier, names)
    # Through the data file too: what the engine reads is what scikit-learn fitted.
    model = model_from_entry(json.loads(json.dumps(fit._entry(model))))
    assert isinstance(model, Trees) and len(model.trees) == fit.TREE_COUNT
    assert max(len(t.feature) for t in model.trees) <= 2 ** (fit.TREE_DEPTH + 1) - 1
    test = rng.random((300, len(names)))
    test[:, 3] = test[:, 3] > 0.8
    expected = classifier.predict_proba(test)[:, 1]
    got = [model.probability(dict(zip(names, row, strict=True))) for row in test]
    assert got == pytest.approx(expected.tolist(), abs=1e-6)


def test_the_logistic_fit_is_scikit_learns_where_no_sign_binds_and_zero_where_one_would() -> None:
    fit = _fitting_script()
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    x = rng.random((500, 3))
    # coverage raises the odds (its plain direction), margin is free, and pairs, which may
    # only raise them, lowers them in this data: its weight must stop at zero.
    logit = 3 * x[:, 0] - 1.5 * x[:, 1] - 2 * x[:, 2]
    y = (rng.random(500) < 1 / (1 + np.exp(-logit))).astype(int)
    w = np.where(y == 1, 1.0, 2.0)
    free = fit.fit_logistic(x[:, :2], y, w, ("coverage", "margin"))
    z = (x[:, :2] - x[:, :2].mean(axis=0)) / x[:, :2].std(axis=0)
    reference = LogisticRegression(C=fit.REGULARISATION, tol=1e-10, max_iter=10000)
    reference.fit(z, y, sample_weight=w)
    assert free.weights == pytest.approx(reference.coef_[0].tolist(), abs=1e-3)
    assert free.bias == pytest.approx(float(reference.intercept_[0]), abs=1e-3)
    bounded = fit.fit_logistic(x, y, w, ("coverage", "margin", "pairs"))
    assert bounded.weights[0] > 0 > bounded.weights[1]
    assert bounded.weights[2] == 0.0


def test_the_fitting_script_fits_trees_with_ordered_thresholds() -> None:
    fit = _fitting_script()
    rows = [
        {
            "values": {"coverage": (i % 50) / 50, "margin": (i % 7) / 7},
            "label": int(i % 50 >= 20),
            "hit1": int(i % 50 >= 25),
            "answerable": i % 50 >= 10,
            "weight": 1.0,
        }
        for i in range(400)
    ]
    model = fit.fit(rows, ("coverage", "margin"), "trees")
    assert isinstance(model, Trees)
    assert model.probability({"coverage": 0.9, "margin": 0.5}) > model.probability(
        {"coverage": 0.1, "margin": 0.5}
    )
    t = model.thresholds
    assert 0.0 <= t.decline <= t.low <= t.high <= 1.0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "Cannot read"),
        ('{"models": {}}', 'no "lexical" model'),
        ('{"models": {"lexical": {"features": ["coverage"]}}}', "lacks 'thresholds'"),
        (
            '{"models": {"lexical": {"kind": "trees", "features": ["coverage"], "baseline": 0,'
            ' "thresholds": {"decline": 0.2, "low": 0.5, "high": 0.9}, "trees": [{"feature":'
            ' [0, -1], "threshold": [0.5, 0], "left": [5, 0], "right": [1, 0],'
            ' "value": [0, 1]}]}}}',
            "points outside the tree",
        ),
        (
            '{"models": {"lexical": {"kind": "logistic", "features": ["coverage"], "means": [0],'
            ' "scales": [1], "weights": [1, 2], "bias": 0,'
            ' "thresholds": {"decline": 0.2, "low": 0.5, "high": 0.9}}}}',
            "2 weights for 1 entries",
        ),
        (
            '{"models": {"lexical": {"kind": "logistic", "features": ["coverage"], "means": [0],'
            ' "scales": [1], "weights": [1], "bias": 0,'
            ' "thresholds": {"decline": 0.6, "low": 0.5, "high": 0.9}}}}',
            "not ordered",
        ),
    ],
)
def test_a_broken_model_file_warns_in_one_line_and_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, problem: str
) -> None:
    broken = tmp_path / "answerability.json"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError, match=re.escape(problem)):
        load_models(broken)
    with caplog.at_level(logging.WARNING):
        models = models_or_fallback(broken)
    assert models == {"lexical": FALLBACK}
    (record,) = caplog.records
    message = record.getMessage()
    assert problem in message and "\n" not in message and str(broken) in message


def test_the_fallback_still_declines_what_the_article_does_not_mention(engine: Engine) -> None:
    fallback = Engine(engine.corpus, engine.aliases, index=engine.index, answerability=FALLBACK)
    assert not fallback.answer("How do I bake sourdough bread?").answered
    answered = fallback.answer("when did Kim Jong-il die?")
    assert answered.answered and answered.confidence_label != "high"


def _reading_values(engine: Engine, question: str) -> dict[str, float]:
    _, reading = engine.assess(question)
    assert reading is not None
    return reading.values


def test_features_look_past_the_question_words(tmp_path: Path) -> None:
    (tmp_path / "harbour.txt").write_text(
        "Harbour town opens a new ferry line\n\n"
        "The harbour town of Portvale opened a ferry line to Elmsey in 2019.\n\n"
        "The mayor said the line was not profitable in its first year.\n\n"
        "Tickets cost twelve pounds and the crossing takes forty minutes.\n\n"
        "The ferry carries cars and bicycles on the morning crossing.\n",
        encoding="utf-8",
    )
    engine = Engine.from_folder(tmp_path)
    # A name no sentence mentions, and a year the best passage lacks.
    swapped = _reading_values(engine, "When did Portvale open a ferry line to Brandon in 2018?")
    assert swapped["unknown_names"] == pytest.approx(0.5)  # Portvale known, Brandon not
    assert swapped["numbers_absent"] == 1.0
    same = _reading_values(engine, "When did Portvale open a ferry line to Elmsey in 2019?")
    assert same["unknown_names"] == 0.0 and same["numbers_absent"] == 0.0
    # The passage negates what the question does not.
    negated = _reading_values(engine, "Was the ferry line profitable in its first year?")
    assert negated["passage_negated"] == 1.0 and negated["negation_mismatch"] == 0.0
    # "what X ...": whether the best passage holds X.
    head = _reading_values(engine, "What ticket does the ferry sell for cars and bicycles?")
    assert head["head_missing"] == 1.0
    assert _reading_values(engine, "What ferry carries cars?")["head_missing"] == 0.0
    # What the best sentence lacks, its neighbours hold.
    near = _reading_values(engine, "What did the mayor say about the Portvale line?")
    assert near["neighbour_cover"] > 0.0
    far = _reading_values(engine, "What did the mayor say about the Hamburg line?")
    assert far["neighbour_cover"] == 0.0


def test_features_notice_a_word_the_passage_says_otherwise(tmp_path: Path) -> None:
    (tmp_path / "harbour.txt").write_text(
        "Harbour town opens a new ferry line\n\n"
        "The harbour town of Portvale opened a ferry line to Elmsey in 2019.\n\n"
        "The mayor said the line was not profitable in its first year.\n\n"
        "The ferry carries cars and bicycles on the morning crossing.\n\n"
        "The UN praised the crossing.\n",
        encoding="utf-8",
    )
    engine = Engine.from_folder(tmp_path)
    # "bus" stands where the passage says "ferry", between words it shares.
    bus = _reading_values(engine, "When did Portvale open a bus line to Elmsey?")
    assert bus["swapped"] > 0.0
    assert _reading_values(engine, "When did Portvale open a ferry line to Elmsey?")["swapped"] == 0
    # "last" where the passage says "first"; "not" right before the question's word.
    last = _reading_values(engine, "Was the line profitable in its last year?")
    assert last["opposite"] == 1.0 and last["negated_near"] == 1.0
    first = _reading_values(engine, "What does the ferry carry in the morning?")
    assert first["opposite"] == 0.0 and first["negated_near"] == 0.0
    # A dotted acronym is one name, known under its plain spelling.
    assert _reading_values(engine, "What did the U.N. praise?")["unknown_names"] == 0.0
    # Of the words the corpus knows, how much the passage holds ("Mars" it never says).
    mars = _reading_values(engine, "Does the ferry carry cars to Mars?")
    assert mars["known_coverage"] == 1.0 and mars["coverage"] < 1.0


def test_the_fit_does_not_depend_on_the_model_it_replaces(tmp_path: Path) -> None:
    """Two fits, one started with a model that declines everything, give the same file.

    Follow-up gating reads the model in use, so a fit that started from the shipped
    file would change with it (a refit broke the regression tests that way).
    """
    fit = _fitting_script()
    models = load_models(MODEL_FILE)
    shipped = dict(models)
    names = ("coverage", "margin", "unknown_share", "pairs")
    nothing = Logistic(("coverage",), (0.0,), (1.0,), (0.0,), -20.0, Thresholds(0.5, 0.6, 0.9))
    entries = []
    try:
        # The control: the rows asked do depend on the model in use.
        asked = []
        for start in (FALLBACK, nothing):
            fit.answerability_models.default_models()["lexical"] = start
            asked.append([r["values"] for r in fit.collect(tmp_path, None, "train")])
        assert asked[0] != asked[1]
        for start in (None, nothing):
            installed = fit.answerability_models.default_models()
            installed.update(shipped)
            if start is not None:
                installed["lexical"] = start
            # No SQuAD here: the repo's own question sets alone, follow-ups among them.
            model, rows = fit.fit_mode(tmp_path, None, names, "trees", "lexical")
            assert any(r["set"] == "followup_questions.jsonl" for r in rows)
            entries.append(json.dumps(fit._entry(model)))
    finally:
        fit.answerability_models.default_models().clear()
        fit.answerability_models.default_models().update(shipped)
    assert entries[0] == entries[1]


def test_the_shipped_trees_are_monotone_where_the_fit_asked(engine: Engine) -> None:
    fit = _fitting_script()
    values = _reading_values(engine, "What did Russia say about the sanctions?")
    for mode, model in load_models(MODEL_FILE).items():
        for name in model.names:
            direction = fit.DIRECTIONS.get(name, 0)
            if direction == 0:
                continue
            probabilities = [model.probability({**values, name: v / 10}) for v in range(0, 31, 2)]
            steps = [b - a for a, b in itertools.pairwise(probabilities)]
            assert all(direction * s >= -1e-12 for s in steps), (mode, name)
