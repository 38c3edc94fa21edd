"""How a question's words become concepts: frame words, months and numbers written otherwise."""

from __future__ import annotations

from bot.answer.query import build_query
from bot.index.aliases import Aliases
from bot.index.bm25 import BM25Index
from bot.index.tokenize import terms

SENTENCES = [
    "China and Russia back the North.",
    "Sanctions followed the test on Feb. 12.",
    "There were 15 exchanges in 2013.",
]


def _index(sentences: list[str]) -> BM25Index:
    return BM25Index([terms(s) for s in sentences])


def _labels(question: str, index: BM25Index) -> list[str]:
    return [c.label for c in build_query(question, Aliases(), index).concepts]


def test_frame_words_no_sentence_holds_are_left_out() -> None:
    index = _index(SENTENCES)
    assert _labels("what role does Russia play?", index) == ["Russia"]
    assert _labels("how important is China to the North?", index) == ["China", "North"]


def test_frame_words_the_corpus_uses_stay() -> None:
    index = _index([*SENTENCES, "Russia plays a key role."])
    assert _labels("what role does Russia play?", index) == ["role", "Russia", "play"]


def test_a_question_of_frame_words_only_keeps_them() -> None:
    assert _labels("what role?", _index(SENTENCES)) == ["role"]


def test_measure_words_stay_though_no_sentence_holds_them() -> None:
    # "How many" of an article that never gives the count must not look answered.
    assert _labels("how many members does China have?", _index(SENTENCES)) == [
        "many",
        "members",
        "China",
    ]


def test_months_and_numbers_in_other_forms_name_the_same_thing() -> None:
    concepts = build_query("fifteen exchanges in february", Aliases()).concepts
    by_label = {c.label: c.terms for c in concepts}
    assert "15" in by_label["fifteen"]
    assert "feb" in by_label["february"]
    assert "30" in build_query("is he in his thirties?", Aliases()).terms


def test_a_question_about_someone_s_age_asks_for_a_number() -> None:
    from bot.answer.cues import Cue, question_cue

    assert question_cue("kim's age?") is Cue.NUMBER
    assert question_cue("what is the age of Kim?") is Cue.NUMBER
    assert question_cue("what happened in the age of the internet?") is None


def test_where_frame_words_no_sentence_holds_are_left_out() -> None:
    index = _index([*SENTENCES, "The ceremony opened in New York."])
    assert _labels("where was the ceremony held?", index) == ["ceremony"]
    assert _labels("the ceremony is from which place?", index) == ["ceremony"]
