"""What a poll round or `qabot add` did, as objects and as lines a person reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum


class Outcome(Enum):
    """What happened to one page."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class PageResult:
    """One page: what happened, the file it went to, and why it was skipped."""

    url: str
    outcome: Outcome
    path: str | None = None  # relative to the corpus folder
    reason: str = ""  # for SKIPPED: why, in words
    title: str | None = None

    def line(self) -> str:
        """Describe the result in one line."""
        if self.outcome is Outcome.SKIPPED:
            return f"skipped {self.url}: {self.reason}"
        return f"{self.outcome.value} {self.path} ({self.url})"


@dataclass
class FeedReport:
    """One feed in one round."""

    url: str
    status: str  # "ok", "not modified", "not due", or "failed: <why>"
    pages: list[PageResult] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)  # paths removed by FEED_KEEP_DAYS
    failure: str | None = None

    def count(self, outcome: Outcome) -> int:
        """Count the pages with this outcome."""
        return sum(1 for p in self.pages if p.outcome is outcome)

    @property
    def counts(self) -> dict[str, int]:
        """Return the new/updated/unchanged/skipped counts."""
        return {o.value: self.count(o) for o in Outcome}

    def lines(self) -> list[str]:
        """Describe the feed's round: a summary line, then one line per change or skip."""
        c = self.counts
        head = (
            f"{self.url}: {self.status}"
            if self.failure or self.status in {"not modified", "not due"}
            else f"{self.url}: {c['new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['skipped']} skipped"
        )
        body = [f"  {p.line()}" for p in self.pages if p.outcome in {Outcome.NEW, Outcome.UPDATED}]
        body += [f"  {p.line()}" for p in self.pages if p.outcome is Outcome.SKIPPED]
        body += [f"  expired {path} (FEED_KEEP_DAYS)" for path in self.expired]
        return [head, *body]


@dataclass
class RoundReport:
    """Every feed of one round, or the pages of one `qabot add`."""

    feeds: list[FeedReport] = field(default_factory=list)
    pages: list[PageResult] = field(default_factory=list)  # `qabot add`
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    @property
    def all_pages(self) -> list[PageResult]:
        """List every page of the round, from feeds and added URLs."""
        return [*self.pages, *(p for f in self.feeds for p in f.pages)]

    @property
    def changed(self) -> bool:
        """Tell whether any article file was written or removed."""
        return any(p.outcome in {Outcome.NEW, Outcome.UPDATED} for p in self.all_pages) or any(
            f.expired for f in self.feeds
        )

    @property
    def failures(self) -> list[str]:
        """List every failure once: feeds that failed and pages skipped, with URL and why."""
        out = [f"{f.url}: {f.failure}" for f in self.feeds if f.failure]
        out += [f"{p.url}: {p.reason}" for p in self.all_pages if p.outcome is Outcome.SKIPPED]
        return out

    def lines(self) -> list[str]:
        """Describe the round for a terminal or a log."""
        out = [p.line() for p in self.pages]
        for feed in self.feeds:
            out += feed.lines()
        return out

    def summary(self) -> str:
        """Say in one line what the round did."""
        pages = self.all_pages
        counts = {o: sum(1 for p in pages if p.outcome is o) for o in Outcome}
        failed = sum(1 for f in self.feeds if f.failure)
        text = (
            f"{counts[Outcome.NEW]} new, {counts[Outcome.UPDATED]} updated, "
            f"{counts[Outcome.UNCHANGED]} unchanged, {counts[Outcome.SKIPPED]} skipped"
        )
        if self.feeds:
            text = f"{len(self.feeds)} feed(s): {text}"
        if failed:
            text += f"; {failed} feed(s) failed"
        return text
