"""Questions in anyone's words, by word match alone: typos, numbers and dates written otherwise."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import CORPUS, Cli


@pytest.mark.parametrize(
    ("question", "citation"),
    [
        ("who are north koreas tradtional suporters", "11.1"),  # "traditional supporters"
        ("is kim gonna vist china", "12.1"),  # misspelt: "visit"
        ("what did the unifcation minstry say", "2.1"),  # misspelt: "unification ministry"
        ("is kim in his thirties", "7.1"),  # "around 30"
        ("what happened in february", "5.1"),  # "on Feb. 12"
    ],
)
def test_the_sentence_meant_comes_first(cli: Cli, question: str, citation: str) -> None:
    result = cli("ask", "--corpus", str(CORPUS), "--lexical", "--json", question)
    assert result.code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["answered"] is True
    assert payload["passages"][0]["citation"] == citation
