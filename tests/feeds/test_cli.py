"""`qabot add`, `qabot feeds` and `qabot feeds --poll` through the real main(argv)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.feeds.conftest import ASEAN, QUAKE, serve_feed, serve_story
from tests.feeds.server import Route, Site

REPO = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for key in list(os.environ):
        if key.startswith(("FEED", "CORPUS_", "INDEX_", "DISCORD_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SEMANTIC", "false")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_add_saves_pages_and_says_why_one_failed(
    site: Site, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = serve_story(site, "/quake", "Quake strikes off Heuksan island", QUAKE)
    site.routes["/broken"] = Route(b"oops", status=500, content_type="text/plain")

    code = main(["add", "--corpus", str(corpus), good, site.url("/broken")])

    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out == [
        f"new 127-0-0-1/2013-11/quake-strikes-off-heuksan-island.md ({good})",
        f"skipped {site.url('/broken')}: HTTP 500",
        "1 new, 0 updated, 0 unchanged, 1 skipped",
    ]
    assert main(["ask", "--corpus", str(corpus), "Where did the earthquake strike?"]) == 0
    assert "Heuksan" in capsys.readouterr().out


def test_feeds_lists_each_feed_and_poll_runs_one_round(
    site: Site, corpus: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asean = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    feed = serve_feed(
        site,
        "/rss.xml",
        [
            {"title": "a", "link": asean, "guid": "a"},
            {"title": "p", "link": site.url("/private/x"), "guid": "p"},
        ],
    )
    site.routes["/atom.xml"] = Route(b"gone", status=410, content_type="text/plain")
    (corpus / "feeds.toml").write_text(
        f'[[feed]]\nurl = "{site.url("/atom.xml")}"\nevery_minutes = 30\n', encoding="utf-8"
    )
    monkeypatch.setenv("FEEDS", feed)

    assert main(["feeds", "--corpus", str(corpus)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{feed} (every 15 min): last poll never, never polled",
        f"{site.url('/atom.xml')} (every 30 min): last poll never, never polled",
    ]

    assert main(["feeds", "--poll", "--corpus", str(corpus)]) == 1
    polled = capsys.readouterr().out.splitlines()
    assert polled == [
        f"{feed}: 1 new, 0 updated, 0 unchanged, 1 skipped",
        f"  new 127-0-0-1/2013-11/n-korea-courts-asean.md ({asean})",
        f"  skipped {site.url('/private/x')}: robots.txt disallows it",
        f"{site.url('/atom.xml')}: failed: HTTP 410",
        "2 feed(s): 1 new, 0 updated, 0 unchanged, 1 skipped; 1 feed(s) failed",
    ]

    assert main(["feeds", "--corpus", str(corpus)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith(f"{feed} (every 15 min): last poll 20")
    assert listed[0].endswith(", ok; 1 new, 0 updated, 0 unchanged, 1 skipped")
    assert listed[1] == f"  skipped {site.url('/private/x')}: robots.txt disallows it"
    assert re.search(r"failed: HTTP 410 \(1 failed in a row; next try \d\d:\d\d UTC\)$", listed[2])

    # Run again at once (cron): nothing is due, nothing is fetched.
    fetched = len(site.requests)
    assert main(["feeds", "--poll", "--corpus", str(corpus)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{feed}: not due",
        f"{site.url('/atom.xml')}: not due",
        "2 feed(s): 0 new, 0 updated, 0 unchanged, 0 skipped",
    ]
    assert len(site.requests) == fetched


def test_a_bad_feeds_setting_or_file_is_one_clear_line(
    corpus: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDS", "ftp://example.org/rss")
    assert main(["feeds", "--corpus", str(corpus)]) == 2
    assert capsys.readouterr().err == (
        "qabot: FEEDS must be comma-separated http:// or https:// feed addresses; "
        "'ftp://example.org/rss' is not one.\n"
    )
    monkeypatch.delenv("FEEDS")
    (corpus / "feeds.toml").write_text("[[feed]]\nurl = 'http://127.0.0.1/x'\nevery_minutes = 0\n")
    assert main(["feeds", "--corpus", str(corpus)]) == 2
    assert "every_minutes must be at least 1, not 0." in capsys.readouterr().err


def test_add_runs_as_a_program(site: Site, corpus: Path, tmp_path: Path) -> None:
    url = serve_story(site, "/quake", "Quake strikes off Heuksan island", QUAKE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "add", "--corpus", str(corpus), url],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1 new, 0 updated, 0 unchanged, 0 skipped"


def test_listing_feeds_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDS", "http://127.0.0.1:9/rss.xml")
    missing = tmp_path / "no-such-folder"
    assert main(["feeds", "--corpus", str(missing)]) == 0
    assert capsys.readouterr().out == (
        "http://127.0.0.1:9/rss.xml (every 15 min): last poll never, never polled\n"
    )
    assert not missing.exists()


def test_answers_carry_the_article_date_and_link(
    site: Site, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quake = serve_story(
        site, "/quake", "Quake strikes off Heuksan island", QUAKE, date="2013-12-01"
    )
    assert main(["add", "--corpus", str(corpus), quake]) == 0
    capsys.readouterr()

    assert main(["ask", "--corpus", str(corpus), "Where did the earthquake strike?"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the source line may wrap
    assert out.endswith(
        f"Source: Quake strikes off Heuksan island (Example News, 2013-12-01) <{quake}>"
    )

    assert main(["ask", "--json", "--corpus", str(corpus), "Where did the earthquake strike?"]) == 0
    [passage] = json.loads(capsys.readouterr().out)["passages"][:1]
    assert (passage["date"], passage["url"]) == ("2013-12-01", quake)


def test_polling_without_feeds_says_how_to_add_some(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["feeds", "--poll", "--corpus", str(corpus)]) == 0
    assert capsys.readouterr().out == (
        f"No feeds: set FEEDS=<url>,<url> in .env or list them in {corpus / 'feeds.toml'}.\n"
    )
