"""The sentence splitter on the seed article and on the cases that trip splitters."""

from pathlib import Path

import pytest

from bot.ingest.splitting import MAX_SENTENCE_CHARS, cap_length, split_paragraphs, split_sentences
from tests.ingest.hostile import finishes

SEED = Path(__file__).parents[2] / "corpus" / "yonhap-nk-asean-sanctions.txt"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The UNSC acted on Feb. 12, despite warnings. It was the third test.",
            ["The UNSC acted on Feb. 12, despite warnings.", "It was the third test."],
        ),
        (
            "N. Korea striving for closer ties. The North said so.",
            ["N. Korea striving for closer ties.", "The North said so."],
        ),
        (
            "He met U.N. Secretary General Ban. Then he left.",
            ["He met U.N. Secretary General Ban.", "Then he left."],
        ),
        (
            "They went to the U.S. The talks failed.",
            ["They went to the U.S.", "The talks failed."],
        ),
        (
            '"They should honor promises," he said. The insider agreed.',
            ['"They should honor promises," he said.', "The insider agreed."],
        ),
        (
            '"No evidence exists." The official left.',
            ['"No evidence exists."', "The official left."],
        ),
        (
            "Mr. Kim and Dr. Lee met gov't officials. Why? Nobody knows!",
            ["Mr. Kim and Dr. Lee met gov't officials.", "Why?", "Nobody knows!"],
        ),
        ("It rose 3.5 percent in No. 2 position.", ["It rose 3.5 percent in No. 2 position."]),
        (
            "lower case after a full stop. stays joined",
            ["lower case after a full stop. stays joined"],
        ),
        ("", []),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_paragraphs_split_at_blank_lines_and_join_wrapped_lines() -> None:
    text = "First line\nwraps here.\n\n\nSecond paragraph.\n"
    assert split_paragraphs(text) == ["First line wraps here.", "Second paragraph."]


def test_one_sentence_lines_without_blank_lines_are_paragraphs() -> None:
    text = "One paragraph ends here.\nAnother one ends here."
    assert split_paragraphs(text) == ["One paragraph ends here.", "Another one ends here."]


def test_seed_article_sentences_exactly() -> None:
    paragraphs = split_paragraphs(SEED.read_text(encoding="utf-8"))
    sentences = [s for p in paragraphs for s in split_sentences(p)]
    assert sentences == [
        "Back To Top",
        "N. Korea striving for closer ties with ASEAN to weaken sanctions: gov't",
        "North Korea is stepping up efforts to forge closer ties with members of the Association "
        "of Southeast Asian Nations (ASEAN) in a bid to weaken sanctions imposed against it by the "
        "international community, the government said Thursday.",
        "The unification ministry said Pyongyang has stepped up efforts this year to strengthen "
        "bonds with non-aligned nations and members of ASEAN, as well as to mend fences with "
        "neighbors such as China.",
        "Traditionally, the North has maintained cordial ties with Vietnam, Laos and Cambodia, "
        "which all share similar political systems, and more recently it has increased "
        "cooperation with Indonesia.",
        "There have been 15 senior-level exchanges between North Korea and ASEAN countries in "
        "2013 alone.",
        '"The move can be seen as an effort aimed at thwarting concerted efforts to penalize the '
        'North (for developing weapons of mass destruction)," said a official who wanted to '
        "remain anonymous.",
        "The United Nations Security Council (UNSC) slapped wide-reaching sanctions on the North "
        "for conducting its third nuclear test on Feb. 12, despite warnings from the global "
        "community.",
        "He said that diplomatic efforts have become more pronounced in the second year of Kim "
        "Jong-un's hold on power.",
        "He pointed out that last year, the communist country was more focused on internal "
        "affairs directly linked to solidifying the young leader's power base.",
        "Kim, who is said to be around 30, took control of the country following the sudden "
        "death of his father Kim Jong-il in late 2011.",
        "The source, however, speculated that while Pyongyang wants to weaken the global "
        "sanctions brought against regime, the move is likely to fail.",
        '"ASEAN countries are pragmatic and while open to expanding diplomatic and economic '
        "exchanges with the North, they have consistently maintained the stance that Pyongyang "
        "should honor its denuclearization promises and respect resolutions passed by the "
        'UNSC," he said.',
        "The insider said all countries have moreover called on the North to push for change.",
        "ASEAN defense ministers in August formally called on the North to adhere to calls by "
        "the UN to desist from making nuclear weapons.",
        "Besides ASEAN, the ministry said the North has been hard at work trying to win the "
        "backing of its traditional supporters China and Russia, and expand ties with African "
        "and Latin American countries.",
        "The official, meanwhile, said that despite a media report hinting that the North Korean "
        "leader will visit China in December, Seoul does not think that such a development will "
        "occur.",
        '"In our view based on examination of overall conditions and the timing, that there is '
        'no real evidence indicating a trip will take place as reported," he said.',
        "(Yonhap News)",
    ]


# Inputs that made the old splitter backtrack for ever or run in quadratic time.
# Each runs in a child process (a backtracking regex cannot be interrupted in a thread).
@pytest.mark.parametrize(
    ("name", "expression"),
    [
        ("200 KB of dots", "'.' * 200_000"),
        ("200 KB of !?!?", "'!?' * 100_000"),
        ("120 KB of 'Mr. X Mr. Y'", "'Mr. X Mr. Y ' * 10_000"),
        ("initials without end", "'A. B. ' * 40_000"),
        ("dotted acronyms without end", "'U.S. ' * 40_000"),
        ("dots between words", "'a. ' * 60_000 + 'a.' * 60_000"),
        ("a run of closing quotes", "'.' + '\"' * 200_000 + ' A'"),
    ],
)
def test_hostile_paragraphs_split_without_backtracking(name: str, expression: str) -> None:
    out = finishes(
        f"""
        text = {expression}
        sentences = [s for p in split_paragraphs(text) for s in split_sentences(p)]
        print(len(sentences), max(map(len, sentences)))
        """
    )
    count, longest = map(int, out.split())
    assert count >= 1
    assert longest <= MAX_SENTENCE_CHARS, name


def test_a_long_single_line_is_split_in_linear_time() -> None:
    # 19 MiB on one line took 430 s (quadratic): 4 MB of the same shape must not take minutes.
    out = finishes(
        """
        text = "The envoy met officials in Seoul on Thursday. " * 90_000
        print(len(split_sentences(text)))
        """
    )
    assert int(out) == 90_000


def test_a_sentence_without_full_stops_is_cut_on_other_boundaries() -> None:
    # A 19 MB "sentence" made every question touching it take 30-53 s.
    clause = "the envoy met officials in Seoul, and talks went on; "
    sentences = split_sentences(clause * 20_000)
    assert all(len(s) <= MAX_SENTENCE_CHARS for s in sentences)
    assert len(sentences) >= len(clause) * 20_000 // MAX_SENTENCE_CHARS
    # Cut after a semicolon where there is one near the limit, never inside a word.
    assert all(s.endswith(";") for s in sentences[:-1])
    assert "".join(sentences).replace(" ", "") == (clause * 20_000).replace(" ", "")


def test_cap_length_prefers_commas_then_spaces_then_any_character() -> None:
    assert cap_length("word, " * 10, limit=20) == ["word, word, word,"] * 3 + ["word,"]
    assert cap_length("abcd " * 10, limit=12) == ["abcd abcd"] * 5
    assert cap_length("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert cap_length("short", limit=10) == ["short"]


def test_normal_long_sentences_are_kept_whole() -> None:
    sentence = "The ministry said " + "that the North, " * 50 + "wanted closer ties."
    assert len(sentence) < MAX_SENTENCE_CHARS
    assert split_sentences(sentence) == [sentence]
