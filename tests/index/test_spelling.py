"""British and American spellings: each pattern both ways, and the words no pattern may touch."""

from __future__ import annotations

import pytest

from bot.index.spelling import variants


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("defence", "defense"),
        ("offences", "offenses"),
        ("neighbours", "neighbors"),
        ("colour", "color"),
        ("favourite", "favorite"),
        ("honoured", "honored"),
        ("centre", "center"),
        ("theatres", "theaters"),
        ("centred", "centered"),
        ("organise", "organize"),
        ("realised", "realized"),
        ("analyse", "analyze"),
        ("catalogue", "catalog"),
        ("programme", "program"),
        ("grey", "gray"),
        ("judgement", "judgment"),
    ],
)
def test_each_spelling_finds_the_other(british: str, american: str) -> None:
    assert american in variants(british)
    assert british in variants(american)


def test_ae_and_oe_become_e_one_way_only() -> None:
    # Which "e" was once "ae" no pattern can tell: "pediatric" and "estrogen" stay as typed.
    assert variants("paediatric") == ("pediatric",)
    assert variants("oestrogen") == ("estrogen",)
    assert variants("foetus") == ("fetus",)


@pytest.mark.parametrize(
    "word",
    ["hour", "hours", "four", "your", "tour", "detour", "hence", "fence", "michael", "poets"],
)
def test_words_with_one_spelling_get_no_real_other_word(word: str) -> None:
    assert variants(word) == ()


def test_short_odd_and_non_ascii_words_are_left_alone() -> None:
    assert variants("or") == ()
    assert variants("x2000") == ()
    assert variants("défence") == ()
    assert "defence" not in variants("defence")


def test_a_question_in_british_spelling_matches_an_american_article() -> None:
    from bot.answer.query import build_query
    from bot.index.aliases import Aliases
    from bot.index.tokenize import terms

    query = build_query("when did the defence ministers meet?", Aliases({}))
    (defence,) = [c for c in query.concepts if c.label == "defence"]
    assert set(terms("defense")) <= defence.terms
    assert defence.typed_terms == tuple(terms("defence"))
