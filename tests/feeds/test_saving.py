"""Feed entries and added URLs become readable .md files with front matter."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.feeds.config import FeedSpec
from bot.feeds.reader import Reader
from bot.feeds.report import Outcome
from bot.ingest.loader import load_corpus
from tests.feeds.conftest import ASEAN, QUAKE, RICE, serve_feed, serve_story
from tests.feeds.pages import article_page, atom
from tests.feeds.server import Route, Site


def front_matter(path: Path) -> tuple[dict[str, str], str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


def test_rss_entries_become_md_files_with_front_matter(
    site: Site, reader: Reader, corpus: Path
) -> None:
    asean = serve_story(
        site,
        "/view/AEN1",
        "N. Korea striving for closer ties with ASEAN",
        ASEAN,
        canonical=site.url("/view/AEN1"),
    )
    rice = serve_story(
        site,
        "/view/AEN2",
        "S. Korea to send rice aid to the Philippines",
        RICE,
        date="2013-11-29",
        author="Lee Min-ji",
        dateline="SEOUL, Nov. 29 (Yonhap) -- ",
    )
    feed = serve_feed(
        site,
        "/rss.xml",
        [
            {
                "title": "N. Korea striving for closer ties with ASEAN",
                "link": asean + "?utm_source=rss",
                "guid": "AEN1",
            },
            {"title": "S. Korea to send rice aid", "link": rice, "guid": "AEN2"},
        ],
    )

    report = reader.poll([FeedSpec(feed, 900)])

    assert [p.outcome for p in report.all_pages] == [Outcome.NEW, Outcome.NEW]
    assert report.failures == []
    first = corpus / report.all_pages[0].path  # type: ignore[operator]
    meta, body = front_matter(first)
    assert meta == {
        "title": "N. Korea striving for closer ties with ASEAN",
        "source": "Example News",
        "url": asean,  # the canonical link, not the tracking link of the feed
        "date": "2013-11-28",
        "author": "Kim Soo-yeon",
        "feed": feed,
    }
    paragraphs = body.strip().split("\n\n")
    assert paragraphs == ["SEOUL, Nov. 28 (Yonhap) -- " + ASEAN[0], *ASEAN[1:]]
    for furniture in ("Related Articles", "Facebook", "Copyright", "Politics", "Search", "By Kim"):
        assert furniture not in body
    assert first.relative_to(corpus).parent.as_posix() == "127-0-0-1/2013-11"
    assert first.name == "n-korea-striving-for-closer-ties-with-asean.md"

    # The loader reads them back as articles with a title, a url and a date.
    articles = {a.url: a for a in load_corpus(corpus).articles}
    assert articles[asean].title == "N. Korea striving for closer ties with ASEAN"
    assert articles[rice].date == "2013-11-29"
    assert any("50,000 tons of rice" in s.text for s in articles[rice].sentences)


def test_atom_feed_and_a_page_in_another_charset(site: Site, reader: Reader, corpus: Path) -> None:
    title = "Séoul café owners protest rent rises"
    paragraphs = [
        "Café owners in Séoul's Itaewon district protested on Monday against rents that have "
        "risen by a third in two years, saying the rises would force them to close.",
        "The district office said it would meet the owners' association next week.",
        "Landlords said the rises reflected higher property taxes.",
    ]
    page = article_page(title=title, paragraphs=paragraphs, charset="iso-8859-1", date="2013-12-02")
    site.routes["/latin1"] = Route(page.encode("iso-8859-1"), content_type="text/html")
    quake = serve_story(
        site, "/quake", "Quake strikes off Heuksan island", QUAKE, date="2013-12-01"
    )
    site.routes["/atom.xml"] = Route(
        atom(
            "Atom News",
            [
                {"title": title, "link": site.url("/latin1"), "id": "tag:news,2013:1"},
                {"title": "Quake", "link": quake, "id": "tag:news,2013:2"},
            ],
        ).encode(),
        content_type="application/atom+xml",
    )

    report = reader.poll([FeedSpec(site.url("/atom.xml"), 900)])

    assert [p.outcome for p in report.all_pages] == [Outcome.NEW, Outcome.NEW]
    meta, body = front_matter(corpus / report.all_pages[0].path)  # type: ignore[operator]
    assert meta["title"] == title
    assert "Café owners in Séoul's Itaewon district" in body


def test_added_url_is_saved_and_adding_it_again_changes_nothing(
    site: Site, reader: Reader, corpus: Path
) -> None:
    url = serve_story(site, "/quake", "Quake strikes off Heuksan island", QUAKE, date="2013-12-01")

    first = reader.add([url])
    again = reader.add([url])

    assert [p.outcome for p in first.pages] == [Outcome.NEW]
    assert [p.outcome for p in again.pages] == [Outcome.UNCHANGED]
    assert again.pages[0].path == first.pages[0].path
    meta, _ = front_matter(corpus / first.pages[0].path)  # type: ignore[operator]
    assert "feed" not in meta and meta["url"] == url


def test_dedupe_by_guid_canonical_url_and_text(site: Site, reader: Reader, corpus: Path) -> None:
    canonical = site.url("/view/AEN1")
    serve_story(site, "/view/AEN1", "N. Korea courts ASEAN", ASEAN, canonical=canonical)
    # The same story under a second address that names the first as canonical...
    serve_story(site, "/m/AEN1", "N. Korea courts ASEAN", ASEAN, canonical=canonical)
    # ...and syndicated word for word under its own address.
    serve_story(
        site, "/partner/story", "N. Korea courts ASEAN", ASEAN, canonical=site.url("/partner/story")
    )
    one = serve_feed(
        site,
        "/one.xml",
        [
            {"title": "A", "link": site.url("/view/AEN1"), "guid": "AEN1"},
            {"title": "A mobile", "link": site.url("/m/AEN1"), "guid": "AEN1-m"},
        ],
    )
    two = serve_feed(
        site,
        "/two.xml",
        [
            {"title": "A partner", "link": site.url("/partner/story"), "guid": "P1"},
        ],
    )

    report = reader.poll([FeedSpec(one, 900), FeedSpec(two, 900)])

    outcomes = [(p.url.rpartition(":")[2], p.outcome, p.reason) for p in report.all_pages]
    saved = report.all_pages[0].path
    assert outcomes[0][1] is Outcome.NEW
    assert outcomes[1][1] is Outcome.UNCHANGED  # same canonical URL: the same article
    assert outcomes[2][1] is Outcome.SKIPPED
    assert outcomes[2][2] == f"the same text is saved already as {saved}"
    assert len(list(corpus.rglob("*.md"))) == 1
    # Polled again: every entry is known by its GUID, no page is fetched.
    pages_before = len(site.hits("/view/AEN1"))
    again = reader.poll([FeedSpec(one, 900)], force=True)
    assert len(site.hits("/view/AEN1")) == pages_before
    assert again.feeds[0].status in {"not modified", "ok"}


def test_lost_state_does_not_duplicate_saved_articles(site: Site, corpus: Path) -> None:
    from bot.feeds.reader import Reader as Fresh
    from bot.feeds.state import STATE_FOLDER

    story = serve_story(site, "/asean", "N. Korea courts ASEAN", ASEAN)
    feed = serve_feed(site, "/rss.xml", [{"title": "a", "link": story, "guid": "a"}])
    first = Fresh(corpus)
    first.poll([FeedSpec(feed, 900)])
    first.close()
    for path in (corpus / STATE_FOLDER).iterdir():
        path.unlink()

    again = Fresh(corpus)
    try:
        report = again.poll([FeedSpec(feed, 900)])
    finally:
        again.close()
    assert [p.outcome for p in report.all_pages] == [Outcome.UNCHANGED]
    assert len(list(corpus.rglob("*.md"))) == 1


def test_front_matter_values_read_back_exactly(corpus: Path) -> None:
    from bot.feeds.files import SavedArticle, write_atomically

    title = 'Kim\'s "new line": a \\ backslash, a colon: and # hash — 북한 ✓'
    article = SavedArticle(
        title=title,
        text="\n\n".join(ASEAN),
        url="https://example.org/view?id=1&x=%20y",
        source="Yonhap: English",
        date="2013-11-28",
        author="- dash first",
        feed="https://example.org/rss?a=1#frag",
    )
    write_atomically(corpus / "x.md", article.render())
    [loaded] = load_corpus(corpus).articles
    assert (loaded.title, loaded.source, loaded.url, loaded.date) == (
        title,
        "Yonhap: English",
        "https://example.org/view?id=1&x=%20y",
        "2013-11-28",
    )
    assert loaded.author == "- dash first"
    assert [p.name for p in corpus.iterdir()] == ["x.md"]  # no temporary file left


def test_a_korean_page_in_euc_kr_named_only_by_the_http_header(
    site: Site, reader: Reader, corpus: Path
) -> None:
    paragraphs = [
        "북한이 국제사회의 제재를 약화시키기 위해 동남아국가연합 회원국들과의 관계 강화에 "
        "나서고 있다고 정부가 28일 밝혔다.",
        "통일부는 북한이 올해 비동맹국들과의 유대를 강화하기 위해 노력해 왔다고 말했다.",
        "북한과 아세안 국가들 사이에는 올해에만 15차례의 고위급 교류가 있었다.",
    ]
    page = article_page(
        title="북한, 제재 약화 위해 아세안과 관계 강화", paragraphs=paragraphs, dateline=None
    ).replace('<meta charset="utf-8">', "")
    site.routes["/kr"] = Route(page.encode("euc-kr"), content_type="text/html; charset=EUC-KR")

    report = reader.add([site.url("/kr")])

    assert [p.outcome for p in report.pages] == [Outcome.NEW]
    meta, body = front_matter(corpus / report.pages[0].path)  # type: ignore[operator]
    assert meta["title"] == "북한, 제재 약화 위해 아세안과 관계 강화"
    assert body.strip().split("\n\n") == paragraphs  # no "Published ..." stamp line
