"""Conditional requests, changed entries and entries that leave the feed."""

from __future__ import annotations

from pathlib import Path

from bot.feeds.config import FeedSpec
from bot.feeds.reader import Reader, ReaderOptions
from bot.feeds.report import Outcome
from bot.live import LiveEngine
from tests.feeds.conftest import ASEAN, QUAKE, RICE, TEST_LIMITS, serve_feed, serve_story
from tests.feeds.server import Site


def stamps(corpus: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in corpus.rglob("*.md")}


def test_a_304_answer_touches_nothing(site: Site, reader: Reader, corpus: Path) -> None:
    story = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    feed = serve_feed(site, "/rss.xml", [{"title": "a", "link": story, "guid": "a"}], etag='"abc"')
    site.routes["/rss.xml"].last_modified = "Thu, 28 Nov 2013 09:30:00 GMT"
    reader.poll([FeedSpec(feed, 900)])
    before = stamps(corpus)
    state_before = reader.state.feed(feed)

    report = reader.poll([FeedSpec(feed, 900)], force=True)

    request = site.hits("/rss.xml")[-1]
    assert request.headers["if-none-match"] == '"abc"'
    assert request.headers["if-modified-since"] == "Thu, 28 Nov 2013 09:30:00 GMT"
    assert request.status == 304
    assert report.feeds[0].status == "not modified" and report.all_pages == []
    assert len(site.hits("/asean")) == 1
    assert stamps(corpus) == before
    row = reader.state.feed(feed)
    assert (row.etag, row.last_modified) == (state_before.etag, state_before.last_modified)


def test_a_changed_entry_replaces_its_file_and_reindexes_only_itself(
    site: Site, reader: Reader, corpus: Path, tmp_path: Path
) -> None:
    items = [
        {
            "title": "ASEAN",
            "link": serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN),
            "guid": "a",
        },
        {
            "title": "Rice",
            "link": serve_story(site, "/rice", "Rice aid for the Philippines", RICE),
            "guid": "r",
        },
        {
            "title": "Quake",
            "link": serve_story(site, "/quake", "Quake strikes off Heuksan", QUAKE),
            "guid": "q",
        },
    ]
    feed = serve_feed(site, "/rss.xml", items, etag='"v1"')
    reader.poll([FeedSpec(feed, 900)])
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    assert "50,000 tons" in live.answer("How much rice will South Korea send?").passages[0].text
    before = stamps(corpus)

    corrected = [RICE[0].replace("50,000 tons", "70,000 tons"), *RICE[1:]]
    serve_story(site, "/rice", "Rice aid for the Philippines", corrected)
    items[1] = {**items[1], "description": "Corrects the amount of rice."}
    serve_feed(site, "/rss.xml", items, etag='"v2"')
    report = reader.poll([FeedSpec(feed, 900)], force=True)

    outcomes = [p.outcome for p in report.all_pages]
    assert outcomes == [Outcome.UNCHANGED, Outcome.UPDATED, Outcome.UNCHANGED]
    rice_path = str(corpus / report.all_pages[1].path)  # type: ignore[operator]
    after = stamps(corpus)
    assert after.keys() == before.keys()  # replaced in place, no second copy
    assert {p for p in after if after[p] != before[p]} == {rice_path}
    assert len(site.hits("/asean")) == 1 and len(site.hits("/quake")) == 1

    result = live.reload()
    assert result.changes.changed == [report.all_pages[1].path]
    assert result.changes.added == [] and result.changes.removed == []
    assert "70,000 tons" in live.answer("How much rice will South Korea send?").passages[0].text


def test_an_entry_gone_from_the_feed_stays_unless_keep_days_expires_it(
    site: Site, reader: Reader, corpus: Path
) -> None:
    asean = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    quake = serve_story(site, "/quake", "Quake strikes off Heuksan", QUAKE)
    feed = serve_feed(
        site,
        "/rss.xml",
        [
            {"title": "a", "link": asean, "guid": "a"},
            {"title": "q", "link": quake, "guid": "q"},
        ],
    )
    reader.poll([FeedSpec(feed, 900)])
    serve_feed(site, "/rss.xml", [{"title": "q", "link": quake, "guid": "q"}], etag='"v2"')

    kept = reader.poll([FeedSpec(feed, 900)], force=True)
    assert len(list(corpus.rglob("*.md"))) == 2 and kept.feeds[0].expired == []

    expiring = Reader(corpus, ReaderOptions(limits=TEST_LIMITS, keep_days=0.0))
    try:
        serve_feed(site, "/rss.xml", [{"title": "q", "link": quake, "guid": "q"}], etag='"v3"')
        report = expiring.poll([FeedSpec(feed, 900)], force=True)
    finally:
        expiring.close()
    assert [Path(p).name for p in report.feeds[0].expired] == ["n-korea-courts-asean.md"]
    assert [p.name for p in corpus.rglob("*.md")] == ["quake-strikes-off-heuksan.md"]
    assert "expired" in "\n".join(report.lines())


def test_a_long_feed_is_read_over_several_rounds(site: Site, reader: Reader, corpus: Path) -> None:
    stories = [("N. Korea courts ASEAN", ASEAN), ("Rice aid", RICE), ("Quake", QUAKE)]
    items = [
        {"title": t, "link": serve_story(site, f"/s{i}", t, body), "guid": f"g{i}"}
        for i, (t, body) in enumerate(stories)
    ]
    feed = serve_feed(site, "/rss.xml", items, etag='"same"')
    reader.max_pages = 2

    first = reader.poll([FeedSpec(feed, 900)])
    second = reader.poll([FeedSpec(feed, 900)], force=True)

    assert first.feeds[0].status == "ok, 1 new entries left for the next round"
    assert [p.outcome for p in first.all_pages] == [Outcome.NEW, Outcome.NEW]
    # The next request is not conditional, so the entry left over is not hidden by a 304.
    assert "if-none-match" not in site.hits("/rss.xml")[-1].headers
    assert [p.outcome for p in second.all_pages] == [
        Outcome.UNCHANGED,
        Outcome.UNCHANGED,
        Outcome.NEW,
    ]
    assert second.feeds[0].status == "ok"
    assert len(list(corpus.rglob("*.md"))) == 3


def test_a_corrected_headline_alone_updates_the_file(
    site: Site, reader: Reader, corpus: Path
) -> None:
    url = serve_story(site, "/quake", "Quake strikes off Heuksam island", QUAKE)
    first = reader.add([url])
    serve_story(site, "/quake", "Quake strikes off Heuksan island", QUAKE)

    second = reader.add([url])

    assert [p.outcome for p in second.pages] == [Outcome.UPDATED]
    assert second.pages[0].path == first.pages[0].path
    saved = (corpus / first.pages[0].path).read_text(encoding="utf-8")  # type: ignore[operator]
    assert 'title: "Quake strikes off Heuksan island"' in saved
