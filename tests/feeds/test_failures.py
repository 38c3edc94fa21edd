"""Every failure is reported once with its URL and why, and nothing saved before is lost."""

from __future__ import annotations

import re
from pathlib import Path

from bot.feeds.config import FeedSpec
from bot.feeds.reader import Reader
from bot.feeds.report import Outcome
from tests.feeds.conftest import ASEAN, QUAKE, serve_feed, serve_story
from tests.feeds.pages import paywall_page
from tests.feeds.server import Route, Site


def test_each_bad_page_is_skipped_with_its_reason(site: Site, reader: Reader, corpus: Path) -> None:
    serve_story(site, "/good", "Quake strikes off Heuksan island", QUAKE)
    site.routes["/paywall"] = Route(paywall_page("Inside the ministry's ASEAN plan").encode())
    site.routes["/huge"] = Route(stream_bytes=50 * 2**20, declare_length=False)
    site.routes["/huge-declared"] = Route(stream_bytes=50 * 2**20)
    site.routes["/slow"] = Route(b"<html><p>late</p></html>", delay=30)
    site.routes["/broken"] = Route(b"oops", status=500, content_type="text/plain")
    site.routes["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"})
    site.routes["/loop-b"] = Route(status=302, headers={"Location": "/loop-a"})
    site.routes["/photo.png"] = Route(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
    site.routes["/private/memo"] = Route(b"<html><p>secret</p></html>")
    site.routes["/gone"] = Route(b"gone", status=404, content_type="text/plain")
    site.routes["/short"] = Route(status=302, headers={"Location": "/private/memo"})
    paths = [
        "/good",
        "/paywall",
        "/huge",
        "/huge-declared",
        "/slow",
        "/broken",
        "/loop-a",
        "/photo.png",
        "/private/memo",
        "/gone",
        "/short",
    ]
    feed = serve_feed(
        site, "/rss.xml", [{"title": p, "link": site.url(p), "guid": p} for p in paths]
    )

    report = reader.poll([FeedSpec(feed, 900)])

    reasons = {p.url.removeprefix(site.base): (p.outcome, p.reason) for p in report.all_pages}
    assert reasons["/good"][0] is Outcome.NEW
    assert reasons["/paywall"][0] is Outcome.SKIPPED
    assert re.fullmatch(
        r"no main text found \(only \d+ characters of text: a paywall, a teaser or a list\?\)",
        reasons["/paywall"][1],
    )
    assert reasons["/huge"] == (Outcome.SKIPPED, "is larger than the 2 MiB limit")
    assert reasons["/huge-declared"] == (Outcome.SKIPPED, "is larger than the 2 MiB limit (50 MiB)")
    assert reasons["/slow"] == (Outcome.SKIPPED, "timed out after 6 s")
    assert reasons["/broken"] == (Outcome.SKIPPED, "HTTP 500")
    assert reasons["/loop-a"] == (Outcome.SKIPPED, "redirects in a loop")
    assert reasons["/photo.png"] == (Outcome.SKIPPED, "not HTML (image/png)")
    assert reasons["/private/memo"] == (Outcome.SKIPPED, "robots.txt disallows it")
    assert reasons["/gone"] == (Outcome.SKIPPED, "HTTP 404")
    assert reasons["/short"] == (
        Outcome.SKIPPED,
        f"redirects to {site.url('/private/memo')}, and robots.txt disallows it",
    )
    assert site.hits("/private/memo") == []  # never fetched
    # Reported once each, with the URL.
    assert sorted(report.failures) == sorted(
        f"{site.url(p)}: {reasons[p][1]}" for p in paths if p != "/good"
    )
    assert [p.name for p in corpus.rglob("*.md")] == ["quake-strikes-off-heuksan-island.md"]


def test_transient_failures_are_retried_and_permanent_ones_wait_for_a_change(
    site: Site, reader: Reader
) -> None:
    site.routes["/broken"] = Route(b"oops", status=503, content_type="text/plain")
    site.routes["/photo.png"] = Route(b"\x89PNG", content_type="image/png")
    feed = serve_feed(
        site,
        "/rss.xml",
        [
            {"title": "b", "link": site.url("/broken"), "guid": "b"},
            {"title": "p", "link": site.url("/photo.png"), "guid": "p"},
        ],
    )

    reader.poll([FeedSpec(feed, 900)])
    serve_story(site, "/broken", "Quake strikes off Heuksan island", QUAKE)
    second = reader.poll([FeedSpec(feed, 900)], force=True)

    outcomes = {p.url.removeprefix(site.base): p.outcome for p in second.all_pages}
    assert outcomes == {"/broken": Outcome.NEW, "/photo.png": Outcome.UNCHANGED}
    assert len(site.hits("/photo.png")) == 1
    # A page to retry makes the next feed request unconditional (a 304 would hide it)...
    assert "if-none-match" not in site.hits("/rss.xml")[1].headers
    # ...and once every page is settled, requests are conditional again.
    third = reader.poll([FeedSpec(feed, 900)], force=True)
    assert site.hits("/rss.xml")[2].headers["if-none-match"] == '"v1"'
    assert third.feeds[0].status == "not modified"


def wait_of(reader: Reader, feed: str) -> float:
    row = reader.state.feed(feed)
    assert row.last_poll is not None
    return round(row.next_poll - row.last_poll)


def test_a_failing_feed_backs_off_and_keeps_its_articles(
    site: Site, reader: Reader, corpus: Path
) -> None:
    story = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    feed = serve_feed(site, "/rss.xml", [{"title": "a", "link": story, "guid": "a"}])
    spec = FeedSpec(feed, 60)
    reader.poll([spec])
    saved = sorted(corpus.rglob("*.md"))
    before = [p.read_bytes() for p in saved]

    site.routes["/rss.xml"] = Route(b"down", status=500, content_type="text/plain")
    first = reader.poll([spec], force=True)
    waits = [wait_of(reader, feed)]
    reader.poll([spec], force=True)
    waits.append(wait_of(reader, feed))
    reader.poll([spec], force=True)
    waits.append(wait_of(reader, feed))

    assert first.feeds[0].failure == "HTTP 500"
    assert first.failures == [f"{feed}: HTTP 500"]
    # Exponential back-off: about 60, 120 and 240 seconds.
    assert waits == [60, 120, 240]
    assert 0 < reader.due(spec) <= 240
    assert reader.poll([spec]).feeds[0].status == "not due"
    assert sorted(corpus.rglob("*.md")) == saved
    assert [p.read_bytes() for p in saved] == before

    site.routes["/rss.xml"] = Route(b"<html><body>maintenance</body></html>")
    not_feed = reader.poll([spec], force=True)
    assert not_feed.feeds[0].failure is not None
    assert not_feed.feeds[0].failure.startswith("not an RSS or Atom feed")


def test_a_feed_that_redirects_within_limits_is_read(site: Site, reader: Reader) -> None:
    story = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    serve_feed(site, "/new-rss.xml", [{"title": "a", "link": story, "guid": "a"}])
    site.routes["/rss"] = Route(status=301, headers={"Location": "/new-rss.xml"})

    report = reader.poll([FeedSpec(site.url("/rss"), 900)])

    assert [p.outcome for p in report.all_pages] == [Outcome.NEW]


def test_added_urls_report_bad_addresses(reader: Reader) -> None:
    report = reader.add(["ftp://example.org/file", "not a url"])
    assert [(p.outcome, p.reason) for p in report.pages] == [
        (Outcome.SKIPPED, "is not an http:// or https:// address"),
        (Outcome.SKIPPED, "is not an http:// or https:// address"),
    ]


def test_a_busy_feed_waits_as_long_as_the_server_asks(site: Site, reader: Reader) -> None:
    site.routes["/rss.xml"] = Route(
        b"busy", status=503, content_type="text/plain", headers={"Retry-After": "600"}
    )
    feed = site.url("/rss.xml")

    report = reader.poll([FeedSpec(feed, 60)])

    assert report.failures == [f"{feed}: HTTP 503"]
    assert wait_of(reader, feed) == 600
