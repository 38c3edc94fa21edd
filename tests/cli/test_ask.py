"""`qabot ask`: one question, JSON, and the standard-input batch mode."""

import json
from pathlib import Path

from tests.cli.conftest import CORPUS, Cli, Run


def test_ask_prints_cited_passages_through_the_real_entry_point(qabot: Run) -> None:
    result = qabot("ask", "--corpus", str(CORPUS), "why is NK courting ASEAN?")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # Word match alone never sees "courting" in the article: the answer says it is unsure.
    assert result.stdout == (
        "Not sure the article answers this; closest passages:\n"
        "[1.1] North Korea is stepping up efforts to forge closer ties with members of the\n"
        "      Association of Southeast Asian Nations (ASEAN) in a bid to weaken sanctions\n"
        "      imposed against it by the international community, the government said Thursday.\n"
        "[3.1-3.2] Traditionally, the North has maintained cordial ties with Vietnam, Laos and\n"
        "          Cambodia, which all share similar political systems, and more recently it has\n"
        "          increased cooperation with Indonesia. There have been 15 senior-level\n"
        "          exchanges between North Korea and ASEAN countries in 2013 alone.\n"
        '[9.1-9.2] "ASEAN countries are pragmatic and while open to expanding diplomatic and\n'
        "          economic exchanges with the North, they have consistently maintained the\n"
        "          stance that Pyongyang should honor its denuclearization promises and respect\n"
        '          resolutions passed by the UNSC," he said. The insider said all countries have\n'
        "          moreover called on the North to push for change.\n"
        "Source: N. Korea striving for closer ties with ASEAN to weaken sanctions: gov't (Yonhap\n"
        "        News)\n"
        "(more passages match: --k N shows up to N)\n"
    )


def test_ask_json_shape(cli: Cli) -> None:
    result = cli(
        "ask", "--corpus", str(CORPUS), "--json", "--k", "2", "when was the third nuclear test?"
    )
    assert result.code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["question"] == "when was the third nuclear test?"
    assert payload["answered"] is True
    first = payload["passages"][0]
    assert set(first) >= {"citation", "text", "article", "source", "score", "context"}
    assert first["citation"] == "5.1"
    assert "Feb. 12" in first["text"]
    assert first["source"] == "Yonhap News"
    assert first["context"]["after"].startswith("He said that diplomatic efforts")
    assert len(payload["passages"]) <= 2


def test_ask_not_found_is_plain(cli: Cli) -> None:
    result = cli("ask", "--corpus", str(CORPUS), "--json", "How do I bake sourdough bread?")
    payload = json.loads(result.stdout)
    assert payload["answered"] is False
    assert payload["passages"] == []
    assert payload["message"].startswith("The article doesn't say.")


def test_stdin_batch_answers_every_line_in_order(cli: Cli) -> None:
    questions = [
        "why is NK courting ASEAN?",
        "",
        "hi",
        "Who won the 2014 World Cup?",
        "x" * 10_000,
        "how old is Kim?",
    ]
    result = cli("ask", "--corpus", str(CORPUS), "--json", stdin="\n".join(questions) + "\n")
    assert result.code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(questions)
    assert [line["status"] for line in lines] == [
        "answered",
        "usage",
        "usage",
        "not_found",
        "usage",
        "answered",
    ]
    assert lines[5]["passages"][0]["citation"] == "7.1"


def test_stdin_batch_text_mode(cli: Cli) -> None:
    result = cli(
        "ask",
        "--corpus",
        str(CORPUS),
        "--k",
        "1",
        stdin="how old is Kim?\nwhen did Kim Jong-il die?\n",
    )
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].startswith("Q: how old is Kim?\n[7.1] Kim, who is said to be around 30")


def test_bad_corpus_folders_fail_in_one_line(cli: Cli, tmp_path: Path) -> None:
    missing = cli("ask", "--corpus", str(tmp_path / "nope"), "anything")
    assert missing.code == 2
    assert missing.stderr.strip() == f"qabot: corpus folder {tmp_path / 'nope'} does not exist"
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text("A headline\n\nSanctions were imposed in 2013.\n")
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00junk")
    result = cli("ask", "--corpus", str(folder), "when were sanctions imposed?")
    assert result.code == 0
    assert result.stderr.strip() == "qabot: skipped bad.txt: the file looks binary, not text"
    assert "[1.1] Sanctions were imposed in 2013." in result.stdout


def test_broken_alias_file_is_reported_and_the_corpus_still_loads(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "story.txt").write_text("A headline\n\nThe North held talks.\n")
    (folder / "aliases.toml").write_text('[aliases]\n"North Korea" = ["NK"\n')
    result = cli("ask", "--corpus", str(folder), "talks")
    assert result.code == 0
    assert "aliases.toml, line 2: Unclosed array" in result.stderr
    assert "[1.1] The North held talks." in result.stdout


def test_bad_setting_fails_fast_with_a_sentence(cli: Cli) -> None:
    result = cli("ask", "--corpus", str(CORPUS), "hi", env={"ANSWER_K": "lots"})
    assert result.code == 2
    assert result.stderr.strip() == "qabot: ANSWER_K must be a whole number, not 'lots'."


def test_inspect_lists_every_sentence(cli: Cli) -> None:
    result = cli("inspect", "--corpus", str(CORPUS))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# yonhap-nk-asean: N. Korea striving")
    assert (
        lines[1] == "[0.1] N. Korea striving for closer ties with ASEAN to weaken sanctions: gov't"
    )
    assert lines[-1].startswith('[13.1] "In our view based on examination')
    assert len(lines) == 1 + 17


def test_eval_reports_metrics(cli: Cli, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "question": "when was the third nuclear test?",
                "gold_sentences": [
                    "The United Nations Security Council (UNSC) slapped wide-reaching sanctions on "
                    "the North for conducting its third nuclear test on Feb. 12, despite warnings "
                    "from the global community."
                ],
            }
        )
        + "\n"
        + json.dumps({"question": "Who won the 2014 World Cup?", "gold_sentences": []})
        + "\n"
    )
    result = cli("eval", str(questions), "--corpus", str(CORPUS))
    assert result.code == 0, result.stderr
    assert "Hit@1 1.000   Hit@3 1.000   MRR@10 1.000   wrongly declined 0/1" in result.stdout
    assert "unanswerable: declined 1/1 (100.0%)" in result.stdout
