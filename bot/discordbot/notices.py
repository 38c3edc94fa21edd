"""The short notices the bot sends as plain message content."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bot.discordbot.safetext import fit_content

EXPIRED_NOTICE = "This answer has expired — ask again."
APOLOGY = "Sorry, something went wrong while answering that. It has been logged; please try again."
DMS_OFF_NOTICE = "I don't answer direct messages here. Ask in a server channel with /ask."
UNREADABLE_NOTICE = (
    "I can't read that message: mention me in it (or use /ask) so Discord shows me the text."
)
RELOAD_REFUSED = "Only the bot's owner can reload the articles."
NO_CORPUS_NOTICE = (
    "No articles are set up for this server: the bot's operator can give it a corpus folder "
    "in guilds.toml."
)
CORPUS_BROKEN_NOTICE = (
    "This server's articles cannot be loaded right now; the bot's operator has been told."
)
RELOAD_UNAVAILABLE = "This bot serves a fixed set of articles: there is nothing to reload."
SERVER_OPTION_IN_DMS_ONLY = (
    "The server option is for direct messages with me; here I answer from this server's "
    "articles. Ask again without it."
)
DM_SERVERS_OFF_NOTICE = (
    "Picking a server's articles in direct messages is turned off by the bot's operator."
)
DM_SERVER_REFUSED_NOTICE = (
    "You can pick only a server you are a member of and that lets its articles be used in "
    "direct messages."
)


def cooldown_notice(retry_after: float, now: datetime | None = None) -> str:
    """Tell an over-eager user when they can ask again, as a relative Discord timestamp."""
    now = now or datetime.now(UTC)
    seconds = max(1, round(retry_after + 0.499))
    when = int(now.timestamp()) + seconds
    return fit_content(f"You're asking quickly — you can ask again <t:{when}:R> (in {seconds} s).")


def channels_notice(channel_ids: Iterable[int]) -> str:
    """Say which channels the bot answers in."""
    channels = sorted(channel_ids)
    shown = ", ".join(f"<#{c}>" for c in channels[:50])
    more = f" and {len(channels) - 50} more" if len(channels) > 50 else ""
    return fit_content(f"I only answer in {shown}{more}.")
