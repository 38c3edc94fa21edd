"""A real HTTP server on loopback for the feed tests, with routes the tests change while it runs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow server)
    etag: str | None = None  # answer 304 to a matching If-None-Match
    last_modified: str | None = None  # answer 304 to a matching If-Modified-Since
    stream_bytes: int = 0  # send this many bytes of filler instead of body (no Content-Length)
    declare_length: bool = True


@dataclass(frozen=True)
class Request:
    """A request the server answered."""

    path: str
    headers: dict[str, str]
    status: int


class Site:
    """A loopback HTTP server; set routes[path] and read requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.arrivals: list[str] = []  # paths, as requests arrive (before any delay)
        self._stopping = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site._answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """Return the absolute URL of path on this server."""
        return self.base + path

    def close(self) -> None:
        """Stop the server."""
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def hits(self, path: str) -> list[Request]:
        """List the requests made for path."""
        return [r for r in list(self.requests) if r.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.partition("?")[0]
        self.arrivals.append(path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        route = self.routes.get(path)
        if route is None:
            self._send(handler, path, headers, Route(b"not found", 404, "text/plain"))
            return
        if route.delay and self._stopping.wait(route.delay):
            return
        if (route.etag and headers.get("if-none-match") == route.etag) or (
            route.last_modified and headers.get("if-modified-since") == route.last_modified
        ):
            self._send(handler, path, headers, Route(b"", 304, ""), not_modified=route)
            return
        self._send(handler, path, headers, route)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        path: str,
        headers: dict[str, str],
        route: Route,
        not_modified: Route | None = None,
    ) -> None:
        self.requests.append(Request(path, headers, route.status))
        try:
            handler.send_response(route.status)
            if route.content_type:
                handler.send_header("Content-Type", route.content_type)
            validators = not_modified or route
            if validators.etag:
                handler.send_header("ETag", validators.etag)
            if validators.last_modified:
                handler.send_header("Last-Modified", validators.last_modified)
            for name, value in route.headers.items():
                handler.send_header(name, value)
            if route.stream_bytes:
                if route.declare_length:
                    handler.send_header("Content-Length", str(route.stream_bytes))
                handler.send_header("Connection", "close")
                handler.end_headers()
                chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
                sent = 0
                while sent < route.stream_bytes and not self._stopping.is_set():
                    handler.wfile.write(chunk)
                    sent += len(chunk)
                handler.close_connection = True
                return
            handler.send_header("Content-Length", str(len(route.body)))
            handler.end_headers()
            if route.status != 304:
                handler.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client stopped reading (a size cap)


def wait_for(condition: object, timeout: float = 60.0, every: float = 0.05) -> None:
    """Poll condition() until it is true; fail after timeout seconds."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)
