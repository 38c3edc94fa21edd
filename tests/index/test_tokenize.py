"""Tokenising: normalisation, case folding, stop words, stemming, acronyms."""

from bot.index.tokenize import terms, words


def test_punctuation_does_not_stick_to_words() -> None:
    assert terms("ASEAN?") == terms("ASEAN") == ["asean"]


def test_case_folding_nfkc_and_stemming() -> None:
    assert terms("Sanctions SANCTIONED sanctioning") == ["sanction", "sanction", "sanction"]
    assert terms("ＡＳＥＡＮ") == ["asean"]  # full-width letters
    assert terms("Straße") == terms("STRASSE")


def test_stop_words_and_question_words_are_dropped() -> None:
    assert terms("why is the North courting them?") == ["north", "court"]


def test_acronyms_in_capitals_are_kept_even_when_they_spell_stop_words() -> None:
    assert terms("US sanctions on us") == ["us", "sanction"]
    assert terms("U.N. and UN") == ["un", "un"]


def test_shouted_questions_still_drop_stop_words() -> None:
    assert terms("WHY IS THE NORTH COURTING ASEAN") == ["north", "court", "asean"]


def test_short_hyphen_fragments_do_not_match_acronyms() -> None:
    assert "un" not in terms("Kim Jong-un's hold on power")
    assert terms("senior-level F-16") == ["senior", "level", "16"]


def test_apostrophes_and_possessives() -> None:
    assert terms("gov't") == ["gov't"]
    assert terms("the leader's power") == ["leader", "power"]


def test_words_keep_offsets() -> None:
    text = "Why is NK courting ASEAN?"
    assert [(t.word, text[t.start : t.end]) for t in words(text)][-1] == ("asean", "ASEAN")


def test_odd_unicode_never_raises() -> None:
    for text in ["", "\u200d" * 4000, "مرحبا بالعالم", "🙂🙂", "\x00\x07", "e\u0301"]:
        assert isinstance(terms(text), list)
