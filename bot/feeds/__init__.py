"""Feeds and links in, article files out: RSS/Atom polling and `qabot add` (see service)."""

from bot.feeds.service import add_urls, feed_lines, poll_forever, poll_once

__all__ = ["add_urls", "feed_lines", "poll_forever", "poll_once"]
