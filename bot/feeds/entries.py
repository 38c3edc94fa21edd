"""Read the entries of an RSS or Atom feed (feedparser) as plain, comparable records."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.errors import FeedError


@dataclass(frozen=True)
class Entry:
    """One feed entry: the page to fetch and what the feed says of it."""

    guid: str
    link: str
    title: str | None
    date: str | None  # ISO yyyy-mm-dd
    author: str | None
    version: str  # changes when the feed changes the entry (its date, title or summary)


def parse_feed(body: bytes, base_url: str) -> tuple[str | None, list[Entry]]:
    """Return the feed's title and its entries that link to a page, in feed order."""
    parsed: Any = feedparser.parse(body, response_headers={"content-location": base_url})
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        why = f" ({problem})" if problem else ""
        raise FeedError(f"not an RSS or Atom feed{why}")
    entries: list[Entry] = []
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            continue
        link = urljoin(base_url, link)
        guid = str(item.get("id") or link)
        # dict.get: feedparser warns when updated_parsed is asked of an entry without one.
        published = dict.get(item, "published_parsed")
        stamp = dict.get(item, "updated_parsed") or published
        published = published or stamp
        version = hashlib.sha256(
            "\0".join(
                [
                    link,
                    str(item.get("title", "")),
                    str(item.get("summary", "")),
                    time.strftime("%Y-%m-%dT%H:%M:%S", stamp) if stamp else "",
                ]
            ).encode()
        ).hexdigest()[:16]
        entries.append(
            Entry(
                guid=guid,
                link=link,
                title=_text(item.get("title")),
                date=time.strftime("%Y-%m-%d", published) if published else None,
                author=_text(item.get("author")),
                version=version,
            )
        )
    feed = parsed.get("feed", {})
    return _text(feed.get("title")), entries


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None
