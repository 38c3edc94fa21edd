"""The answer engine over the seed article: ranking, citations, passages, not found."""

from pathlib import Path

import pytest

from bot.answer.engine import Engine
from bot.answer.models import Status

CORPUS = Path(__file__).parents[2] / "corpus"


def test_the_example_question_ranks_the_lead_sentence_first(engine: Engine) -> None:
    answer = engine.answer("why is NK courting ASEAN?")
    assert answer.status is Status.ANSWERED
    first = answer.passages[0]
    assert first.citation == "1.1"
    assert first.text.startswith("North Korea is stepping up efforts to forge closer ties")
    assert first.article_title.startswith("N. Korea striving")
    assert first.source == "Yonhap News"
    assert {"North", "Korea", "ASEAN"} <= set(first.matched)
    assert first.context_before == ""
    assert first.context_after.startswith("The unification ministry")


def test_either_form_of_a_defined_acronym_finds_the_other(engine: Engine) -> None:
    by_acronym = engine.answer("UNSC resolutions")
    # The passage opens with a sentence saying "UNSC" (9.1 may bring its neighbour along).
    assert by_acronym.passages[0].citation.split("-")[0] in {"5.1", "9.1"}
    spelled_out = engine.answer("what did the Security Council do?")
    assert spelled_out.passages[0].citation == "5.1"
    # 9.1 only says "UNSC": the long form must still reach it.
    assert "9.1" in [
        p.citation for p in engine.answer("United Nations Security Council", k=5).passages
    ]


def test_alias_file_expands_questions(engine: Engine) -> None:
    assert (
        engine.answer("what is the DPRK doing with Vietnam and Laos?")
        .passages[0]
        .citation.startswith("3.1")
    )


def test_highlights_point_at_matched_words(engine: Engine) -> None:
    passage = engine.answer("third nuclear test").passages[0]
    marked = [passage.text[s:e] for s, e in passage.highlights]
    assert marked == ["third", "nuclear", "test"]


def test_adjacent_hits_merge_into_one_passage(engine: Engine) -> None:
    passage = engine.answer("Indonesia cooperation senior-level exchanges").passages[0]
    assert passage.citation == "3.1-3.2"
    assert passage.citations == ("3.1", "3.2")


def test_k_and_offset_page_through_passages(engine: Engine) -> None:
    everything = engine.answer("North Korea ASEAN sanctions", k=6)
    first = engine.answer("North Korea ASEAN sanctions", k=2)
    second = engine.answer("North Korea ASEAN sanctions", k=2, offset=2)
    assert first.has_more
    assert [p.citation for p in first.passages + second.passages] == [
        p.citation for p in everything.passages[:4]
    ]


@pytest.mark.parametrize(
    "question",
    [
        "How do I bake sourdough bread?",
        "Who won the 2014 World Cup?",
        "What is the boiling point of water?",
        "What's the weather in Seoul tomorrow?",
    ],
)
def test_off_topic_questions_are_declined(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.status is Status.NOT_FOUND
    assert answer.passages == ()
    assert answer.message.startswith("The article doesn't say.")
    assert "N. Korea striving" in answer.message


@pytest.mark.parametrize("question", ["", "   ", "?!...", "hi", "Help", "hello there", "thanks!"])
def test_non_questions_get_the_usage_hint(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.status is Status.USAGE
    assert "Ask a question about the article" in answer.message


@pytest.mark.parametrize(
    "question",
    [
        "x" * 10_000,
        "sanctions " * 1000,
        "\u200d" * 4000,
        "كوريا الشمالية",
        "🙂 sanctions 🙂",
        "sanc\u200btions\x00\x1b[31m",
        "ASEAN" + "\u0301" * 50,
    ],
)
def test_odd_input_gets_an_answer_not_an_exception(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.status in set(Status)
    assert answer.passages or answer.message


def test_questions_over_the_cap_are_refused_plainly(engine: Engine) -> None:
    answer = engine.answer("why " * 2000)
    assert answer.status is Status.USAGE
    assert "too long" in answer.message


def test_invisible_characters_do_not_hide_words(engine: Engine) -> None:
    answer = engine.answer("sanc\u200btions on the Nor\u00adth?")
    assert answer.answered
