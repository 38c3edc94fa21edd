"""The poll loop: a question about a new entry is answered within one poll interval."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.feeds.config import FeedSpec
from bot.feeds.report import RoundReport
from bot.feeds.service import poll_forever, poll_once
from bot.live import LiveEngine
from bot.settings import Settings
from tests.feeds.conftest import ASEAN, QUAKE, serve_feed, serve_story
from tests.feeds.server import Site

INTERVAL = 1.0  # seconds; the loop is told this through the spec, as feeds.toml would


async def until(condition: object, timeout: float = 60.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        await asyncio.sleep(0.05)


async def test_a_new_entry_is_answered_after_the_next_poll(
    site: Site, corpus: Path, tmp_path: Path
) -> None:
    asean = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    feed = serve_feed(site, "/rss.xml", [{"title": "a", "link": asean, "guid": "a"}])
    specs = [FeedSpec(feed, INTERVAL)]
    poll_once(corpus, Settings(), specs=specs)
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    question = "Where did the earthquake strike?"
    assert not live.answer(question).answered
    rounds: list[RoundReport] = []

    async def reload_after(report: RoundReport) -> None:
        rounds.append(report)
        if report.changed:
            await live.areload()

    stop = asyncio.Event()
    loop = asyncio.create_task(
        poll_forever(corpus, Settings(), on_round=reload_after, stop=stop, specs=specs)
    )
    try:
        await until(lambda: len(rounds) >= 1)
        quake = serve_story(site, "/quake", "Quake strikes off Heuksan island", QUAKE)
        serve_feed(
            site,
            "/rss.xml",
            [
                {"title": "q", "link": quake, "guid": "q"},
                {"title": "a", "link": asean, "guid": "a"},
            ],
            etag='"v2"',
        )
        published = len(rounds)
        await until(lambda: live.answer(question).answered)
        # Within one interval: the round after the one running when it was published.
        assert len(rounds) <= published + 2
        answer = live.answer(question)
        assert "Heuksan" in answer.passages[0].text
    finally:
        stop.set()
        await asyncio.wait_for(loop, 30)
    assert len(site.hits("/asean")) == 1  # unchanged entries are not fetched again


async def test_the_loop_survives_a_failing_listener_and_stops_when_asked(
    site: Site, corpus: Path
) -> None:
    feed = serve_feed(site, "/rss.xml", [])
    calls: list[int] = []

    def broken(report: RoundReport) -> None:
        calls.append(1)
        raise RuntimeError("listener bug")

    stop = asyncio.Event()
    task = asyncio.create_task(
        poll_forever(corpus, Settings(), on_round=broken, stop=stop, specs=[FeedSpec(feed, 0.2)])
    )
    await until(lambda: len(calls) >= 2)
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_stopping_mid_round_keeps_what_was_saved_and_reads_the_rest_later(
    site: Site, corpus: Path
) -> None:
    from tests.feeds.server import Route

    asean = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    site.routes["/slow"] = Route(b"<html><p>late</p></html>", delay=30)
    quake = serve_story(site, "/quake", "Quake strikes off Heuksan island", QUAKE)
    feed = serve_feed(
        site,
        "/rss.xml",
        [
            {"title": "a", "link": asean, "guid": "a"},
            {"title": "s", "link": site.url("/slow"), "guid": "s"},
            {"title": "q", "link": quake, "guid": "q"},
        ],
    )
    settings = Settings(feed_timeout_seconds=6.0)
    stop = asyncio.Event()
    task = asyncio.create_task(
        poll_forever(corpus, settings, stop=stop, specs=[FeedSpec(feed, 600)])
    )
    await until(lambda: "/slow" in site.arrivals)
    stop.set()
    await asyncio.wait_for(task, 30)

    assert [p.name for p in corpus.rglob("*.md")] == ["n-korea-courts-asean.md"]
    assert site.hits("/quake") == []
    later = poll_once(corpus, settings, specs=[FeedSpec(feed, 600)])
    outcomes = {p.url: p.outcome.value for p in later.all_pages}
    assert outcomes == {asean: "unchanged", site.url("/slow"): "skipped", quake: "new"}
