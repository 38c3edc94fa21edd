"""Alias files and acronyms learned from the text."""

from pathlib import Path

import pytest

from bot.errors import AliasFileError
from bot.index.aliases import build_aliases, defined_acronyms, load_alias_file


def test_acronyms_defined_in_the_text_are_learned() -> None:
    groups = defined_acronyms(
        [
            "members of the Association of Southeast Asian Nations (ASEAN) met.",
            "The United Nations Security Council (UNSC) slapped sanctions.",
            "He said so. (Yonhap News)",
            "in a report (PDF) today",
        ]
    )
    assert [g.names for g in groups] == [
        ("Association of Southeast Asian Nations", "ASEAN"),
        ("United Nations Security Council", "UNSC"),
    ]


def test_alias_phrases_are_found_longest_first() -> None:
    aliases = build_aliases(Path(__file__).parents[2] / "corpus", [])
    found = aliases.find(["the", "north", "korean", "leader"])
    assert found[0][:2] == (0, 2)
    assert found[0][2].canonical == "North Korea"


def test_broken_alias_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "aliases.toml"
    path.write_text('[aliases]\n"North Korea" = ["NK"\n')
    with pytest.raises(AliasFileError, match=r"aliases.toml, line 2: Unclosed array"):
        load_alias_file(path)
    path.write_text('[aliases]\n"A" = ["x"]\n"North Korea" = 3\n')
    with pytest.raises(AliasFileError, match=r"aliases.toml, line 3: the value of 'North Korea'"):
        load_alias_file(path)
