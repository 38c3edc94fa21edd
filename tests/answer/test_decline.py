"""Declining: off-topic questions, and questions whose key content the corpus lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer.decline import QUESTION_FRAME_TERMS, missing_key_content
from bot.answer.engine import Engine
from bot.answer.models import Status
from bot.answer.query import build_query
from bot.index.aliases import Aliases

CORPUS = Path(__file__).parents[2] / "corpus"


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of Laos?",
        "What's the weather in Seoul tomorrow?",
        "Who is the president of Indonesia?",
        "Where was Kim Jong-un born?",
        "What is North Korea's GDP?",
        "How do I bake sourdough bread?",
        "What happened to North Korea in 1994?",
    ],
)
def test_questions_the_article_does_not_answer_are_declined(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.status is Status.NOT_FOUND
    assert answer.message.startswith("The article doesn't say.")


@pytest.mark.parametrize(
    ("question", "citation"),
    [
        ("how old is Kim Jong Un?", "7.1"),  # "old" frames the question; the article says "30"
        ("when did Kim Jong-il die?", "7.1"),  # die ~ death
        ("Indonesia cooperation", "3.1"),
        ("Russia", "11.1"),
        ("what happened on Feb. 12?", "5.1"),
    ],
)
def test_answerable_questions_are_not_declined(
    engine: Engine, question: str, citation: str
) -> None:
    answer = engine.answer(question, k=3)
    assert answer.status is Status.ANSWERED
    assert citation in [c for p in answer.passages for c in p.citations]


@pytest.mark.parametrize(
    "question",
    [
        # The article's words mixed with something it never says: a name it never mentions,
        # a year it never names, a thing nobody in it gives or wins.
        "What did Brazil say about North Korea?",
        "What did the European Union say about the sanctions?",
        "How many ASEAN ministers visited Pyongyang in 1998?",
        "How much aid did ASEAN give North Korea?",
        "Who won the ASEAN football cup?",
    ],
)
def test_partial_overlap_questions_are_declined_or_labelled_low(
    engine: Engine, question: str
) -> None:
    answer = engine.answer(question)
    assert not answer.answered or answer.confidence_label == "low"


def test_the_decision_on_a_small_corpus_of_two_articles(tmp_path: Path) -> None:
    (tmp_path / "ferry.txt").write_text(
        "Portvale opens a ferry line\n\n"
        "The harbour town of Portvale opened a ferry line to Elmsey on 3 May 2019.\n\n"
        "Tickets cost twelve pounds and the crossing takes forty minutes.\n",
        encoding="utf-8",
    )
    (tmp_path / "library.txt").write_text(
        "Elmsey library reopens\n\n"
        "The library of Elmsey reopened after a two-year restoration paid for by the council.\n\n"
        "Its reading room now holds the island's archive of shipping records.\n",
        encoding="utf-8",
    )
    engine = Engine.from_folder(tmp_path)
    when = engine.answer("When did the Portvale ferry line open?")
    assert when.answered and when.confidence_label in {"medium", "high"}
    assert "3 May 2019" in when.passages[0].text
    who = engine.answer("Who paid for the restoration of the library?")
    assert who.answered and "council" in who.passages[0].text
    assert not engine.answer("How do I bake sourdough bread?").answered
    swapped = engine.answer("When did the Hamburg ferry line open in 1998?")
    assert not swapped.answered or swapped.confidence_label == "low"


def test_missing_key_content_on_a_small_corpus() -> None:
    from bot.index.bm25 import BM25Index
    from bot.index.tokenize import terms

    index = BM25Index(
        [terms(t) for t in ["Laos borders Vietnam.", "Vietnam exports rice and coffee."]]
    )
    aliases = Aliases()

    def missing(question: str) -> bool:
        return missing_key_content(build_query(question, aliases), index)

    assert missing("What is the capital of Laos?")  # one known thing, one never mentioned
    assert missing("What did Vietnam export in 1999?")  # a year the corpus never names
    assert not missing("What does Vietnam export?")
    assert not missing("What is the name of the country bordering Laos?")  # "name" frames
    assert not missing("What kind of rice does Vietnam export?")


def test_frame_words_are_stemmed_terms() -> None:
    assert {"name", "kind", "percentag"} <= QUESTION_FRAME_TERMS
