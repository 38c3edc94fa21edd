"""Fetch one URL over HTTP with a deadline, a size cap, bounded redirects and conditional headers.

The standard library's http.client is used directly so that every limit is
ours: no redirect is followed behind our back, a body is read in chunks and
refused as soon as it passes the cap (compressed or not), and the whole
exchange, not just each read, must finish before the deadline.
"""

from __future__ import annotations

import email.utils
import http.client
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bot.errors import FetchError

USER_AGENT = "qabot/0.1 (self-hosted news question answering; feed reader)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """How long, how large and how far a fetch may go."""

    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True)
class Response:
    """A finished fetch: the final URL, status, headers and body (empty for 304)."""

    url: str  # after redirects
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        """Tell whether the server said the copy we hold is current (304)."""
        return self.status == 304

    @property
    def content_type(self) -> str:
        """Return the media type without parameters, lower case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """Return the charset the Content-Type header names, if any."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


DEFAULT_LIMITS = Limits()


def check_url(url: str) -> str:
    """Return url if it is an absolute http(s) URL, else raise FetchError."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FetchError(url, "is not an http:// or https:// address")
    return url.strip()


def fetch(
    url: str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = "*/*",
    allowed: Callable[[str], str | None] | None = None,
) -> Response:
    """GET url, following up to limits.max_redirects redirects; raise FetchError on failure.

    A 304 answer to the conditional headers is returned (not raised), with an empty body.
    allowed(target) is asked before each redirect is followed: a reason to refuse it
    (robots.txt), or None.
    """
    deadline = time.monotonic() + limits.timeout
    current = check_url(url)
    seen: list[str] = []
    while True:
        response = _get_once(current, limits, deadline, etag, last_modified, accept)
        if response.status not in {301, 302, 303, 307, 308}:
            break
        location = response.headers.get("location")
        if not location:
            raise FetchError(url, f"HTTP {response.status} redirect without a Location")
        seen.append(current)
        target = urljoin(current, location)
        if target in seen:
            raise FetchError(url, "redirects in a loop", status=response.status)
        if len(seen) > limits.max_redirects:
            raise FetchError(url, f"redirects more than {limits.max_redirects} times")
        current = check_url(target)
        refusal = allowed(current) if allowed is not None else None
        if refusal:
            raise FetchError(url, f"redirects to {current}, and {refusal}")
    if response.status == 304 or 200 <= response.status < 300:
        return response
    raise FetchError(
        url,
        f"HTTP {response.status}",
        status=response.status,
        retry_after=_retry_after(response.headers.get("retry-after")),
    )


def _retry_after(value: str | None) -> float | None:
    """Read a Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _get_once(
    url: str,
    limits: Limits,
    deadline: float,
    etag: str | None,
    last_modified: str | None,
    accept: str,
) -> Response:
    parts = urlsplit(url)
    host = parts.hostname or ""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(url, f"timed out after {limits.timeout:g} s")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, parts.port, timeout=remaining, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=remaining)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        connection.request("GET", path, headers=headers)
        raw = connection.getresponse()
        got = {name.lower(): value for name, value in raw.getheaders()}
        if raw.status in {301, 302, 303, 307, 308} or raw.status == 304 or raw.status >= 400:
            return Response(url, raw.status, got)
        body = _read_body(raw, got, url, limits, deadline)
        return Response(url, raw.status, got, body)
    except FetchError:
        raise
    except TimeoutError:
        raise FetchError(url, f"timed out after {limits.timeout:g} s") from None
    except ssl.SSLError as exc:
        raise FetchError(url, f"TLS failed ({exc.reason or exc})") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(url, f"connection failed ({_describe(exc)})") from None
    finally:
        connection.close()


def _read_body(
    raw: http.client.HTTPResponse,
    headers: dict[str, str],
    url: str,
    limits: Limits,
    deadline: float,
) -> bytes:
    cap = limits.max_bytes
    too_large = f"is larger than the {_size(cap)} limit"
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(url, f"{too_large} ({_size(int(declared))})")
    encoding = headers.get("content-encoding", "").strip().lower()
    inflate = None
    if encoding in {"gzip", "x-gzip"}:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflate = zlib.decompressobj()
    out = bytearray()
    received = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(url, f"timed out after {limits.timeout:g} s")
        chunk = raw.read1(_CHUNK) if hasattr(raw, "read1") else raw.read(_CHUNK)
        if not chunk:
            break
        received += len(chunk)
        if received > cap:
            raise FetchError(url, too_large)
        if inflate is None:
            out += chunk
        else:
            # Bounded inflation: a small compressed body must not expand past the cap.
            out += inflate.decompress(chunk, cap + 1 - len(out))
            if inflate.unconsumed_tail:
                raise FetchError(url, f"{too_large} once decompressed")
        if len(out) > cap:
            raise FetchError(url, too_large)
    if inflate is not None:
        out += inflate.flush()
        if len(out) > cap:
            raise FetchError(url, f"{too_large} once decompressed")
    return bytes(out)


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
