"""Say which feeds to poll and how often: the FEEDS setting plus feeds.toml beside the articles.

feeds.toml, in the corpus folder, lists one table per feed::

    [[feed]]
    url = "https://en.yna.co.kr/RSS/news.xml"
    every_minutes = 30          # optional; default FEED_INTERVAL_MINUTES

A feed named in both places takes the interval from feeds.toml.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.errors import FeedConfigError, FetchError
from bot.feeds.fetch import check_url

FEEDS_FILE = "feeds.toml"
DEFAULT_INTERVAL_MINUTES = 15.0
MIN_INTERVAL_MINUTES = 1.0


@dataclass(frozen=True)
class FeedSpec:
    """One feed to poll, every interval seconds."""

    url: str
    interval: float


def feed_specs(
    corpus: Path,
    urls: tuple[str, ...] = (),
    interval_minutes: float = DEFAULT_INTERVAL_MINUTES,
) -> list[FeedSpec]:
    """List the feeds of the FEEDS setting and of corpus/feeds.toml, each once."""
    specs: dict[str, FeedSpec] = {}
    for url in urls:
        specs[url] = FeedSpec(url, interval_minutes * 60)
    path = Path(corpus) / FEEDS_FILE
    if path.is_file():
        for spec in _read_file(path, interval_minutes):
            specs[spec.url] = spec
    return list(specs.values())


def _read_file(path: Path, interval_minutes: float) -> list[FeedSpec]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FeedConfigError(f"{path} cannot be read: {exc}.") from None
    tables = data.get("feed", [])
    if not isinstance(tables, list):
        raise FeedConfigError(f"{path}: write each feed as a [[feed]] table with a url.")
    specs = []
    for number, table in enumerate(tables, start=1):
        if not isinstance(table, dict) or not isinstance(table.get("url"), str):
            raise FeedConfigError(f'{path}: feed {number} needs a url = "https://..." line.')
        try:
            url = check_url(table["url"])
        except FetchError as exc:
            raise FeedConfigError(f"{path}: feed {number}: {exc.url} {exc.reason}.") from None
        minutes = table.get("every_minutes", interval_minutes)
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            raise FeedConfigError(f"{path}: feed {number}: every_minutes must be a number.")
        if minutes < MIN_INTERVAL_MINUTES:
            raise FeedConfigError(
                f"{path}: feed {number}: every_minutes must be at least "
                f"{MIN_INTERVAL_MINUTES:g}, not {minutes:g}."
            )
        specs.append(FeedSpec(url, float(minutes) * 60))
    return specs
