"""Fetch feeds and pages into article files: one poll round, or a list of URLs to add now.

A page becomes a file only after it was fetched and its main text extracted,
and a file is replaced only by a complete new one, so a failure at any step
leaves every file saved before it as it was. Each failure becomes a skipped
page (or a failed feed) in the report, with the URL and why.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.errors import ExtractError, FeedError, FetchError
from bot.feeds.config import FeedSpec
from bot.feeds.entries import Entry, parse_feed
from bot.feeds.extract import Page, extract_page
from bot.feeds.fetch import Limits, check_url, fetch
from bot.feeds.files import SavedArticle, choose_path, saved_files, write_atomically
from bot.feeds.report import FeedReport, Outcome, PageResult, RoundReport
from bot.feeds.robots import Robots
from bot.feeds.state import FeedRow, SavedRow, State

# A failing feed waits interval * 2**failures, up to this long, before it is tried again.
MAX_BACKOFF_SECONDS = 24 * 3600.0
# Pages fetched per feed per round; the other new entries wait for the next round.
MAX_PAGES_PER_ROUND = 200
_FEED_TYPES = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8"
_PAGE_TYPES = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


@dataclass(frozen=True)
class ReaderOptions:
    """The limits every fetch keeps, and how long entries gone from a feed stay."""

    limits: Limits = field(default_factory=Limits)
    keep_days: float | None = None  # None: never expire
    respect_robots: bool = True


def canonical_url(url: str) -> str:
    """Return url without its fragment and with a lower-case scheme and host."""
    parts = urlsplit(url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def text_digest(text: str) -> str:
    """Digest an article's text, ignoring how its whitespace is laid out."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:32]


class Reader:
    """Reads feeds and pages into one corpus folder."""

    def __init__(self, corpus: Path, options: ReaderOptions | None = None) -> None:
        self.corpus = Path(corpus)
        self.options = options = options or ReaderOptions()
        self.state = State(self.corpus)
        self.robots = Robots(options.limits)
        self.max_pages = MAX_PAGES_PER_ROUND
        # Set to end a round early (the bot is shutting down); entries not reached wait.
        self.stopping = threading.Event()
        if self.state.flag("adopted") is None:
            self._adopt_saved_files()

    def _adopt_saved_files(self) -> None:
        """Remember the articles already in the folder (state lost or never kept)."""
        with self.state.transaction():
            for rel, url, feed, text in saved_files(self.corpus):
                self.state.save_article(SavedRow(rel, canonical_url(url), text_digest(text), feed))
            self.state.set_flag("adopted", str(time.time()))

    def close(self) -> None:
        """Close the state database."""
        self.state.close()

    # --- URLs added by hand --------------------------------------------------------

    def add(self, urls: Iterable[str]) -> RoundReport:
        """Fetch each page now and save it (or replace its earlier copy)."""
        start = time.perf_counter()
        report = RoundReport()
        for url in urls:
            report.pages.append(self.save_page(url.strip(), entry=None, feed=None))
        report.seconds = time.perf_counter() - start
        return report

    # --- feeds ---------------------------------------------------------------------

    def poll(
        self, specs: Iterable[FeedSpec], *, force: bool = False, slack: float = 0.0
    ) -> RoundReport:
        """Poll every feed due within slack seconds (every feed when force)."""
        start = time.perf_counter()
        report = RoundReport()
        for spec in specs:
            if self.stopping.is_set():
                break
            report.feeds.append(self.poll_feed(spec, force=force, slack=slack))
        report.seconds = time.perf_counter() - start
        return report

    def due(self, spec: FeedSpec, now: float | None = None) -> float:
        """Return how many seconds until the feed is due (0 or less: due now)."""
        return self.state.feed(spec.url).next_poll - (time.time() if now is None else now)

    def poll_feed(self, spec: FeedSpec, *, force: bool = False, slack: float = 0.0) -> FeedReport:
        """Poll one feed: fetch it (conditionally), then each new or changed entry's page."""
        row = self.state.feed(spec.url)
        now = time.time()
        if not force and row.next_poll > now + slack:
            return FeedReport(spec.url, "not due")
        refusal = self._refusal(spec.url)
        try:
            if refusal:
                raise FetchError(spec.url, refusal)
            response = fetch(
                spec.url,
                self.options.limits,
                etag=row.etag,
                last_modified=row.last_modified,
                accept=_FEED_TYPES,
                allowed=self._refusal,
            )
            if response.not_modified:
                self.state.save_feed(
                    replace(
                        row,
                        last_poll=now,
                        status="not modified",
                        failures=0,
                        next_poll=now + spec.interval,
                        counts={},
                        skips=[],
                    )
                )
                return FeedReport(spec.url, "not modified")
            title, entries = parse_feed(response.body, response.url)
        except (FetchError, FeedError) as exc:
            return self._feed_failed(spec, row, now, exc)
        feed = FeedReport(spec.url, "ok")
        listed = [e.guid for e in entries]
        self.state.touch_entries(spec.url, listed)
        fetched = 0
        postponed = 0
        retry = 0  # pages that failed for now (timeout, 5xx): tried again next round
        for entry in entries:
            if not self._known(spec.url, entry):
                if fetched >= self.max_pages or self.stopping.is_set():
                    postponed += 1
                    continue
                fetched += 1
            result = self._entry(spec.url, title, entry)
            feed.pages.append(result)
            retry += result.outcome is Outcome.SKIPPED and not self._known(spec.url, entry)
        if postponed:
            feed.status = f"ok, {postponed} new entries left for the next round"
        feed.expired = self._expire(spec.url, now)
        self.state.save_feed(
            FeedRow(
                url=spec.url,
                title=title,
                # Entries left for later must not be hidden by a 304 next round.
                etag=None if postponed or retry else response.headers.get("etag"),
                last_modified=(
                    None if postponed or retry else response.headers.get("last-modified")
                ),
                last_poll=now,
                status=feed.status,
                failures=0,
                next_poll=now + spec.interval,
                counts=feed.counts,
                skips=[(p.url, p.reason) for p in feed.pages if p.outcome is Outcome.SKIPPED],
            )
        )
        return feed

    def _feed_failed(self, spec: FeedSpec, row: FeedRow, now: float, exc: Exception) -> FeedReport:
        failures = row.failures + 1
        wait = spec.interval * 2 ** (failures - 1)
        if isinstance(exc, FetchError) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)  # the server said how long (429, 503)
        wait = min(wait, MAX_BACKOFF_SECONDS)
        reason = exc.reason if isinstance(exc, FetchError) else str(exc)
        self.state.save_feed(
            replace(
                row,
                last_poll=now,
                status=f"failed: {reason}",
                failures=failures,
                next_poll=now + wait,
                counts={},
                skips=[],
            )
        )
        return FeedReport(spec.url, f"failed: {reason}", failure=reason)

    def _known(self, feed_url: str, entry: Entry) -> bool:
        seen = self.state.entry(feed_url, entry.guid)
        return seen is not None and seen[0] == entry.version

    def _entry(self, feed_url: str, feed_title: str | None, entry: Entry) -> PageResult:
        seen = self.state.entry(feed_url, entry.guid)
        if seen is not None and seen[0] == entry.version:
            return PageResult(entry.link, Outcome.UNCHANGED, seen[1], title=entry.title)
        result = self.save_page(
            entry.link,
            entry=entry,
            feed=feed_url,
            feed_title=feed_title,
            previous=seen[1] if seen else None,
        )
        transient = result.outcome is Outcome.SKIPPED and result.reason.startswith(
            ("timed out", "connection failed", "HTTP 5", "robots.txt could not")
        )
        if not transient:
            # A page that cannot be saved for good is tried again only when its entry changes.
            self.state.see_entry(feed_url, entry.guid, entry.version, result.path)
        return result

    def _expire(self, feed_url: str, now: float) -> list[str]:
        keep = self.options.keep_days
        if keep is None:
            return []
        removed = []
        for guid, path in self.state.expired_entries(feed_url, now - keep * 86400):
            if path and self.state.saved_at(path) is not None:
                (self.corpus / path).unlink(missing_ok=True)
                self.state.forget_article(path)
                removed.append(path)
            self.state.forget_entry(feed_url, guid)
        return removed

    # --- one page ------------------------------------------------------------------

    def save_page(
        self,
        url: str,
        *,
        entry: Entry | None,
        feed: str | None,
        feed_title: str | None = None,
        previous: str | None = None,
    ) -> PageResult:
        """Fetch, extract and save one page; never raises for a bad page."""
        try:
            url = check_url(url)
        except FetchError as exc:
            return PageResult(url, Outcome.SKIPPED, reason=exc.reason)
        refusal = self._refusal(url)
        if refusal:
            return PageResult(url, Outcome.SKIPPED, reason=refusal)
        try:
            response = fetch(url, self.options.limits, accept=_PAGE_TYPES, allowed=self._refusal)
            page = extract_page(response)
        except FetchError as exc:
            return PageResult(url, Outcome.SKIPPED, reason=exc.reason)
        except ExtractError as exc:
            return PageResult(url, Outcome.SKIPPED, reason=str(exc))
        article = self._article(url, page, entry, feed, feed_title)
        return self._store(url, article, previous)

    def _article(
        self, url: str, page: Page, entry: Entry | None, feed: str | None, feed_title: str | None
    ) -> SavedArticle:
        host = urlsplit(page.url).hostname or urlsplit(url).hostname
        return SavedArticle(
            title=page.title or (entry.title if entry else None) or page.url,
            text=page.text,
            url=canonical_url(page.url),
            source=page.site or feed_title or host,
            date=page.date or (entry.date if entry else None),
            author=page.author or (entry.author if entry else None),
            feed=feed,
        )

    def _store(self, url: str, article: SavedArticle, previous: str | None) -> PageResult:
        digest = text_digest(article.text)
        state = self.state
        earlier = (state.saved_at(previous) if previous else None) or state.saved_by_canonical(
            article.url
        )
        if earlier is not None:
            # The article keeps the feed it first came from (a second feed, or `qabot add`
            # of the same page, is the same article).
            article = replace(article, feed=earlier.feed)
            if _reads(self.corpus / earlier.path) == article.render():
                return PageResult(url, Outcome.UNCHANGED, earlier.path, title=article.title)
        else:
            twin = state.saved_by_digest(digest)
            if twin is not None and (self.corpus / twin.path).exists():
                return PageResult(
                    url,
                    Outcome.SKIPPED,
                    twin.path,
                    reason=f"the same text is saved already as {twin.path}",
                )
        rel = earlier.path if earlier else choose_path(self.corpus, article, state.paths())
        outcome = Outcome.UPDATED if earlier and (self.corpus / rel).exists() else Outcome.NEW
        try:
            write_atomically(self.corpus / rel, article.render())
        except OSError as exc:
            return PageResult(url, Outcome.SKIPPED, reason=f"{rel} could not be written ({exc})")
        state.save_article(SavedRow(rel, article.url, digest, article.feed))
        return PageResult(url, outcome, rel, title=article.title)

    def _refusal(self, url: str) -> str | None:
        if not self.options.respect_robots:
            return None
        return self.robots.refusal(url)


def _reads(path: Path) -> str | None:
    """Return a saved file's text, or None when it is gone or unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
