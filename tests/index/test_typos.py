"""Misspelt question words: corrected to the corpus word one edit away, real words left alone."""

from __future__ import annotations

import pytest

from bot.answer.query import build_query
from bot.index.aliases import Aliases
from bot.index.bm25 import BM25Index
from bot.index.tokenize import terms
from bot.index.typos import correction, dictionary, edits

SENTENCES = [
    "The third nuclear test drew sanctions.",
    "The unification ministry spoke of a fight over traditional supporters.",
    "Work on the plant stopped.",
]


@pytest.fixture(scope="module")
def index() -> BM25Index:
    return BM25Index([terms(s) for s in SENTENCES])


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("nuclaer", "nuclear"),  # two letters swapped
        ("thrid", "third"),
        ("minstry", "ministry"),  # a letter left out
        ("unifcation", "unification"),
        ("suporters", "supporters"),
        ("sanctionns", "sanctions"),  # a letter doubled
        ("tradutional", "traditional"),  # a vowel for another
    ],
)
def test_a_misspelt_word_finds_the_corpus_word(index: BM25Index, typed: str, meant: str) -> None:
    assert correction(typed, index) == meant


@pytest.mark.parametrize(
    "word",
    [
        "flight",  # an English word the corpus lacks, one edit from its "fight"
        "nork",  # "work" is one letter away, but n is nowhere near w on a keyboard
        "tst",  # too short to guess
        "kimchi",  # nothing near it in the corpus
        "défense",  # not plain ASCII letters
    ],
)
def test_other_unknown_words_are_left_alone(index: BM25Index, word: str) -> None:
    assert correction(word, index) is None


def test_the_dictionary_is_the_packaged_vocabulary() -> None:
    words = dictionary()
    assert len(words) > 20_000
    assert {"flight", "boss", "weekend"} <= words
    assert not {"nuclaer", "minstry"} & words


def test_edits_are_distinct_and_exclude_the_word() -> None:
    found = edits("test")
    assert len(found) == len(set(found))
    assert "test" not in found
    assert {"tst", "tets", "tesst", "rest"} <= set(found)


def test_a_question_keeps_its_words_and_gains_the_corrections(index: BM25Index) -> None:
    query = build_query("when was the thrid nuclaer test?", Aliases(), index)
    (third,) = [c for c in query.concepts if c.label == "thrid"]
    assert third.typed_terms == ("thrid",)
    assert "third" in third.terms
    assert query.meaning_text == "when was the third nuclear test?"


def test_without_the_index_nothing_is_corrected() -> None:
    query = build_query("when was the thrid nuclaer test?", Aliases())
    assert query.spelt is None
    assert query.meaning_text == "when was the thrid nuclaer test?"
