"""Tokenising: normalisation, case folding, stop words, stemming, acronyms."""

from hypothesis import given, settings
from hypothesis import strategies as st

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


def _reference_terms(text: str) -> list[str]:
    """terms() as first written: stem every word that is_content() keeps."""
    import unicodedata

    from bot.index.tokenize import is_content, is_shouting, stem

    text = unicodedata.normalize("NFKC", text)
    shouting = is_shouting(text)
    return [stem(t.word) for t in words(text) if is_content(t, shouting=shouting)]


_AWKWARD = [
    "Kim Jong-un met U.S. and U.N. envoys in Pyongyang's capital, gov't said.",
    "WHY IS THE NORTH COURTING ASEAN? IT IS",
    "ⓐⓑ ABCD EFGH",  # circled letters: cased, not letters
    "ＡＳＥＡＮ ＵＳ us Us uS",
    "F-16 a-b ab-cd A-B 1-2 x-ray re-elected",
    "Straße STRASSE ǅemal Ǆ ǆ",
    "it's IT'S it’s The leader’s power. O'Neill's d'Artagnan",
    "ﬁnance ﬀ ① ½ ² Ⅻ",
    "e\u0301 q\u0301 한국 북한은 안보리 中国 日本語のテキスト",
    "مرحبا بالعالم עברית",
    "\u200d" * 40 + "A\u200dB",
    "I A a 1 2 s's x.y.z. A.B.C. .. ...",
]


def test_terms_equal_the_per_token_definition() -> None:
    from pathlib import Path

    import bot.index.tokenize as tokenize

    texts = list(_AWKWARD)
    corpus = Path(__file__).resolve().parents[2] / "corpus"
    for path in sorted(corpus.glob("*.txt")):
        texts.extend(path.read_text(encoding="utf-8").splitlines())
    texts += [t.upper() for t in texts] + [t.lower() for t in texts]
    for _ in range(2):  # once judging each surface form, once from what was remembered
        for text in texts:
            assert terms(text) == _reference_terms(text), text
    tokenize._TERMS.clear()
    assert [terms(t) for t in texts] == [_reference_terms(t) for t in texts]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
@settings(max_examples=300, deadline=None)
def test_terms_equal_the_per_token_definition_on_any_text(text: str) -> None:
    assert terms(text) == _reference_terms(text)
    assert terms(text + " " + text.upper()) == _reference_terms(text + " " + text.upper())
