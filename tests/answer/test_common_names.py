"""General-knowledge names: a capital, a people or a short name stands for what the corpus says."""

from __future__ import annotations

from bot.answer.query import build_query
from bot.index.aliases import Aliases
from bot.index.bm25 import BM25Index
from bot.index.common_names import common_names
from bot.index.tokenize import terms

SENTENCES = [
    "Ukraine wants closer links with the European Union.",
    "Liberal Democrat chairman Matthew Taylor said the plan was unfair.",
    "Phones are cheaper in Germany than in Moscow.",
    "Latin American countries were courted too.",
]


def _index(sentences: list[str]) -> BM25Index:
    return BM25Index([terms(s) for s in sentences])


def _names(question: str, index: BM25Index) -> dict[str, frozenset[str]]:
    return {c.label: c.terms for c in build_query(question, Aliases(), index).concepts}


def test_a_name_no_sentence_holds_gets_the_names_the_corpus_uses() -> None:
    index = _index(SENTENCES)
    assert "ukrain" in _names("what does Kiev want?", index)["Kiev"]
    assert {"liber", "democrat"} <= _names("what did the lib dems say?", index)["lib dems"]
    assert "germani" in _names("are phones cheap for Germans?", index)["Germans"]


def test_the_embedded_text_names_what_the_corpus_calls_it() -> None:
    query = build_query("what does Kyiv want?", Aliases(), _index(SENTENCES))
    assert query.expansions == ["Ukraine"]
    assert query.meaning_text == "what does Kyiv want? (Ukraine)"


def test_a_name_some_sentence_holds_is_searched_as_typed() -> None:
    # The corpus says "Moscow": a question about Moscow is not one about all of Russia.
    assert _names("what about Moscow?", _index([*SENTENCES, "Russia said no."]))["Moscow"] == {
        "moscow"
    }


def test_names_the_corpus_never_uses_add_nothing() -> None:
    assert _names("what did Canberra say?", _index(SENTENCES))["Canberra"] == {"canberra"}


def test_a_people_s_name_that_is_part_of_other_names_is_not_a_country() -> None:
    # "Latin American countries" says nothing about the United States.
    assert "american" not in _names("and the US?", _index(SENTENCES)).get("US", frozenset())
    assert all("American" not in g.names for g in common_names().groups)


def test_without_the_index_no_general_name_is_added() -> None:
    assert build_query("what does Kiev want?", Aliases()).concepts[0].terms == {"kiev"}
