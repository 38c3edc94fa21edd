"""Through the command line: capitals, peoples and party names find what the articles say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Cli

ARTICLE = """Ukraine looks west

Ukraine wants closer links with the European Union, its president said.

Liberal Democrat chairman Matthew Taylor called the asylum plan unfair.

Mobile phones are cheaper in Germany than fixed lines, a survey found.

The summit was held in Brussels on Monday.
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "ukraine.txt").write_text(ARTICLE, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("question", "citation"),
    [
        ("what does Kiev want", "1.1"),  # the capital for the country
        ("what did the lib dems say", "2.1"),  # a party's short name
        ("are mobiles cheaper for Germans", "3.1"),  # the people for the country
    ],
)
def test_the_sentence_meant_comes_first(
    cli: Cli, corpus: Path, question: str, citation: str
) -> None:
    result = cli("ask", "--corpus", str(corpus), "--lexical", "--json", question)
    assert result.code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["answered"] is True
    assert payload["passages"][0]["citation"] == citation
