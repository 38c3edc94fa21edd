"""Every error qabot raises on purpose, in one tree rooted in :class:`QabotError`.

Modelled on httpx's ``_exceptions.py``: one module lists the whole tree, each
message is a whole sentence a person can act on (it is printed as it is, never
prefixed or parsed back), and a caller that needs more than the message reads
an attribute (``problems``, ``failures``), not the text.

    QabotError
    ├── SettingsError        a setting is missing or malformed
    ├── CorpusError          the corpus folder cannot be used at all
    ├── ReadError            an article file could not be read during a reload
    ├── StoreError           a saved index cannot be used
    ├── AliasFileError       the aliases file cannot be read
    ├── ModelFileError       the answerability model file cannot be used
    ├── SemanticUnavailable  the embedding model cannot be used
    ├── FeedsError           a feed or a page could not become an article file
    │   ├── FetchError       a URL could not be fetched (``url``, ``reason``, ``status``)
    │   ├── FeedError        the bytes are not an RSS or Atom feed
    │   ├── ExtractError     a page holds no article to save
    │   └── FeedConfigError  feeds.toml cannot be used
    └── FilterError          an answer filter (--since, --source...) cannot be read

Every message is passed through :func:`redact`, so a bot token pasted into the
wrong setting (a folder name, say) never reaches a terminal or a log.
"""

from __future__ import annotations

import re

# A Discord bot token anywhere in a text: three dot-separated base64url parts, long enough
# not to match a version number, a host name or a file name.
TOKEN_INSIDE = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}")
REDACTED = "[token redacted]"


def redact(text: str) -> str:
    """Replace everything in text that looks like a Discord bot token."""
    return TOKEN_INSIDE.sub(REDACTED, text)


class QabotError(Exception):
    """Something qabot cannot do; the message is one sentence saying what and why."""

    def __str__(self) -> str:
        return redact(super().__str__())


class SettingsError(QabotError, ValueError):
    """A setting is missing or malformed; the message names it and says what to write."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting  # the variable at fault, e.g. "ANSWER_K"


class CorpusError(QabotError):
    """The corpus folder cannot be used at all; ``problems`` lists the files skipped."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ReadError(QabotError):
    """An article file could not be read during a reload (it is not just gone)."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("; ".join(failures))
        self.failures = failures


class StoreError(QabotError):
    """A saved index cannot be used; the message says which file and why."""


class AliasFileError(QabotError, ValueError):
    """The alias file cannot be read; the message names the file and line."""


class ModelFileError(QabotError, ValueError):
    """The answerability model file cannot be read or is not a fitted model."""


class SemanticUnavailable(QabotError):
    """The embedding model cannot be used; the message is one line for the user."""


class FeedsError(QabotError):
    """A feed or a page could not be read into an article file."""


class FetchError(FeedsError):
    """A URL could not be fetched; ``reason`` says why in a few words, for reports.

    ``retry_after`` is the seconds a 429 or 503 answer asked us to wait, when it said.
    """

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{url} could not be fetched: {reason}.")
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class FeedError(FeedsError, ValueError):
    """The bytes fetched are not an RSS or Atom feed; the message says why."""


class ExtractError(FeedsError, ValueError):
    """A page holds no article that can be saved; the message says why."""


class FeedConfigError(FeedsError, ValueError):
    """feeds.toml cannot be used; the message says where and why."""


class FilterError(QabotError, ValueError):
    """An answer filter option cannot be read; the message names it."""
