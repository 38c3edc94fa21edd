"""The sentence splitter on the seed article and on the cases that trip splitters."""

from pathlib import Path

import pytest

from bot.ingest.splitting import split_paragraphs, split_sentences

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
