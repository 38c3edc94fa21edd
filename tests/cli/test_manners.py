"""How the command line behaves at its edges: help, version, Ctrl-C, pipes, colour, width, bytes."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bot import __version__
from bot.cli.parser import EXAMPLES, build_parser
from tests.cli.conftest import CORPUS, Cli, FakeTerminal

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAw.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789"
COMMANDS = sorted(
    {name for action in build_parser()._subparsers._group_actions for name in action.choices}  # type: ignore[union-attr]
)


def test_version(cli: Cli) -> None:
    result = cli("--version")
    python = ".".join(map(str, sys.version_info[:3]))
    assert (result.code, result.stdout) == (0, f"qabot {__version__} (Python {python})\n")


def test_bare_qabot_prints_the_help_with_examples(cli: Cli) -> None:
    result = cli()
    assert result.code == 0
    assert result.stdout.startswith("usage: qabot [-h] [--version] COMMAND ...\n")
    assert (
        "examples:\n"
        '  qabot ask "why is NK courting ASEAN?"\n'
        "  qabot repl --corpus ~/articles\n"
        "  qabot doctor\n"
    ) in result.stdout
    for command in COMMANDS:
        assert f"\n    {command} " in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_ends_with_examples_whatever_the_environment_holds(
    cli: Cli, command: str, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_bytes(b"ANSWER_K=lots\nCORPUS_DIR=caf\xe9\n")
    result = cli(command, "--help", env={"COOLDOWN_SECONDS": "soon", "DISCORD_TOKEN": "nope"})
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    examples = EXAMPLES[command]
    assert 2 <= len(examples) <= 3
    expected_end = "examples:\n" + "".join(f"  {line}\n" for line in examples)
    assert result.stdout.endswith(expected_end)
    assert all(line.startswith("qabot ") or "qabot " in line for line in examples)


def test_a_bad_setting_still_fails_a_command_in_one_sentence(cli: Cli) -> None:
    result = cli("ask", "--corpus", str(CORPUS), "hi", env={"ANSWER_K": "lots"})
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == "qabot: ANSWER_K must be a whole number, not 'lots'.\n"


def test_ask_without_a_question_on_a_terminal_says_what_to_do(cli: Cli) -> None:
    result = cli("ask", "--corpus", str(CORPUS), terminal=True)
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (
        'qabot: ask needs a question: qabot ask "why is NK courting ASEAN?", or questions on '
        "standard input, one a line (qabot ask < questions.txt); qabot repl asks interactively.\n"
    )


def test_ctrl_c_while_answering_exits_130_with_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.answer.engine import Engine

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Engine, "answer", interrupted)
    result = cli("ask", "--corpus", str(CORPUS), "why is NK courting ASEAN?")
    assert (result.code, result.stdout, result.stderr) == (130, "", "\nqabot: interrupted\n")


def test_ctrl_c_while_loading_exits_130_with_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.cli.main

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bot.cli.main, "load_engine", interrupted)
    for args in (("ask", "hi"), ("repl",), ("info",), ("inspect",)):
        result = cli(*args, "--corpus", str(CORPUS))
        assert (result.code, result.stderr) == (130, "\nqabot: interrupted\n")


class ClosedPipe(io.StringIO):
    """Standard output whose reader went away after the first line."""

    def __init__(self) -> None:
        super().__init__()
        self.lines = 0

    def write(self, text: str) -> int:
        if self.lines >= 1:
            raise BrokenPipeError(32, "Broken pipe")
        self.lines += text.count("\n")
        return super().write(text)


def test_a_closed_pipe_stops_quietly(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = ClosedPipe()
    monkeypatch.setattr(sys, "stdout", pipe)
    questions = "why is NK courting ASEAN?\nhow old is Kim?\nwhen was the third nuclear test?\n"
    result = cli("ask", "--corpus", str(CORPUS), stdin=questions)
    assert (result.code, result.stderr) == (141, "")
    assert pipe.getvalue().startswith("Q: why is NK courting ASEAN?\n")


def _on_terminal(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None
) -> str:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    result = cli(*args, env=env)
    assert result.code == 0, result.stderr
    return terminal.getvalue()


@pytest.mark.parametrize(
    ("flag", "env", "colored"),
    [
        ("auto", {}, True),
        ("auto", {"NO_COLOR": "1"}, False),
        ("never", {}, False),
        ("always", {"NO_COLOR": "1"}, True),
    ],
)
def test_color_follows_no_color_and_the_flag(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, flag: str, env: dict[str, str], colored: bool
) -> None:
    question = ("ask", "--corpus", str(CORPUS), "--color", flag, "how old is Kim?")
    shown = _on_terminal(cli, monkeypatch, *question, env=env)
    assert ("\033[1mKim\033[0m" in shown) is colored
    assert ("\033" in shown) is colored


def test_color_is_never_written_to_a_pipe_unless_asked(cli: Cli) -> None:
    assert "\033" not in cli("ask", "--corpus", str(CORPUS), "how old is Kim?").stdout
    always = cli("ask", "--corpus", str(CORPUS), "--color", "always", "how old is Kim?")
    assert "\033[1mKim\033[0m" in always.stdout


def test_everything_wraps_to_a_narrow_terminal_with_citations_hanging(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"COLUMNS": "60"}
    shown = _on_terminal(
        cli,
        monkeypatch,
        "ask",
        "--corpus",
        str(CORPUS),
        "--k",
        "1",
        "--color",
        "never",
        "how old is Kim?",
        env=env,
    )
    assert shown == (
        "[7.1] Kim, who is said to be around 30, took control of the\n"
        "      country following the sudden death of his father Kim\n"
        "      Jong-il in late 2011.\n"
        "Source: N. Korea striving for closer ties with ASEAN to\n"
        "        weaken sanctions: gov't (Yonhap News)\n"
        "(more passages match: --k N shows up to N)\n"
    )
    listing = _on_terminal(cli, monkeypatch, "inspect", "--corpus", str(CORPUS), env=env)
    assert max(len(line) for line in listing.splitlines()) <= 60
    assert "\n      " in listing  # continuation lines hang under the text, not the citation


def test_one_count_of_articles_and_sentences_everywhere(cli: Cli, tmp_path: Path) -> None:
    repl = cli("repl", "--corpus", str(CORPUS), stdin=":sources\n:reload\n:quit\n")
    banner = repl.stdout.splitlines()[0]
    assert banner.startswith("Asking 1 article, 17 sentences.")
    assert "(17 sentences)" in repl.stdout  # :sources
    assert "Now 1 article, 17 sentences." in repl.stdout  # :reload
    info = cli("info", "--corpus", str(CORPUS))
    assert "articles      1 article, 17 sentences\n" in info.stdout
    inspect = cli("inspect", "--corpus", str(CORPUS))
    assert sum(line.startswith("[") for line in inspect.stdout.splitlines()) == 17


def test_broken_front_matter_costs_one_line(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text("A headline\n\nSanctions were imposed in 2013.\n")
    (folder / "broken.md").write_text(
        "---\ntitle: [unclosed\nsource: {a: b\n---\n# Heading\n\nBody text here.\n"
    )
    result = cli("ask", "--corpus", str(folder), "when were sanctions imposed?")
    assert result.code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qabot: skipped broken.md: ")


def test_stdin_is_read_as_bytes_and_json_is_always_utf8(cli: Cli) -> None:
    stdin = b"why is NK courting ASEAN?\n\xff\xfe broken \xc3\n" + "Pyongyang’s aim?\n".encode()
    result = cli("ask", "--corpus", str(CORPUS), "--json", stdin=stdin)
    assert result.code == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 3
    assert answers[0]["status"] == "answered"
    assert answers[1]["question"] == "\ufffd\ufffd broken \ufffd"
    assert answers[2]["question"] == "Pyongyang’s aim?"
    assert "Pyongyang’s" in result.stdout  # UTF-8 itself, not \u escapes


def test_control_characters_never_reach_the_terminal(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "story.txt").write_text(
        "Harbour \x1b]0;pwned\x07news\x1b[2J\n\nThe ferry\x1b[31m sails\x9b at noon\r from the pier.\n"
    )
    (folder / "empty\x1b[5m.txt").write_text("")
    for args in (("ask", "when does the ferry sail?"), ("inspect",), ("info",)):
        result = cli(*args, "--corpus", str(folder))
        assert result.code == 0, result.stderr
        for text in (result.stdout, result.stderr):
            assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 for c in text)
    # What the loader does not clean (a folder name in an error) the console does.
    missing = cli("ask", "--corpus", str(tmp_path / "no\x1b]0;pwned\x07pe\x1b[2J"), "hi")
    assert missing.stderr == f"qabot: corpus folder {tmp_path}/nope does not exist\n"


def test_clean_removes_every_kind_of_escape() -> None:
    from bot.cli.output import BOLD, RESET, clean

    hostile = "a\x1b[31mred\x1b[0m \x1b]0;title\x07x\x1b\\ \r\x00b\x9bc\u202ed\x1bM"
    assert clean(hostile) == "ared x bcd"
    assert clean(f"{BOLD}bold{RESET}\x1b[2J", keep_styles=True) == f"{BOLD}bold{RESET}"
    assert clean("tab\tand\nnewline stay") == "tab\tand\nnewline stay"


def test_a_token_in_a_path_is_never_printed(cli: Cli, tmp_path: Path) -> None:
    result = cli("ask", "--corpus", str(tmp_path / TOKEN), "hi")
    assert result.code == 2
    assert result.stderr == (f"qabot: corpus folder {tmp_path}/[token redacted] does not exist\n")
    setting = cli("ask", "hi", env={"CORPUS_DIR": f"/srv/{TOKEN}"})
    assert setting.code == 2
    assert TOKEN not in setting.stderr
    assert setting.stderr.startswith("qabot: CORPUS_DIR holds a value that looks like a bot token")
    index = cli("ask", "--corpus", str(CORPUS), "hi", env={"INDEX_DIR": TOKEN})
    assert index.code == 2 and not (tmp_path / TOKEN).exists()


def test_a_non_utf8_env_file_costs_one_line(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"ANSWER_K=1\n# caf\xe9 au lait\n")
    result = cli("ask", "--corpus", str(CORPUS), "how old is Kim?")
    assert result.code == 0
    assert result.stderr == (
        "qabot: warning: .env is not UTF-8 text (byte 0xe9 on line 2); the bad bytes were "
        "replaced: save the file as UTF-8.\n"
    )
    assert result.stdout.count("[") == 1  # ANSWER_K=1 was read


def test_log_lines_redact_a_token_whoever_logs_it(
    cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    cli("--version")  # main() installs the redaction for the whole process
    logging.getLogger("discord.client").warning("could not open %s", f"/srv/{TOKEN}/x")
    assert caplog.records[-1].getMessage() == "could not open /srv/[token redacted]/x"
