"""Decide whether robots.txt lets qabot fetch a URL, fetching each site's file once an hour.

Follows RFC 9309: a robots.txt that is missing (4xx) allows everything; one
that cannot be read (5xx, timeout, too large) disallows the whole site until
it can be read again.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from bot.errors import FetchError
from bot.feeds.fetch import DEFAULT_LIMITS, USER_AGENT, Limits, fetch

ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TTL = 3600.0
_AGENT = USER_AGENT.split("/")[0]


class Robots:
    """A per-site cache of robots.txt rules."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, ttl: float = ROBOTS_TTL) -> None:
        self._limits = Limits(
            timeout=min(limits.timeout, 10.0), max_bytes=ROBOTS_MAX_BYTES, max_redirects=5
        )
        self._ttl = ttl
        self._sites: dict[str, tuple[float, RobotFileParser | None, str]] = {}
        self._lock = threading.Lock()

    def refusal(self, url: str) -> str | None:
        """Return why robots.txt forbids url, or None when it may be fetched."""
        parts = urlsplit(url)
        site = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        with self._lock:
            cached = self._sites.get(site)
        if cached is None or time.monotonic() - cached[0] > self._ttl:
            cached = (time.monotonic(), *self._read(site))
            with self._lock:
                self._sites[site] = cached
        _, rules, why = cached
        if rules is None:
            return why
        if not rules.can_fetch(_AGENT, url):
            return "robots.txt disallows it"
        return None

    def _read(self, site: str) -> tuple[RobotFileParser | None, str]:
        rules = RobotFileParser(site + "/robots.txt")
        try:
            response = fetch(site + "/robots.txt", self._limits, accept="text/plain")
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                rules.parse([])  # no robots.txt: everything is allowed
                return rules, ""
            return None, f"robots.txt could not be read ({exc.reason}), so the site is skipped"
        rules.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return rules, ""
