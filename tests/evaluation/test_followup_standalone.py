"""A standalone question asked after another is read as it would be alone (scripts/followup_standalone.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

from bot.answer.engine import Engine

REPO = Path(__file__).parents[2]


def _script() -> ModuleType:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import followup_standalone
    finally:
        sys.path.pop(0)
    return followup_standalone


def test_no_standalone_question_is_answered_only_because_of_the_one_before() -> None:
    followup_standalone = _script()
    questions = followup_standalone.standalone_questions()
    assert len(questions) > 150
    found = followup_standalone.tally(Engine.from_folder(REPO / "corpus"), questions)
    assert found.pairs == len(questions) * len(followup_standalone.EARLIER)
    assert found.answered_only_together == []
    # A few do refer back ("when did the government say this?"); most are read alone.
    assert found.read_together <= 12


def test_switch_probes_are_declined_as_alone_but_for_words_the_answer_shown_may_hold() -> None:
    followup_standalone = _script()
    probes = followup_standalone.standalone_questions((followup_standalone.PROBES,))
    assert len(probes) == 70
    found = followup_standalone.tally(Engine.from_folder(REPO / "corpus"), probes)
    # Left: a verb the article lacks asking for what the answer shown holds, a place or
    # a number ("where does he live?" after 12.1 on Beijing, "how much does it weigh?"),
    # a thing of theirs it lacks beside words it has ("national", "called"), and words
    # it uses otherwise ("in the wake of": "what time does he wake up?").
    left = {question for _, question in found.answered_only_together}
    assert left <= {
        "where does he live?",
        "how much does it weigh?",
        "what is their national anthem called?",
        "what time does he wake up?",
    }


def test_no_switch_is_answered_only_because_of_the_one_before() -> None:
    followup_standalone = _script()
    asked = followup_standalone.switches()
    assert len(asked) >= 40
    engines = {folder: Engine.from_folder(REPO / folder) for folder, _, _ in asked}
    assert followup_standalone.switches_answered_only_together(engines.__getitem__, asked) == []
