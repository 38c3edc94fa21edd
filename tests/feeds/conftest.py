"""Fixtures for the feed tests: a loopback site, a corpus folder and the stories it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.feeds.fetch import Limits
from bot.feeds.reader import Reader, ReaderOptions
from tests.feeds.pages import article_page, rss
from tests.feeds.server import Route, Site

ASEAN = [
    "North Korea is stepping up efforts to forge closer ties with members of the Association "
    "of Southeast Asian Nations (ASEAN) in a bid to weaken sanctions imposed against it, the "
    "government said Thursday.",
    "The unification ministry said Pyongyang has stepped up efforts this year to strengthen "
    "bonds with non-aligned nations and members of ASEAN.",
    "There have been 15 senior-level exchanges between North Korea and ASEAN countries in 2013 "
    "alone.",
]
RICE = [
    "South Korea will send 50,000 tons of rice to flood-hit regions of the Philippines, the "
    "foreign ministry said Friday.",
    "The shipment is the largest food aid Seoul has ever sent to Southeast Asia, officials said.",
    "The first cargo ship is due to leave the port of Busan next Tuesday.",
]
QUAKE = [
    "A magnitude 4.1 earthquake struck off the southwestern island of Heuksan on Sunday, the "
    "weather agency said.",
    "No damage or injuries were reported from the tremor, which was felt across South Jeolla.",
    "It was the strongest quake to hit the region this year, the agency said.",
]


@pytest.fixture
def site() -> Iterator[Site]:
    """Run a loopback HTTP server for one test."""
    server = Site()
    server.routes["/robots.txt"] = Route(
        b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    yield server
    server.close()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Return an empty corpus folder."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder


# Limits far above what a loopback page needs on a loaded machine, yet below the slow
# route's 30 s; a small size cap so the huge responses stop early.
TEST_LIMITS = Limits(timeout=6.0, max_bytes=2 * 2**20, max_redirects=5)


@pytest.fixture
def reader(corpus: Path) -> Iterator[Reader]:
    """Return a reader of the corpus folder with the test limits."""
    opened = Reader(corpus, ReaderOptions(limits=TEST_LIMITS))
    yield opened
    opened.close()


def serve_story(site: Site, path: str, title: str, paragraphs: list[str], **page: object) -> str:
    """Serve a news page at path and return its URL."""
    site.routes[path] = Route(article_page(title=title, paragraphs=paragraphs, **page).encode())  # type: ignore[arg-type]
    return site.url(path)


def serve_feed(site: Site, path: str, items: list[dict[str, str]], etag: str = '"v1"') -> str:
    """Serve an RSS 2.0 feed at path (with an ETag) and return its URL."""
    site.routes[path] = Route(
        rss("Example News", items).encode(), content_type="application/rss+xml", etag=etag
    )
    return site.url(path)
