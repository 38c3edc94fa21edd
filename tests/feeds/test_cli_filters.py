"""--article/--source/--since/--until on `qabot ask` and `qabot repl`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.feeds.test_cli import clean_env  # noqa: F401  (autouse: no developer .env)


def write(folder: Path, name: str, date: str, source: str, body: str) -> None:
    (folder / name).write_text(
        f'---\ntitle: "{name}"\nsource: "{source}"\nurl: "https://{source.lower()}.example/{name}"\n'
        f'date: "{date}"\n---\n\n{body}\n',
        encoding="utf-8",
    )


@pytest.fixture
def dated(tmp_path: Path) -> Path:
    folder = tmp_path / "dated"
    folder.mkdir()
    write(
        folder,
        "talks-2012.md",
        "2012-05-10",
        "Yonhap",
        "The six-party talks on the nuclear programme stalled in May, diplomats said.",
    )
    write(
        folder,
        "talks-2013.md",
        "2013-11-28",
        "Reuters",
        "The six-party talks on the nuclear programme resumed in Beijing, diplomats said.",
    )
    return folder


def cited(capsys: pytest.CaptureFixture[str]) -> set[str]:
    return {p["article_key"] for p in json.loads(capsys.readouterr().out)["passages"]}


def test_ask_limits_the_articles_cited(dated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    question = "What happened to the six-party talks?"
    base = ["ask", "--json", "--corpus", str(dated), question]
    assert main(base) == 0
    assert cited(capsys) == {"talks-2012", "talks-2013"}
    assert main([*base, "--source", "reuters"]) == 0
    assert cited(capsys) == {"talks-2013"}
    assert main([*base, "--until", "2012"]) == 0
    assert cited(capsys) == {"talks-2012"}
    assert main([*base, "--since", "2013-01", "--until", "2013-12-31"]) == 0
    assert cited(capsys) == {"talks-2013"}
    assert main([*base, "--article", "talks-2012.md"]) == 0
    assert cited(capsys) == {"talks-2012"}
    assert main([*base, "--since", "2014"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert not out["answered"]
    assert out["message"] == "No article matches: there are no articles dated 2014-01-01 or later."


def test_a_bad_date_is_one_line(dated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--corpus", str(dated), "--since", "last tuesday", "talks?"]) == 2
    assert capsys.readouterr().err == (
        "qabot: --since must be a date such as 2013-11-28, 2013-11 or 2013, or today, "
        "yesterday or 7d, not 'last tuesday'.\n"
    )


def test_repl_answers_within_the_filter(
    dated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "sys.stdin", __import__("io").StringIO("What happened to the six-party talks?\n")
    )
    assert main(["repl", "--corpus", str(dated), "--source", "Yonhap"]) == 0
    out = capsys.readouterr().out
    assert "stalled in May" in out and "Beijing" not in out
