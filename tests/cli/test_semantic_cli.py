"""The command line with the packaged embedding model on, as every user runs it by default.

In-process through main(argv): the model is loaded once per test session (the CLI keeps the
model it loaded for the life of the process), not once per test.
"""

import json

from tests.cli.conftest import CORPUS, Cli


def test_ask_with_semantic_ranking(cli: Cli) -> None:
    result = cli(
        "ask",
        "--corpus",
        str(CORPUS),
        "--json",
        stdin="why is NK courting ASEAN?\nwhat is Pyongyang after with the Southeast Asian bloc?\nHow do I bake sourdough bread?\n",
        env={"SEMANTIC": "true"},
    )
    assert result.code == 0, result.stderr
    assert "semantic ranking is off" not in result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["status"] for a in answers] == ["answered", "answered", "not_found"]
    assert answers[0]["passages"][0]["citation"] in {"1.1", "0.1"}
    assert answers[1]["passages"][0]["citation"] in {"1.1", "0.1"}
    assert [a["ranking"] for a in answers[:2]] == ["semantic", "semantic"]
    info = cli("info", "--corpus", str(CORPUS), env={"SEMANTIC": "true"})
    assert (
        "ranking       semantic: word match fused with the embedding model all-MiniLM-L6-v2\n"
        in info.stdout
    )


def test_missing_model_falls_back_to_lexical_with_one_line(cli: Cli) -> None:
    result = cli(
        "ask",
        "--corpus",
        str(CORPUS),
        "when was the third nuclear test?",
        env={"SEMANTIC": "true", "EMBEDDING_MODEL": "/nonexistent/model"},
    )
    assert result.code == 0
    warnings = [line for line in result.stderr.splitlines() if line]
    assert len(warnings) == 1 and "semantic ranking is off" in warnings[0]
    assert result.stdout.startswith("[5.1]")
