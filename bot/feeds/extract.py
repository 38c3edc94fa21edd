"""Turn an article page into its main text, title, date, author and canonical URL (trafilatura).

trafilatura drops the navigation, share buttons and related-article lists; its
metadata pass (htmldate for the date) reads the title, byline, publication date
and canonical link. The bytes are decoded here first, by the charset the
server or the page names, so a page in another charset reads right.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import trafilatura

from bot.errors import ExtractError
from bot.feeds.fetch import Response

# Less main text than this is a teaser, a paywall stub or a page of links, not an article.
MIN_TEXT_CHARS = 200
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Dates only from markup (meta tags, time elements, the URL): a year named in the text
# ("in 2013 alone") is no publication date.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}

logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Page:
    """What an article page says about itself."""

    text: str  # paragraphs separated by blank lines
    title: str | None
    date: str | None  # ISO yyyy-mm-dd
    author: str | None
    url: str  # canonical when the page names one, else where it was fetched
    site: str | None


def is_html(response: Response) -> bool:
    """Tell whether a response is an HTML page (by its type, or its first bytes when untyped)."""
    kind = response.content_type
    if kind:
        return kind in _HTML_TYPES
    head = response.body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def decode_page(response: Response) -> str:
    """Decode a page by the charset its header or meta tag names, else UTF-8, else cp1252."""
    names = [response.charset]
    match = _META_CHARSET.search(response.body[:4096])
    if match:
        names.append(match.group(1).decode("ascii", "ignore"))
    for name in names:
        if not name:
            continue
        try:
            codecs.lookup(name)
        except LookupError:
            continue
        try:
            return response.body.decode(name)
        except UnicodeDecodeError:
            continue
    try:
        return response.body.decode("utf-8")
    except UnicodeDecodeError:
        return response.body.decode("cp1252", errors="replace")


def extract_page(response: Response) -> Page:
    """Extract the article of a fetched page; raise ExtractError when there is none."""
    if not is_html(response):
        shown = response.content_type or "no content type"
        raise ExtractError(f"not HTML ({shown})")
    html = decode_page(response)
    doc = trafilatura.bare_extraction(
        html,
        url=response.url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        date_extraction_params=_DATE_PARAMS,
    )
    text = _paragraphs(getattr(doc, "text", None) or "") if doc is not None else ""
    if _width(text) < MIN_TEXT_CHARS:
        shown = f"only {len(text)} characters of text" if text else "no text"
        raise ExtractError(f"no main text found ({shown}: a paywall, a teaser or a list?)")
    assert doc is not None
    canonical = getattr(doc, "url", None)
    if not canonical or urlsplit(canonical).scheme not in {"http", "https"}:
        canonical = response.url
    return Page(
        text=text,
        title=_clean(getattr(doc, "title", None)),
        date=_iso(getattr(doc, "date", None)),
        author=_clean(getattr(doc, "author", None)),
        url=canonical,
        site=_clean(getattr(doc, "sitename", None)),
    )


def _width(text: str) -> int:
    """Measure text in Latin letters: a Hangul or Han character says about two letters' worth."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# Short lines a page puts around the story that trafilatura may keep: bylines, time stamps,
# photo credits ("By Kim Soo-yeon", "Published 2013-11-28 09:30", "Updated : 2013-11-28").
_FURNITURE = re.compile(
    r"""^(?:(?:published|updated|posted|modified|last\ updated)\b[\s:]*.{0,40}
    |(?:photo|image|graphics?)\s*(?:by|:|courtesy).{0,60}|\(?end\)?|\d{4}[-/.]\d{2}[-/.]\d{2}[\s\d:]*)$""",
    re.IGNORECASE | re.VERBOSE,
)
# A byline: "By" and capitalised names, perhaps a comma and an affiliation.
_BYLINE = re.compile(
    r"^(?:By|BY)\s+[A-Z][\w.'-]*(?:\s+(?:[A-Z][\w.'-]*|and|de|van|von|bin))*"
    r"(?:,\s*[A-Z][\w .'-]{0,40})?$"
)


def _paragraphs(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n\n".join(
        line for line in lines if line and not _FURNITURE.match(line) and not _BYLINE.match(line)
    )


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _iso(value: object) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value[:10]):
        return value[:10]
    return None
