"""Gateway plumbing: sessions, connections and transport compression."""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Gateway intents (bit positions per the Discord docs).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_DIRECT_MESSAGE_REACTIONS = 1 << 13
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Gateway close codes.
CLOSE_UNKNOWN_ERROR = 4000
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_INVALID_API_VERSION = 4012
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...


class _ZlibStream:
    """One zlib context per connection, flushed with Z_SYNC_FLUSH after every payload."""

    def __init__(self) -> None:
        self._ctx = zlib.compressobj()

    def compress(self, data: bytes) -> bytes:
        # discord.py buffers until it sees the 00 00 ff ff sync-flush suffix.
        return self._ctx.compress(data) + self._ctx.flush(zlib.Z_SYNC_FLUSH)


class _ZstdStream:
    """One zstd stream per connection, block-flushed so each frame decodes on its own."""

    def __init__(self) -> None:
        import zstandard  # type: ignore[import-not-found]

        self._flush_mode = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        self._ctx = zstandard.ZstdCompressor().compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._ctx.compress(data) + self._ctx.flush(self._flush_mode)


def make_compressor(mode: str | None) -> _Compressor | None:
    """Return the transport compressor for a `compress=` gateway query value."""
    if not mode:
        return None
    if mode == "zlib-stream":
        return _ZlibStream()
    if mode == "zstd-stream":
        return _ZstdStream()
    raise ValueError(f"unsupported gateway compression {mode!r}")


@dataclass
class GatewayConnection:
    """One websocket connection from the bot."""

    ws: web.WebSocketResponse
    request: web.Request
    compress: str | None
    path: str
    compressor: _Compressor | None = None
    session: GatewaySession | None = None
    outbox: asyncio.Queue[tuple[str, Any, asyncio.Future[None] | None]] = field(
        default_factory=asyncio.Queue
    )
    writer: asyncio.Task[None] | None = None
    heartbeats: int = 0
    closed_by_fake: bool = False
    dropped: bool = False
    sent_close_code: int | None = None

    def send(self, payload: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a payload; the returned future resolves once it is written."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.outbox.put_nowait(("send", payload, future))
        return future

    def close_after_pending(self, code: int, message: str = "") -> None:
        """Close with a code once everything queued before has been written."""
        self.closed_by_fake = True
        if self.sent_close_code is None:
            self.sent_close_code = code
        self.outbox.put_nowait(("close", (code, message), None))

    def drop(self) -> None:
        """Cut the TCP connection without a close frame, like a network failure."""
        self.dropped = True
        self.closed_by_fake = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def run_writer(self) -> None:
        """Write queued payloads in order until the connection closes."""
        while True:
            action, item, future = await self.outbox.get()
            try:
                if action == "close":
                    code, message = item
                    with contextlib.suppress(Exception):
                        await self.ws.close(code=code, message=message.encode())
                    return
                raw = json.dumps(item, separators=(",", ":")).encode()
                if self.compressor is None:
                    await self.ws.send_str(raw.decode())
                else:
                    await self.ws.send_bytes(self.compressor.compress(raw))
                if future is not None and not future.done():
                    future.set_result(None)
            except Exception as exc:
                if future is not None and not future.done():
                    future.set_exception(exc)
                # A broken socket ends this writer; the reader side notices and cleans up.
                return

    def fail_pending(self) -> None:
        """Resolve futures of payloads that will never be written on this connection."""
        while not self.outbox.empty():
            _, _, future = self.outbox.get_nowait()
            if future is not None and not future.done():
                future.set_result(None)


@dataclass
class GatewaySession:
    """An identified gateway session; survives disconnects until invalidated."""

    session_id: str
    token: str
    intents: int
    shard: tuple[int, int] | None
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    resumable: bool = True
    presence: dict[str, Any] | None = None

    def covers_guild(self, guild_id: int | None) -> bool:
        """Return whether events for this guild (None for DMs) belong to this shard."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % shard_count == shard_id

    def next_dispatch(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Stamp a dispatch with the next sequence number and keep it for RESUME replay."""
        self.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.log.append(payload)
        return payload
