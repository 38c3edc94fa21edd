"""A fake Discord (REST + gateway) on 127.0.0.1 for end-to-end tests of real discord.py bots."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import yarl
from aiohttp import BodyPartReader, WSMsgType, web

from . import errors as err
from .errors import DiscordHTTPError, FormErrors
from .gateway import (
    CLOSE_ALREADY_AUTHENTICATED,
    CLOSE_AUTHENTICATION_FAILED,
    CLOSE_DECODE_ERROR,
    CLOSE_DISALLOWED_INTENTS,
    CLOSE_INVALID_API_VERSION,
    CLOSE_INVALID_INTENTS,
    CLOSE_INVALID_SHARD,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_UNKNOWN_ERROR,
    CLOSE_UNKNOWN_OPCODE,
    INTENT_DIRECT_MESSAGE_REACTIONS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGE_REACTIONS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILD_PRESENCES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_RECONNECT,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE_UPDATE,
    PRIVILEGED_INTENTS,
    GatewayConnection,
    GatewaySession,
    make_compressor,
)
from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    CHANNEL_DM,
    CHANNEL_PRIVATE_THREAD,
    CHANNEL_PUBLIC_THREAD,
    CHANNEL_TEXT,
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    INTERACTION_MODAL_SUBMIT,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeUser,
    InjectedFailure,
    RecordedRequest,
)
from .snowflake import SnowflakeGenerator, now_iso, snowflake_iso
from .validation import (
    BUTTON,
    FLAG_EPHEMERAL,
    FLAG_IS_COMPONENTS_V2,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    LINK_STYLE,
    SELECT_TYPES,
    TEXT_INPUT,
    is_empty_message,
    iter_components,
    validate_autocomplete,
    validate_command,
    validate_commands,
    validate_message,
    validate_modal,
)

log = logging.getLogger("tests.fakediscord")

API_PREFIX = "/api/v10"
RESUME_PATH = "/resume-gateway/"
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# How long the wait_* helpers wait by default: a cap for a loaded 2-core CI machine, not a
# speed target (a passing wait returns as soon as its condition holds).
WAIT_CAP = 30.0
# Flags a bot may set when creating messages; anything else is silently dropped by Discord.
_CHANNEL_MESSAGE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2
_INTERACTION_MESSAGE_FLAGS = _CHANNEL_MESSAGE_FLAGS | FLAG_EPHEMERAL
# Application flags for an unverified bot with the privileged intents switched on.
_APP_FLAG_PRESENCE_LIMITED = 1 << 13
_APP_FLAG_MEMBERS_LIMITED = 1 << 15
_APP_FLAG_CONTENT_LIMITED = 1 << 19
_APP_FLAG_COMMAND_BADGE = 1 << 23

_USER_MENTION_RE = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d{15,21})>")
_EVERYONE_RE = re.compile(r"@(everyone|here)\b")

UserLike: TypeAlias = FakeUser | int
InteractionLike: TypeAlias = FakeInteraction | int
Handler: TypeAlias = Callable[..., Awaitable[tuple[int, Any]]]

# Option types of application commands.
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10
OPT_ATTACHMENT = 11


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[dict[str, Any]]
    headers: dict[str, str]
    record: RecordedRequest


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool


@dataclass
class FakeWorld:
    """Ids seeded by `FakeDiscord.populate_default_world` (used by the pytest fixture)."""

    guild_id: int
    channel_id: int
    alice: FakeUser
    bob: FakeUser


class FakeDiscord:
    """A fake Discord API + gateway on loopback that a real discord.py client can log in to."""

    def __init__(
        self,
        token: str = "fake-token-abc.def.ghi",
        app_id: int | None = None,
        bot_user_id: int | None = None,
        bot_name: str = "QABot",
        *,
        heartbeat_interval_ms: int = 41250,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        interaction_ack_timeout: float = 3.0,
        interaction_token_ttl: float = 15 * 60.0,
        echo_bot_messages: bool = True,
        recommended_shards: int = 1,
        host: str = "127.0.0.1",
    ) -> None:
        """Configure the fake; nothing listens until `start()`."""
        self.token = token
        self._ids = SnowflakeGenerator()
        self.app_id = app_id or self._ids.next()
        self.bot_user = FakeUser(id=bot_user_id or self.app_id, username=bot_name, bot=True)
        self.owner = FakeUser(id=self._ids.next(), username="app-owner", guild_ids=set())
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allowed_privileged_intents = allowed_privileged_intents
        self.interaction_ack_timeout = interaction_ack_timeout
        self.interaction_token_ttl = interaction_token_ttl
        self.echo_bot_messages = echo_bot_messages
        self.recommended_shards = recommended_shards
        # Set False to stop answering heartbeats (a "zombie" connection discord.py must detect).
        self.ack_heartbeats = True
        self.host = host
        self.port: int | None = None
        self.world: FakeWorld | None = None

        self.users: dict[int, FakeUser] = {
            self.bot_user.id: self.bot_user,
            self.owner.id: self.owner,
        }
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self._dm_by_user: dict[int, int] = {}
        self._messages: dict[int, dict[str, Any]] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._message_history: dict[int, list[dict[str, Any]]] = {}
        self._deleted_messages: dict[int, dict[str, Any]] = {}
        self._consumed: set[int] = set()
        self._nonces: dict[tuple[int, str], int] = {}  # (author, nonce) -> message id
        self.nonce_hits = 0  # sends answered with an earlier message (enforce_nonce)
        self._attachment_data: dict[int, bytes] = {}
        self._interactions: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self.bulk_overwrite_calls: dict[int | None, int] = {}

        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[RecordedRequest] = []
        self._failures: list[InjectedFailure] = []
        self.internal_errors: list[BaseException] = []

        self.sessions: dict[str, GatewaySession] = {}
        self.connections: list[GatewayConnection] = []
        self.gateway_connects: list[str] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self.replayed_event_count = 0
        self.identify_payloads: list[dict[str, Any]] = []
        self.resume_payloads: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        # (who, code): ("fake", 4004), ("client", 1000), ("fake", 1006) for a TCP drop.
        self.gateway_closes: list[tuple[str, int | None]] = []

        self._pulse: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._saved_globals: tuple[str, yarl.URL] | None = None
        self._routes = self._build_routes()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeDiscord:
        """Listen on an ephemeral loopback port and point discord.py at it."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES * 2)
        app.router.add_route("*", "/{tail:.*}", self._handle_http)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.install()
        return self

    async def stop(self) -> None:
        """Close every gateway connection, stop listening and restore discord.py globals."""
        self.uninstall()
        for conn in list(self.connections):
            conn.close_after_pending(1001, "fake discord stopping")
        if self.connections:
            with contextlib.suppress(TimeoutError):
                await self.wait_for(
                    lambda: not self.connections, timeout=2.0, what="sockets closed"
                )
        for conn in list(self.connections):
            conn.drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        """Start the fake for an `async with` block."""
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the fake at the end of an `async with` block."""
        await self.stop()

    def install(self) -> None:
        """Point discord.py's REST base URL and default gateway at this fake."""
        import discord.gateway
        import discord.http

        if self._saved_globals is None:
            self._saved_globals = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        discord.http.Route.BASE = self.base_url
        # discord.py 2.x never asks GET /gateway for a plain Client: it dials DEFAULT_GATEWAY.
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def uninstall(self) -> None:
        """Restore the discord.py globals that `install()` replaced."""
        if self._saved_globals is None:
            return
        import discord.gateway
        import discord.http

        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
            self._saved_globals
        )
        self._saved_globals = None

    @property
    def root_url(self) -> str:
        """Return `http://127.0.0.1:<port>`."""
        if self.port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Return the REST base URL that replaces `https://discord.com/api/v10`."""
        return self.root_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Return the websocket URL that replaces `wss://gateway.discord.gg/`."""
        return f"ws://{self.host}:{self.port}/"

    @property
    def resume_gateway_url(self) -> str:
        """Return the `resume_gateway_url` sent in READY (a distinct path, to observe resumes)."""
        return f"ws://{self.host}:{self.port}{RESUME_PATH}"

    # ------------------------------------------------------------------ waiting helpers

    def _notify(self) -> None:
        if self._pulse is not None:
            self._pulse.set()
        self._pulse = None

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = WAIT_CAP, what: str = "condition"
    ) -> Any:
        """Wait until `predicate()` returns something truthy and return it."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = predicate()
                    if result:
                        return result
                    if self._pulse is None:
                        self._pulse = asyncio.Event()
                    pulse = self._pulse
                    # Re-check periodically too, for conditions that depend on the clock.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(pulse.wait(), 0.05)
        except TimeoutError:
            detail = f"FakeDiscord: timed out after {timeout}s waiting for {what}"
            if self.internal_errors:
                detail += f" (the fake itself failed: {self.internal_errors!r})"
            raise TimeoutError(detail) from None

    @property
    def connected(self) -> bool:
        """Return whether some session currently has a live gateway connection."""
        return any(s.connection is not None for s in self.sessions.values())

    async def wait_until_connected(self, timeout: float = WAIT_CAP) -> None:
        """Wait until a bot has identified (or resumed) and is attached to the gateway."""
        await self.wait_for(lambda: self.connected, timeout, "a gateway session")

    # ------------------------------------------------------------------ world building

    def add_guild(self, guild_id: int | None = None, name: str = "Test Guild") -> int:
        """Create a guild the bot is in; returns its id (GUILD_CREATE follows READY)."""
        gid = guild_id or self._ids.next()
        guild = FakeGuild(id=gid, name=name, owner_id=self.owner.id)
        guild.roles[gid] = self._role_payload(gid, "@everyone", ALL_PERMISSIONS, position=0)
        self.guilds[gid] = guild
        self._dispatch("GUILD_CREATE", lambda s: self._guild_create_payload(guild, s), guild_id=gid)
        return gid

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> int:
        """Create a role in a guild and return its id."""
        guild = self.guilds[guild_id]
        rid = self._ids.next()
        guild.roles[rid] = self._role_payload(rid, name, permissions, position=len(guild.roles))
        self._dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild_id), "role": copy.deepcopy(guild.roles[rid])},
            guild_id=guild_id,
            intent=INTENT_GUILDS,
        )
        return rid

    def add_text_channel(
        self,
        guild_id: int,
        name: str = "general",
        *,
        channel_id: int | None = None,
        topic: str | None = None,
    ) -> int:
        """Create a text channel in a guild and return its id."""
        guild = self.guilds[guild_id]
        cid = channel_id or self._ids.next()
        channel = FakeChannel(
            id=cid,
            type=CHANNEL_TEXT,
            name=name,
            guild_id=guild_id,
            position=len(guild.channel_ids),
            topic=topic,
        )
        self.channels[cid] = channel
        guild.channel_ids.append(cid)
        self._channel_messages[cid] = []
        self._dispatch("CHANNEL_CREATE", channel.payload(), guild_id=guild_id, intent=INTENT_GUILDS)
        return cid

    def add_thread(
        self,
        parent_channel_id: int,
        name: str = "thread",
        *,
        private: bool = False,
        owner: UserLike | None = None,
        thread_id: int | None = None,
    ) -> int:
        """Create an active thread under a text channel and return its id."""
        parent = self._channel(parent_channel_id)
        if parent.guild_id is None or parent.is_thread:
            raise ValueError("threads live under guild text channels")
        tid = thread_id or self._ids.next()
        thread = FakeChannel(
            id=tid,
            type=CHANNEL_PRIVATE_THREAD if private else CHANNEL_PUBLIC_THREAD,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=int(owner) if owner is not None else self.owner.id,
        )
        self.channels[tid] = thread
        self.guilds[parent.guild_id].thread_ids.append(tid)
        self._channel_messages[tid] = []
        self._dispatch(
            "THREAD_CREATE",
            {**thread.payload(), "newly_created": True},
            guild_id=parent.guild_id,
            intent=INTENT_GUILDS,
        )
        return tid

    def add_user(
        self,
        username: str = "alice",
        bot: bool = False,
        *,
        user_id: int | None = None,
        global_name: str | None = None,
        guild_ids: Iterable[int] | None = None,
    ) -> FakeUser:
        """Create a user; by default a member of every guild (past and future)."""
        user = FakeUser(
            id=user_id or self._ids.next(),
            username=username,
            bot=bot,
            global_name=global_name,
            guild_ids=None if guild_ids is None else set(guild_ids),
        )
        self.users[user.id] = user
        for gid in self.guilds:
            if user.is_member_of(gid):
                self._dispatch(
                    "GUILD_MEMBER_ADD",
                    {**user.member_payload(), "guild_id": str(gid)},
                    guild_id=gid,
                    intent=INTENT_GUILD_MEMBERS,
                )
        return user

    def dm_channel_for(self, user: UserLike) -> int:
        """Return the id of the DM channel between the bot and a user, creating it if needed."""
        uid = int(user)
        if uid not in self.users:
            raise KeyError(f"unknown user {uid}")
        cid = self._dm_by_user.get(uid)
        if cid is None:
            cid = self._ids.next()
            self.channels[cid] = FakeChannel(id=cid, type=CHANNEL_DM, name=None, recipient_id=uid)
            self._channel_messages[cid] = []
            self._dm_by_user[uid] = cid
        return cid

    def set_role_permissions(self, guild_id: int, role_id: int, permissions: int) -> None:
        """Change a role's permissions (the @everyone role's id is the guild's id)."""
        role = self.guilds[guild_id].roles[role_id]
        role["permissions"] = str(permissions)
        self._dispatch(
            "GUILD_ROLE_UPDATE",
            {"guild_id": str(guild_id), "role": copy.deepcopy(role)},
            guild_id=guild_id,
            intent=INTENT_GUILDS,
        )

    def give_role(self, user: UserLike, role_id: int) -> None:
        """Give a user a role (member role changes are not announced: no GUILD_MEMBERS)."""
        member = self._user(user)
        if role_id not in member.role_ids:
            member.role_ids.append(role_id)

    def member_permissions(self, guild_id: int, user: FakeUser) -> int:
        """Return a member's permissions as Discord computes them without channel overwrites.

        The owner has all; otherwise @everyone's permissions and those of the member's roles,
        and all of them with Administrator.
        """
        guild = self.guilds.get(guild_id)
        if guild is None:
            return ALL_PERMISSIONS
        if guild.owner_id == user.id:
            return ALL_PERMISSIONS
        permissions = int(guild.roles[guild_id]["permissions"]) if guild_id in guild.roles else 0
        for role_id in user.role_ids:
            role = guild.roles.get(role_id)
            if role is not None:
                permissions |= int(role["permissions"])
        return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions

    def populate_default_world(self) -> FakeWorld:
        """Seed one guild, one #general text channel and users alice and bob."""
        guild_id = self.add_guild(name="Test Guild")
        channel_id = self.add_text_channel(guild_id, "general")
        alice = self.add_user("alice")
        bob = self.add_user("bob")
        self.world = FakeWorld(guild_id=guild_id, channel_id=channel_id, alice=alice, bob=bob)
        return self.world

    def _role_payload(self, rid: int, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {
            "id": str(rid),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": True,
            "flags": 0,
        }

    def _members_of(self, guild_id: int) -> list[FakeUser]:
        return [u for u in self.users.values() if u.is_member_of(guild_id)]

    def _guild_create_payload(self, guild: FakeGuild, session: GatewaySession) -> dict[str, Any]:
        members = self._members_of(guild.id)
        visible = members
        if not session.intents & INTENT_GUILD_MEMBERS:
            # Without GUILD_MEMBERS Discord only includes the bot itself in GUILD_CREATE.
            visible = [m for m in members if m.id == self.bot_user.id]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [copy.deepcopy(r) for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": guild.channel_ids[0] if guild.channel_ids else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": snowflake_iso(guild.id),
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "voice_states": [],
            "members": [m.member_payload() for m in visible],
            "channels": [self.channels[c].payload() for c in guild.channel_ids],
            "threads": [self.channels[t].payload() for t in guild.thread_ids],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # ------------------------------------------------------------------ observation

    def _is_bot_message(self, record: dict[str, Any]) -> bool:
        return int(record["author"]["id"]) == self.bot_user.id

    def messages(self, channel_id: int, *, include_users: bool = False) -> list[dict[str, Any]]:
        """Return (copies of) the current bot messages in a channel, oldest first."""
        out = []
        for mid in self._channel_messages.get(channel_id, []):
            record = self._messages[mid]
            if include_users or self._is_bot_message(record):
                out.append(copy.deepcopy(record))
        return out

    def message(self, message_id: int) -> dict[str, Any]:
        """Return a copy of one stored message (bot or user)."""
        return copy.deepcopy(self._messages[message_id])

    def message_history(self, message_id: int) -> list[dict[str, Any]]:
        """Return every version of a message, oldest first (creation, then each edit)."""
        return copy.deepcopy(self._message_history.get(message_id, []))

    def deleted_messages(self) -> list[dict[str, Any]]:
        """Return copies of the messages deleted so far."""
        return copy.deepcopy(list(self._deleted_messages.values()))

    def attachment_bytes(self, attachment_id: int) -> bytes:
        """Return the uploaded bytes of an attachment."""
        return self._attachment_data[attachment_id]

    async def wait_for_bot_message(
        self,
        channel_id: int | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = WAIT_CAP,
        *,
        include_seen: bool = False,
        include_interactions: bool = False,
    ) -> dict[str, Any]:
        """Wait for the oldest bot message not returned by an earlier call, and return it.

        Only messages the bot posted itself (REST `POST /channels/{id}/messages`) count unless
        `include_interactions`: interaction responses belong to `wait_for_interaction_done`.
        Messages still "thinking" (LOADING flag after a defer) are skipped until edited. The
        predicate sees the message's current state, so it also catches edits.
        """

        def find() -> dict[str, Any] | None:
            for mid in sorted(self._messages):
                record = self._messages[mid]
                if not self._is_bot_message(record):
                    continue
                if channel_id is not None and int(record["channel_id"]) != channel_id:
                    continue
                if (record.get("flags") or 0) & FLAG_LOADING:
                    continue
                if not include_interactions and "interaction_metadata" in record:
                    continue
                if not include_seen and mid in self._consumed:
                    continue
                if predicate is not None and not predicate(copy.deepcopy(record)):
                    continue
                self._consumed.add(mid)
                return copy.deepcopy(record)
            return None

        where = f"channel {channel_id}" if channel_id is not None else "any channel"
        return await self.wait_for(find, timeout, f"a bot message in {where}")

    def interaction_responses(self, inter: InteractionLike) -> list[dict[str, Any]]:
        """Return what the bot did for an interaction, in order.

        Entries are dicts with `kind` in {"callback", "edit_original", "delete_original",
        "followup", "edit_followup", "delete_followup"}; callbacks carry `type` and `data`,
        and entries that produced a message carry `message_id` and a `message` snapshot.
        """
        return copy.deepcopy(self._interaction(inter).responses)

    def interaction(self, inter: InteractionLike) -> FakeInteraction:
        """Return the live FakeInteraction record for an interaction id."""
        return self._interaction(inter)

    def interaction_failed(self, inter: InteractionLike) -> bool:
        """Return whether the ack deadline passed without an accepted callback."""
        it = self._interaction(inter)
        start = it.sent_at if it.sent_at is not None else it.created_at
        late = asyncio.get_running_loop().time() - start > self.interaction_ack_timeout
        return it.callback_type is None and late

    async def wait_for_interaction_done(
        self, inter: InteractionLike, timeout: float = WAIT_CAP
    ) -> list[dict[str, Any]]:
        """Wait until the user sees a final result (not just "thinking") and return the log."""
        it = self._interaction(inter)
        await self.wait_for(it.is_done, timeout, f"interaction {it.id} to be answered")
        return self.interaction_responses(it)

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Return the application commands registered globally or for one guild."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    @property
    def bulk_overwrite_count(self) -> int:
        """Return how many times the bot bulk-overwrote commands (all scopes)."""
        return sum(self.bulk_overwrite_calls.values())

    def requests_matching(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """Return logged REST requests whose method and API path match."""
        return [r for r in self.requests if r.matches(method, path_regex)]

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        json_body: dict[str, Any] | None = None,
        retry_after: float | None = None,
        times: int = 1,
        *,
        is_global: bool = False,
        scope: str = "user",
        headers: dict[str, str] | None = None,
        after_effect: bool = False,
    ) -> InjectedFailure:
        """Make the next `times` matching REST requests fail before they take effect.

        `path_regex` is searched in the API path without the `/api/v10` prefix, e.g.
        `r"^/channels/\\d+/messages$"`. For 429s the body gets `retry_after`/`global` and the
        `Retry-After`, `X-RateLimit-*` and `Via` headers discord.py needs to retry. A header
        value of "" in `headers` removes that header (e.g. `{"Via": ""}` mimics a Cloudflare ban).
        With `after_effect=True` the request is carried out first and only its response is
        the error, as when a proxy times out after Discord did the work: a client that
        retries then repeats an action that already happened.
        """
        failure = InjectedFailure(
            method=method.upper(),
            pattern=re.compile(path_regex),
            status=status,
            json_body=json_body,
            retry_after=retry_after,
            times=times,
            is_global=is_global,
            scope="global" if is_global else scope,
            headers=dict(headers or {}),
            after_effect=after_effect,
        )
        self._failures.append(failure)
        return failure

    def _take_failure(self, method: str, path: str) -> InjectedFailure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.matches(method, path):
                failure.times -= 1
                if failure.times == 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _failure_error(self, failure: InjectedFailure, bucket: str) -> DiscordHTTPError:
        headers: dict[str, str] = {}
        if failure.status == 429:
            retry_after = failure.retry_after if failure.retry_after is not None else 0.05
            body = failure.json_body or {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": failure.is_global,
                "code": 0,
            }
            body.setdefault("retry_after", retry_after)
            body.setdefault("global", failure.is_global)
            headers = {
                "Retry-After": str(max(1, int(retry_after + 0.999))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Scope": failure.scope,
            }
            if failure.is_global:
                headers["X-RateLimit-Global"] = "true"
        else:
            body = failure.json_body or _default_error_body(failure.status)
        headers.update(failure.headers)
        return DiscordHTTPError(failure.status, body, headers)

    def _live_connections(self, session_id: str | None) -> list[GatewayConnection]:
        conns = [
            s.connection
            for s in self.sessions.values()
            if s.connection is not None and (session_id is None or s.session_id == session_id)
        ]
        return conns

    async def drop_gateway(
        self, close_code: int | None = None, session_id: str | None = None
    ) -> None:
        """Kill live gateway connections: TCP abort (like a network drop) or a close code.

        Sessions stay resumable; events dispatched meanwhile are replayed on RESUME.
        """
        conns = self._live_connections(session_id)
        for conn in conns:
            if conn.session is not None:
                conn.session.connection = None
            if close_code is None:
                conn.drop()
            else:
                conn.close_after_pending(close_code, "fake discord closing")
        if conns:
            await self.wait_for(
                lambda: all(c not in self.connections for c in conns), WAIT_CAP, "dropped sockets"
            )

    async def send_reconnect(self, session_id: str | None = None) -> None:
        """Send op 7 RECONNECT; discord.py closes and resumes."""
        await self._send_op(OP_RECONNECT, None, session_id)

    async def send_invalid_session(self, resumable: bool, session_id: str | None = None) -> None:
        """Send op 9 INVALID_SESSION; a non-resumable one also discards the session."""
        for conn in self._live_connections(session_id):
            session = conn.session
            if not resumable and session is not None:
                session.resumable = False
                self.sessions.pop(session.session_id, None)
        await self._send_op(OP_INVALID_SESSION, resumable, session_id, include_dead=True)

    async def _send_op(
        self, op: int, data: Any, session_id: str | None, *, include_dead: bool = False
    ) -> None:
        conns = [
            c
            for c in self.connections
            if c.session is not None
            and (session_id is None or c.session.session_id == session_id)
            and (include_dead or c.session.session_id in self.sessions)
        ]
        futures = [c.send({"op": op, "d": data}) for c in conns]
        if futures:
            await asyncio.wait(futures, timeout=2.0)

    # ------------------------------------------------------------------ gateway dispatch

    def _dispatch(
        self,
        event: str,
        data: dict[str, Any] | Callable[[GatewaySession], dict[str, Any] | None],
        *,
        guild_id: int | None,
        intent: int | None = None,
    ) -> list[asyncio.Future[None]]:
        futures: list[asyncio.Future[None]] = []
        for session in list(self.sessions.values()):
            if not session.covers_guild(guild_id):
                continue
            if intent is not None and not session.intents & intent:
                continue
            payload_data = data(session) if callable(data) else copy.deepcopy(data)
            if payload_data is None:
                continue
            payload = session.next_dispatch(event, payload_data)
            if session.connection is not None:
                futures.append(session.connection.send(payload))
        return futures

    async def _deliver(self, futures: list[asyncio.Future[None]]) -> None:
        if futures:
            await asyncio.wait(futures, timeout=2.0)

    def _message_intent(self, record: dict[str, Any]) -> int:
        return INTENT_GUILD_MESSAGES if "guild_id" in record else INTENT_DIRECT_MESSAGES

    def _can_see_content(self, record: dict[str, Any], intents: int) -> bool:
        if intents & INTENT_MESSAGE_CONTENT or "guild_id" not in record:
            return True
        if self._is_bot_message(record):
            return True
        return any(int(u["id"]) == self.bot_user.id for u in record.get("mentions", []))

    def _redacted(self, record: dict[str, Any], intents: int) -> dict[str, Any]:
        data = self._public(record)
        if not self._can_see_content(record, intents):
            # Discord's MESSAGE_CONTENT rule blanks these fields rather than omitting them.
            data.update(content="", embeds=[], attachments=[], components=[])
            data.pop("poll", None)
        referenced = data.get("referenced_message")
        if referenced is not None:
            data["referenced_message"] = self._redacted(referenced, intents)
        return data

    def _message_event(self, record: dict[str, Any]) -> Callable[[GatewaySession], dict[str, Any]]:
        def build(session: GatewaySession) -> dict[str, Any]:
            data = self._redacted(record, session.intents)
            if "guild_id" in record:
                gid = int(record["guild_id"])
                author = self.users.get(int(record["author"]["id"]))
                if author is not None and author.is_member_of(gid) and "webhook_id" not in record:
                    data["member"] = author.member_payload(with_user=False)
                for mention in data["mentions"]:
                    user = self.users.get(int(mention["id"]))
                    if user is not None and user.is_member_of(gid):
                        mention["member"] = user.member_payload(with_user=False)
            return data

        return build

    def _dispatch_message(self, event: str, record: dict[str, Any]) -> list[asyncio.Future[None]]:
        if (record.get("flags") or 0) & FLAG_EPHEMERAL:
            return []
        gid = int(record["guild_id"]) if "guild_id" in record else None
        return self._dispatch(
            event, self._message_event(record), guild_id=gid, intent=self._message_intent(record)
        )

    # ------------------------------------------------------------------ simulated users

    def _user(self, user: UserLike) -> FakeUser:
        found = self.users.get(int(user))
        if found is None:
            raise KeyError(f"unknown user {int(user)}; create it with add_user()")
        return found

    def _channel(self, channel_id: int) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise KeyError(f"unknown channel {channel_id}")
        return channel

    def _check_can_post(self, channel: FakeChannel, user: FakeUser) -> None:
        if channel.guild_id is not None and not user.is_member_of(channel.guild_id):
            raise ValueError(f"{user.username} is not a member of guild {channel.guild_id}")
        if channel.type == CHANNEL_DM and user.id not in (channel.recipient_id, self.bot_user.id):
            raise ValueError(f"{user.username} is not a recipient of DM channel {channel.id}")

    async def user_sends_message(
        self,
        channel_id: int,
        user: UserLike,
        content: str = "",
        mentions: Iterable[UserLike] | None = None,
        mention_everyone: bool = False,
        reply_to: int | None = None,
        *,
        reply_ping: bool = True,
        embeds: list[dict[str, Any]] | None = None,
        attachments: list[tuple[str, bytes]] | None = None,
    ) -> dict[str, Any]:
        """Post a message as a user and send MESSAGE_CREATE to the bot; returns the full message.

        Mentions are parsed from `<@id>` markup in `content` like Discord does, plus any ids in
        `mentions`. A reply pings the replied-to author unless `reply_ping=False`.
        """
        channel = self._channel(channel_id)
        author = self._user(user)
        self._check_can_post(channel, author)
        payload: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            target = self._messages.get(reply_to)
            if target is None or int(target["channel_id"]) != channel.id:
                raise LookupError(f"no message {reply_to} in channel {channel.id} to reply to")
            payload["message_reference"] = {"message_id": str(reply_to)}
        files = [
            {"field": f"files[{i}]", "filename": name, "content_type": None, "data": data}
            for i, (name, data) in enumerate(attachments or [])
        ]
        built_attachments = self._build_attachments(payload, files, channel.id, existing=[])
        record = self._compose_message(
            channel,
            author,
            payload,
            built_attachments,
            extra_mentions=[int(m) for m in mentions or []],
            force_everyone=mention_everyone,
            reply_ping=reply_ping,
        )
        self._store_message(record)
        await self._deliver(self._dispatch_message("MESSAGE_CREATE", record))
        return copy.deepcopy(record)

    async def user_edits_message(self, message_id: int, content: str) -> dict[str, Any]:
        """Edit a user's message and send MESSAGE_UPDATE."""
        record = self._messages[message_id]
        record["content"] = content
        record["edited_timestamp"] = now_iso()
        channel = self._channel(int(record["channel_id"]))
        mention_ids, roles, everyone = self._parse_mentions(
            content, channel, None, allowed_mentions=None
        )
        record["mentions"] = [self.users[u].payload() for u in mention_ids]
        record["mention_roles"] = [str(r) for r in roles]
        record["mention_everyone"] = everyone
        self._snapshot(record)
        await self._deliver(self._dispatch_message("MESSAGE_UPDATE", record))
        return copy.deepcopy(record)

    async def user_deletes_message(self, message_id: int) -> None:
        """Delete a message as its author and send MESSAGE_DELETE."""
        await self._deliver(self._delete_message(message_id))

    async def user_adds_reaction(self, message_id: int, emoji: str, user: UserLike) -> None:
        """React to a message with a unicode emoji and send MESSAGE_REACTION_ADD."""
        record = self._messages[message_id]
        reactor = self._user(user)
        data: dict[str, Any] = {
            "user_id": str(reactor.id),
            "channel_id": record["channel_id"],
            "message_id": record["id"],
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
            "message_author_id": record["author"]["id"],
        }
        gid = None
        if "guild_id" in record:
            gid = int(record["guild_id"])
            data["guild_id"] = record["guild_id"]
            data["member"] = reactor.member_payload()
        intent = (
            INTENT_GUILD_MESSAGE_REACTIONS if gid is not None else INTENT_DIRECT_MESSAGE_REACTIONS
        )
        await self._deliver(
            self._dispatch("MESSAGE_REACTION_ADD", data, guild_id=gid, intent=intent)
        )

    # ---- interactions

    def _new_interaction(
        self,
        itype: int,
        data: dict[str, Any],
        user: FakeUser,
        channel: FakeChannel,
        *,
        message: dict[str, Any] | None = None,
        command_name: str | None = None,
    ) -> FakeInteraction:
        iid = self._ids.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        guild_id = channel.guild_id
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "channel_id": str(channel.id),
            "channel": channel.payload(self.users),
            "app_permissions": str(ALL_PERMISSIONS),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": MAX_UPLOAD_BYTES,
        }
        if guild_id is not None:
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member={
                    **user.member_payload(),
                    "permissions": str(self.member_permissions(guild_id, user)),
                },
                authorizing_integration_owners={"0": str(guild_id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                authorizing_integration_owners={"0": str(user.id)},
                context=1,
            )
        if message is not None:
            payload["message"] = self._public(message)
        inter = FakeInteraction(
            id=iid,
            token=token,
            type=itype,
            payload=payload,
            user=user,
            channel_id=channel.id,
            guild_id=guild_id,
            created_at=asyncio.get_running_loop().time(),
            command_name=command_name,
            source_message_id=int(message["id"]) if message is not None else None,
        )
        self._interactions[iid] = inter
        self._interactions_by_token[token] = inter
        return inter

    async def _send_interaction(self, inter: FakeInteraction) -> FakeInteraction:
        if not any(s.covers_guild(inter.guild_id) for s in self.sessions.values()):
            raise RuntimeError("no bot session is connected to the fake gateway")
        futures = self._dispatch("INTERACTION_CREATE", inter.payload, guild_id=inter.guild_id)
        loop = asyncio.get_running_loop()

        def stamp(_: asyncio.Future[None]) -> None:
            if inter.sent_at is None:
                inter.sent_at = loop.time()

        for future in futures:
            future.add_done_callback(stamp)
        await self._deliver(futures)
        return inter

    def _find_command(
        self, name: str, command_type: int, guild_id: int | None
    ) -> tuple[dict[str, Any], int | None]:
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self._commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == command_type:
                    return command, scope
        known = {scope: [c["name"] for c in cmds] for scope, cmds in self._commands.items() if cmds}
        raise LookupError(
            f"command {name!r} (type {command_type}) is not registered for guild {guild_id}; "
            f"registered: {known or 'nothing (did the bot sync its CommandTree?)'}"
        )

    def _check_command_context(self, command: dict[str, Any], guild_id: int | None) -> None:
        contexts = command.get("contexts")
        if guild_id is None:
            if command.get("dm_permission") is False or (
                contexts is not None and 1 not in contexts
            ):
                raise ValueError(f"command {command['name']!r} is not available in DMs")
        elif contexts is not None and 0 not in contexts:
            raise ValueError(f"command {command['name']!r} is not available in guilds")

    def _command_data(
        self,
        command: dict[str, Any],
        scope: int | None,
        *,
        options: list[dict[str, Any]] | None = None,
        resolved: dict[str, dict[str, Any]] | None = None,
        target_id: int | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": command.get("type", 1),
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if options:
            data["options"] = options
        if resolved:
            data["resolved"] = {k: v for k, v in resolved.items() if v}
        if target_id is not None:
            data["target_id"] = str(target_id)
        return data

    async def user_runs_slash_command(
        self,
        name: str,
        options: dict[str, Any] | None,
        user: UserLike,
        channel_id: int,
        guild_id: int | None = None,
    ) -> FakeInteraction:
        """Run a registered chat-input command; `name` may be "group sub" for subcommands.

        Option values are converted to the registered option types: str, int, bool, float,
        users (FakeUser/id), channels/roles (id), attachments ((filename, bytes)).
        """
        channel = self._channel(channel_id)
        runner = self._user(user)
        self._check_can_post(channel, runner)
        guild_id = guild_id if guild_id is not None else channel.guild_id
        root, *path = name.split()
        command, scope = self._find_command(root, 1, guild_id)
        self._check_command_context(command, guild_id)
        resolved: dict[str, dict[str, Any]] = {}
        built = self._build_options(
            command.get("options") or [], path, dict(options or {}), resolved, guild_id, None
        )
        data = self._command_data(command, scope, options=built, resolved=resolved)
        inter = self._new_interaction(
            INTERACTION_APPLICATION_COMMAND, data, runner, channel, command_name=name
        )
        return await self._send_interaction(inter)

    async def user_autocompletes(
        self,
        name: str,
        options: dict[str, Any] | None,
        focused: str,
        user: UserLike,
        channel_id: int,
        guild_id: int | None = None,
    ) -> FakeInteraction:
        """Send an autocomplete interaction while the user types option `focused`."""
        channel = self._channel(channel_id)
        runner = self._user(user)
        guild_id = guild_id if guild_id is not None else channel.guild_id
        root, *path = name.split()
        command, scope = self._find_command(root, 1, guild_id)
        resolved: dict[str, dict[str, Any]] = {}
        built = self._build_options(
            command.get("options") or [], path, dict(options or {}), resolved, guild_id, focused
        )
        data = self._command_data(command, scope, options=built, resolved=resolved)
        inter = self._new_interaction(
            INTERACTION_AUTOCOMPLETE, data, runner, channel, command_name=name
        )
        return await self._send_interaction(inter)

    async def user_runs_message_command(
        self, name: str, message_id: int, user: UserLike
    ) -> FakeInteraction:
        """Run a registered message context-menu command on a message."""
        target = self._messages[message_id]
        channel = self._channel(int(target["channel_id"]))
        runner = self._user(user)
        command, scope = self._find_command(name, 3, channel.guild_id)
        resolved = {"messages": {str(message_id): self._public(target)}}
        data = self._command_data(command, scope, resolved=resolved, target_id=message_id)
        inter = self._new_interaction(
            INTERACTION_APPLICATION_COMMAND, data, runner, channel, command_name=name
        )
        return await self._send_interaction(inter)

    async def user_runs_user_command(
        self, name: str, target: UserLike, user: UserLike, channel_id: int
    ) -> FakeInteraction:
        """Run a registered user context-menu command on a user."""
        channel = self._channel(channel_id)
        runner = self._user(user)
        command, scope = self._find_command(name, 2, channel.guild_id)
        resolved: dict[str, dict[str, Any]] = {}
        self._resolve_user(self._user(target), resolved, channel.guild_id)
        data = self._command_data(command, scope, resolved=resolved, target_id=int(target))
        inter = self._new_interaction(
            INTERACTION_APPLICATION_COMMAND, data, runner, channel, command_name=name
        )
        return await self._send_interaction(inter)

    def _resolve_user(
        self, user: FakeUser, resolved: dict[str, dict[str, Any]], guild_id: int | None
    ) -> None:
        resolved.setdefault("users", {})[str(user.id)] = user.payload()
        if guild_id is not None and user.is_member_of(guild_id):
            member = {
                **user.member_payload(with_user=False),
                "permissions": str(self.member_permissions(guild_id, user)),
            }
            resolved.setdefault("members", {})[str(user.id)] = member

    def _build_options(
        self,
        definitions: list[dict[str, Any]],
        path: list[str],
        values: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        guild_id: int | None,
        focused: str | None,
    ) -> list[dict[str, Any]]:
        if path:
            head, *rest = path
            for definition in definitions:
                if definition["name"] == head and definition["type"] in (
                    OPT_SUB_COMMAND,
                    OPT_SUB_COMMAND_GROUP,
                ):
                    inner = self._build_options(
                        definition.get("options") or [], rest, values, resolved, guild_id, focused
                    )
                    option: dict[str, Any] = {"type": definition["type"], "name": head}
                    if inner:
                        option["options"] = inner
                    return [option]
            raise LookupError(f"no subcommand or group named {head!r}")
        if any(d["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for d in definitions):
            raise ValueError("this command has subcommands; pass e.g. name='parent sub'")
        by_name = {d["name"]: d for d in definitions}
        unknown = set(values) - set(by_name)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; known: {sorted(by_name)}")
        built = []
        for definition in definitions:
            oname = definition["name"]
            if oname not in values:
                if definition.get("required") and focused is None:
                    raise ValueError(f"required option {oname!r} is missing")
                continue
            if oname == focused:
                built.append(
                    {
                        "type": definition["type"],
                        "name": oname,
                        "value": str(values[oname]),
                        "focused": True,
                    }
                )
                continue
            value = self._convert_option(definition, values[oname], resolved, guild_id)
            built.append({"type": definition["type"], "name": oname, "value": value})
        return built

    def _convert_option(
        self,
        definition: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        guild_id: int | None,
    ) -> Any:
        otype = definition["type"]
        oname = definition["name"]
        converted: Any
        if otype == OPT_STRING:
            if not isinstance(value, str):
                raise TypeError(f"option {oname!r} expects a string, got {value!r}")
            low, high = definition.get("min_length", 0), definition.get("max_length", 6000)
            if not low <= len(value) <= high:
                raise ValueError(f"option {oname!r} length must be within [{low}, {high}]")
            converted = value
        elif otype == OPT_INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"option {oname!r} expects an int, got {value!r}")
            converted = value
        elif otype == OPT_NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"option {oname!r} expects a number, got {value!r}")
            converted = value
        elif otype == OPT_BOOLEAN:
            if not isinstance(value, bool):
                raise TypeError(f"option {oname!r} expects a bool, got {value!r}")
            converted = value
        elif otype in (OPT_USER, OPT_MENTIONABLE) and int(value) in self.users:
            self._resolve_user(self.users[int(value)], resolved, guild_id)
            converted = str(int(value))
        elif otype in (OPT_ROLE, OPT_MENTIONABLE):
            guild = self.guilds.get(guild_id or 0)
            role = guild.roles.get(int(value)) if guild else None
            if role is None:
                raise ValueError(f"option {oname!r}: unknown role or user {value!r}")
            resolved.setdefault("roles", {})[str(int(value))] = copy.deepcopy(role)
            converted = str(int(value))
        elif otype == OPT_CHANNEL:
            channel = self._channel(int(value))
            allowed = definition.get("channel_types")
            if allowed and channel.type not in allowed:
                raise ValueError(f"option {oname!r} does not accept channel type {channel.type}")
            data = {**channel.payload(), "permissions": str(ALL_PERMISSIONS)}
            resolved.setdefault("channels", {})[str(channel.id)] = data
            converted = str(channel.id)
        elif otype == OPT_ATTACHMENT:
            filename, blob = value
            aid = self._ids.next()
            self._attachment_data[aid] = bytes(blob)
            resolved.setdefault("attachments", {})[str(aid)] = {
                "id": str(aid),
                "filename": filename,
                "size": len(blob),
                "url": f"{self.root_url}/attachments/0/{aid}/{filename}",
                "proxy_url": f"{self.root_url}/attachments/0/{aid}/{filename}",
                "ephemeral": True,
            }
            converted = str(aid)
        else:
            raise ValueError(f"option {oname!r}: unsupported type {otype} or unknown id {value!r}")
        choices = definition.get("choices")
        if choices and converted not in [c["value"] for c in choices]:
            raise ValueError(f"option {oname!r} must be one of {[c['value'] for c in choices]}")
        if otype in (OPT_INTEGER, OPT_NUMBER):
            low, high = definition.get("min_value"), definition.get("max_value")
            if (low is not None and converted < low) or (high is not None and converted > high):
                raise ValueError(f"option {oname!r} must be within [{low}, {high}]")
        return converted

    def _find_component(self, record: dict[str, Any], custom_id: str) -> dict[str, Any]:
        for component in iter_components(record.get("components")):
            if component.get("custom_id") == custom_id:
                return component
        ids = [c.get("custom_id") for c in iter_components(record.get("components"))]
        raise LookupError(f"message {record['id']} has no component {custom_id!r}; has {ids}")

    def _component_message(self, message_id: int, user: FakeUser) -> dict[str, Any]:
        record = self._messages.get(message_id)
        if record is None:
            raise LookupError(f"message {message_id} does not exist (deleted?)")
        if (record.get("flags") or 0) & FLAG_EPHEMERAL:
            owner = (record.get("interaction_metadata") or {}).get("user", {}).get("id")
            if owner is not None and int(owner) != user.id:
                raise ValueError(f"{user.username} cannot see ephemeral message {message_id}")
        return record

    async def user_clicks_button(
        self, message_id: int, custom_id: str, user: UserLike
    ) -> FakeInteraction:
        """Click a (non-link, enabled) button on a message; sends a component interaction."""
        clicker = self._user(user)
        record = self._component_message(message_id, clicker)
        component = self._find_component(record, custom_id)
        if component.get("type") != BUTTON:
            raise ValueError(f"component {custom_id!r} is not a button")
        if component.get("style") == LINK_STYLE:
            raise ValueError("link buttons open a URL and send no interaction")
        if component.get("disabled"):
            raise ValueError(f"button {custom_id!r} is disabled")
        channel = self._channel(int(record["channel_id"]))
        data = {"custom_id": custom_id, "component_type": BUTTON}
        inter = self._new_interaction(
            INTERACTION_MESSAGE_COMPONENT, data, clicker, channel, message=record
        )
        return await self._send_interaction(inter)

    async def user_selects(
        self, message_id: int, custom_id: str, values: list[Any], user: UserLike
    ) -> FakeInteraction:
        """Pick values in a select menu on a message; sends a component interaction."""
        chooser = self._user(user)
        record = self._component_message(message_id, chooser)
        component = self._find_component(record, custom_id)
        ctype = component.get("type")
        if ctype not in SELECT_TYPES:
            raise ValueError(f"component {custom_id!r} is not a select menu")
        if component.get("disabled"):
            raise ValueError(f"select {custom_id!r} is disabled")
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes between {low} and {high} values")
        channel = self._channel(int(record["channel_id"]))
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 3:
            allowed = [o["value"] for o in component.get("options", [])]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"values {bad} are not options of {custom_id!r}: {allowed}")
            data["values"] = list(values)
        else:
            resolved: dict[str, dict[str, Any]] = {}
            for value in values:
                if int(value) in self.users:
                    self._resolve_user(self.users[int(value)], resolved, channel.guild_id)
                elif int(value) in self.channels:
                    ch = self.channels[int(value)]
                    resolved.setdefault("channels", {})[str(ch.id)] = ch.payload()
            data["values"] = [str(int(v)) for v in values]
            data["resolved"] = resolved
        inter = self._new_interaction(
            INTERACTION_MESSAGE_COMPONENT, data, chooser, channel, message=record
        )
        return await self._send_interaction(inter)

    async def user_submits_modal(
        self, inter: InteractionLike, values: dict[str, Any], user: UserLike | None = None
    ) -> FakeInteraction:
        """Submit the modal the bot opened for `inter`, filling text inputs by custom_id."""
        source = self._interaction(inter)
        modal = source.modal
        if modal is None:
            raise LookupError(f"the bot did not open a modal for interaction {source.id}")
        submitter = self._user(user) if user is not None else source.user
        unknown = set(values)

        def fill(component: dict[str, Any]) -> dict[str, Any] | None:
            ctype = component.get("type")
            if ctype == 1:
                inner = [x for c in component.get("components", []) if (x := fill(c))]
                return {"type": 1, "components": inner}
            if ctype == 18:
                inner_component = fill(component["component"])
                return {"type": 18, "component": inner_component} if inner_component else None
            custom_id = component.get("custom_id")
            if custom_id is None:
                return None
            unknown.discard(custom_id)
            if ctype == TEXT_INPUT:
                value = values.get(custom_id, component.get("value") or "")
                if component.get("required", True) and not value:
                    raise ValueError(f"text input {custom_id!r} is required")
                low, high = component.get("min_length", 0), component.get("max_length", 4000)
                if value and not low <= len(value) <= high:
                    raise ValueError(f"text input {custom_id!r} length must be in [{low}, {high}]")
                return {"type": TEXT_INPUT, "custom_id": custom_id, "value": value}
            return {
                "type": ctype,
                "custom_id": custom_id,
                "values": list(values.get(custom_id, [])),
            }

        components = [x for c in modal.get("components", []) if (x := fill(c))]
        if unknown:
            raise ValueError(f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}")
        channel = self._channel(source.channel_id)
        data = {"custom_id": modal["custom_id"], "components": components}
        message = None
        if source.source_message_id is not None:
            message = self._messages.get(source.source_message_id)
        new = self._new_interaction(
            INTERACTION_MODAL_SUBMIT, data, submitter, channel, message=message
        )
        return await self._send_interaction(new)

    def _interaction(self, inter: InteractionLike) -> FakeInteraction:
        found = self._interactions.get(int(inter))
        if found is None:
            raise KeyError(f"unknown interaction {int(inter)}")
        return found

    # ------------------------------------------------------------------ message model

    def _public(self, record: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(record)
        data.pop("allowed_mentions", None)
        return data

    def _store_message(self, record: dict[str, Any]) -> None:
        mid = int(record["id"])
        cid = int(record["channel_id"])
        self._messages[mid] = record
        self._channel_messages.setdefault(cid, []).append(mid)
        self.channels[cid].last_message_id = mid
        self.channels[cid].message_count += 1
        self._snapshot(record)

    def _snapshot(self, record: dict[str, Any]) -> None:
        self._message_history.setdefault(int(record["id"]), []).append(copy.deepcopy(record))
        self._notify()

    def _delete_message(self, message_id: int) -> list[asyncio.Future[None]]:
        record = self._messages.pop(message_id)
        cid = int(record["channel_id"])
        self._channel_messages[cid].remove(message_id)
        self._deleted_messages[message_id] = record
        self._notify()
        if (record.get("flags") or 0) & FLAG_EPHEMERAL:
            return []
        data = {"id": record["id"], "channel_id": record["channel_id"]}
        gid = None
        if "guild_id" in record:
            data["guild_id"] = record["guild_id"]
            gid = int(record["guild_id"])
        return self._dispatch(
            "MESSAGE_DELETE", data, guild_id=gid, intent=self._message_intent(record)
        )

    def _parse_mentions(
        self,
        content: str,
        channel: FakeChannel,
        replied_author: int | None,
        *,
        allowed_mentions: dict[str, Any] | None,
        extra: Iterable[int] = (),
        reply_ping: bool = True,
    ) -> tuple[list[int], list[int], bool]:
        user_ids = [int(m) for m in _USER_MENTION_RE.findall(content)] + list(extra)
        role_ids = [int(r) for r in _ROLE_MENTION_RE.findall(content)]
        everyone = bool(_EVERYONE_RE.search(content))
        if allowed_mentions is None:
            users_ok: Callable[[int], bool] = lambda _uid: True  # noqa: E731
            roles_ok: Callable[[int], bool] = lambda _rid: True  # noqa: E731
            everyone_ok = True
            replied_ok = reply_ping
        else:
            parse = allowed_mentions.get("parse") or []
            explicit_users = {int(u) for u in allowed_mentions.get("users") or []}
            explicit_roles = {int(r) for r in allowed_mentions.get("roles") or []}
            users_ok = lambda uid: "users" in parse or uid in explicit_users  # noqa: E731
            roles_ok = lambda rid: "roles" in parse or rid in explicit_roles  # noqa: E731
            everyone_ok = "everyone" in parse
            replied_ok = bool(allowed_mentions.get("replied_user", False))
        mentioned: list[int] = []
        for uid in user_ids:
            if uid in self.users and users_ok(uid) and uid not in mentioned:
                mentioned.append(uid)
        if replied_author is not None and replied_ok and replied_author not in mentioned:
            mentioned.append(replied_author)
        guild = self.guilds.get(channel.guild_id or 0)
        roles = [r for r in role_ids if guild is not None and r in guild.roles and roles_ok(r)]
        return mentioned, roles, everyone and everyone_ok and channel.guild_id is not None

    def _resolve_reference(
        self, payload: dict[str, Any], channel: FakeChannel
    ) -> dict[str, Any] | None:
        ref = payload.get("message_reference")
        if not ref:
            return None
        target = self._messages.get(int(ref.get("message_id", 0)))
        ref_channel = int(ref.get("channel_id") or channel.id)
        if target is None or int(target["channel_id"]) != ref_channel:
            if ref.get("fail_if_not_exists", True):
                errors = FormErrors()
                errors.add(
                    ("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
                errors.raise_if_any()
            return None
        return target

    def _compose_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        payload: dict[str, Any],
        attachments: list[dict[str, Any]],
        *,
        flags_mask: int = _CHANNEL_MESSAGE_FLAGS,
        extra_flags: int = 0,
        message_type: int = 0,
        interaction: FakeInteraction | None = None,
        extra_mentions: Iterable[int] = (),
        force_everyone: bool = False,
        reply_ping: bool = True,
    ) -> dict[str, Any]:
        mid = self._ids.next()
        content = payload.get("content") or ""
        target = self._resolve_reference(payload, channel)
        replied_author = int(target["author"]["id"]) if target is not None else None
        if replied_author == author.id:
            replied_author = None
        mentioned, roles, everyone = self._parse_mentions(
            content,
            channel,
            replied_author,
            allowed_mentions=payload.get("allowed_mentions"),
            extra=extra_mentions,
            reply_ping=reply_ping,
        )
        record: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": snowflake_iso(mid),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": everyone or force_everyone,
            "mentions": [self.users[u].payload() for u in mentioned],
            "mention_roles": [str(r) for r in roles],
            "attachments": attachments,
            "embeds": copy.deepcopy(payload.get("embeds") or []),
            "pinned": False,
            "type": message_type,
            "flags": ((payload.get("flags") or 0) & flags_mask) | extra_flags,
            "components": copy.deepcopy(payload.get("components") or []),
            "allowed_mentions": copy.deepcopy(payload.get("allowed_mentions")),
        }
        if channel.guild_id is not None:
            record["guild_id"] = str(channel.guild_id)
        if payload.get("nonce") is not None:
            record["nonce"] = payload["nonce"]
        if target is not None:
            ref = payload["message_reference"]
            record["message_reference"] = {
                "type": ref.get("type", 0),
                "message_id": target["id"],
                "channel_id": target["channel_id"],
            }
            if "guild_id" in target:
                record["message_reference"]["guild_id"] = target["guild_id"]
            referenced = self._public(target)
            referenced.pop("referenced_message", None)
            record["referenced_message"] = referenced
            if message_type == 0:
                record["type"] = 19
        if interaction is not None:
            record["webhook_id"] = str(self.app_id)
            record["application_id"] = str(self.app_id)
            metadata: dict[str, Any] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload[
                    "authorizing_integration_owners"
                ],
            }
            if interaction.original_message_id is not None:
                metadata["original_response_message_id"] = str(interaction.original_message_id)
            if interaction.type == INTERACTION_APPLICATION_COMMAND:
                metadata["name"] = interaction.command_name
                metadata["command_type"] = interaction.payload["data"].get("type", 1)
            record["interaction_metadata"] = metadata
            record["interaction"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "name": interaction.command_name or "",
                "user": interaction.user.payload(),
            }
        return record

    def _build_attachments(
        self,
        payload: dict[str, Any],
        files: list[dict[str, Any]],
        channel_id: int,
        existing: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        uploads: dict[int, dict[str, Any]] = {}
        for position, upload in enumerate(files):
            match = re.search(r"\[(\d+)\]", upload["field"])
            uploads[int(match.group(1)) if match else position] = upload
        total = sum(len(f["data"]) for f in files)
        if total > MAX_UPLOAD_BYTES:
            raise err.error(413, err.REQUEST_TOO_LARGE, "Request entity too large")
        specs = payload.get("attachments")
        if specs is None:
            specs = [{"id": index} for index in uploads]
            keep_existing = existing
        else:
            keep_existing = []
        existing_by_id = {a["id"]: a for a in existing}
        result: list[dict[str, Any]] = list(keep_existing)
        for spec in specs:
            sid = str(spec.get("id"))
            if sid in existing_by_id:
                result.append(existing_by_id[sid])
                continue
            upload = uploads.get(int(sid)) if sid.isdigit() else None
            if upload is None:
                errors = FormErrors()
                errors.add(("attachments",), "ATTACHMENT_NOT_FOUND", f"Unknown attachment {sid}")
                errors.raise_if_any()
                continue
            aid = self._ids.next()
            filename = spec.get("filename") or upload["filename"] or f"file{sid}"
            self._attachment_data[aid] = upload["data"]
            url = f"{self.root_url}/attachments/{channel_id}/{aid}/{filename}"
            attachment: dict[str, Any] = {
                "id": str(aid),
                "filename": filename,
                "size": len(upload["data"]),
                "url": url,
                "proxy_url": url,
            }
            if upload.get("content_type"):
                attachment["content_type"] = upload["content_type"]
            if spec.get("description"):
                attachment["description"] = spec["description"]
            result.append(attachment)
        return result

    def _apply_edit(
        self, record: dict[str, Any], payload: dict[str, Any], files: list[dict[str, Any]]
    ) -> None:
        validate_message(payload, has_attachments=bool(files), partial=True)
        updated = copy.deepcopy(record)
        if "content" in payload:
            updated["content"] = payload["content"] or ""
        for key in ("embeds", "components"):
            if key in payload:
                updated[key] = copy.deepcopy(payload[key] or [])
        if "flags" in payload and payload["flags"] is not None:
            keep = updated["flags"] & (FLAG_EPHEMERAL | FLAG_LOADING)
            updated["flags"] = (payload["flags"] & _CHANNEL_MESSAGE_FLAGS) | keep
        if "allowed_mentions" in payload:
            updated["allowed_mentions"] = copy.deepcopy(payload["allowed_mentions"])
        if "attachments" in payload or files:
            updated["attachments"] = self._build_attachments(
                payload, files, int(record["channel_id"]), existing=record["attachments"]
            )
        was_loading = bool(updated["flags"] & FLAG_LOADING)
        updated["flags"] &= ~FLAG_LOADING
        if is_empty_message(updated, has_attachments=bool(updated["attachments"])):
            raise err.empty_message()
        channel = self.channels[int(record["channel_id"])]
        mentioned, roles, everyone = self._parse_mentions(
            updated["content"], channel, None, allowed_mentions=updated.get("allowed_mentions")
        )
        updated["mentions"] = [self.users[u].payload() for u in mentioned]
        updated["mention_roles"] = [str(r) for r in roles]
        updated["mention_everyone"] = everyone
        if not was_loading:
            updated["edited_timestamp"] = now_iso()
        record.clear()
        record.update(updated)
        self._snapshot(record)

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_routes(self) -> list[_Route]:
        app = r"(?P<app_id>\d+)"
        guild = r"(?P<guild_id>\d+)"
        chan = r"(?P<channel_id>\d+)"
        msg = r"(?P<message_id>\d+)"
        hook = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", r"/gateway", self._r_gateway, False),
            ("GET", r"/gateway/bot", self._r_gateway_bot, True),
            ("GET", r"/users/@me", self._r_me, True),
            ("GET", r"/users/(?P<user_id>\d+)", self._r_user, True),
            ("POST", r"/users/@me/channels", self._r_create_dm, True),
            ("GET", r"/oauth2/applications/@me", self._r_app_info, True),
            ("GET", r"/applications/@me", self._r_app_info, True),
            ("PATCH", r"/applications/@me", self._r_app_info, True),
            ("GET", rf"/applications/{app}/emojis", self._r_app_emojis, True),
            ("GET", rf"/applications/{app}/commands", self._r_get_commands, True),
            ("PUT", rf"/applications/{app}/commands", self._r_put_commands, True),
            ("POST", rf"/applications/{app}/commands", self._r_post_command, True),
            ("GET", rf"/applications/{app}/guilds/{guild}/commands", self._r_get_commands, True),
            ("PUT", rf"/applications/{app}/guilds/{guild}/commands", self._r_put_commands, True),
            ("POST", rf"/applications/{app}/guilds/{guild}/commands", self._r_post_command, True),
            (
                "GET",
                rf"/applications/{app}/guilds/{guild}/commands/permissions",
                self._r_empty_list,
                True,
            ),
            ("GET", rf"/applications/{app}/commands/(?P<command_id>\d+)", self._r_command, True),
            (
                "PATCH",
                rf"/applications/{app}/commands/(?P<command_id>\d+)",
                self._r_command,
                True,
            ),
            (
                "DELETE",
                rf"/applications/{app}/commands/(?P<command_id>\d+)",
                self._r_command,
                True,
            ),
            (
                "GET",
                rf"/applications/{app}/guilds/{guild}/commands/(?P<command_id>\d+)",
                self._r_command,
                True,
            ),
            (
                "PATCH",
                rf"/applications/{app}/guilds/{guild}/commands/(?P<command_id>\d+)",
                self._r_command,
                True,
            ),
            (
                "DELETE",
                rf"/applications/{app}/guilds/{guild}/commands/(?P<command_id>\d+)",
                self._r_command,
                True,
            ),
            ("GET", rf"/channels/{chan}", self._r_get_channel, True),
            ("GET", rf"/channels/{chan}/messages", self._r_list_messages, True),
            ("POST", rf"/channels/{chan}/messages", self._r_create_message, True),
            ("POST", rf"/channels/{chan}/messages/bulk-delete", self._r_bulk_delete, True),
            ("GET", rf"/channels/{chan}/messages/{msg}", self._r_get_message, True),
            ("PATCH", rf"/channels/{chan}/messages/{msg}", self._r_edit_message, True),
            ("DELETE", rf"/channels/{chan}/messages/{msg}", self._r_delete_message, True),
            (
                "PUT",
                rf"/channels/{chan}/messages/{msg}/reactions/(?P<emoji>[^/]+)/@me",
                self._r_reaction,
                True,
            ),
            (
                "DELETE",
                rf"/channels/{chan}/messages/{msg}/reactions/(?P<emoji>[^/]+)/@me",
                self._r_reaction,
                True,
            ),
            ("POST", rf"/channels/{chan}/typing", self._r_typing, True),
            ("GET", rf"/guilds/{guild}", self._r_get_guild, True),
            ("GET", rf"/guilds/{guild}/channels", self._r_guild_channels, True),
            ("GET", rf"/guilds/{guild}/roles", self._r_guild_roles, True),
            ("GET", rf"/guilds/{guild}/members", self._r_guild_members, True),
            ("GET", rf"/guilds/{guild}/members/(?P<user_id>\d+)", self._r_guild_member, True),
            (
                "POST",
                r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback",
                self._r_callback,
                False,
            ),
            ("GET", rf"{hook}/messages/@original", self._r_get_original, False),
            ("PATCH", rf"{hook}/messages/@original", self._r_edit_original, False),
            ("DELETE", rf"{hook}/messages/@original", self._r_delete_original, False),
            ("POST", hook, self._r_followup, False),
            ("GET", rf"{hook}/messages/{msg}", self._r_get_followup, False),
            ("PATCH", rf"{hook}/messages/{msg}", self._r_edit_followup, False),
            ("DELETE", rf"{hook}/messages/{msg}", self._r_delete_followup, False),
        ]
        return [_Route(m, re.compile(p), h, a) for m, p, h, a in table]

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        path_known = False
        for route in self._routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            path_known = True
            if route.method == method:
                return route, found.groupdict(), True
        return None, {}, path_known

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        files: list[dict[str, Any]] = []
        if not request.can_read_body:
            return None, files
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    try:
                        body = json.loads(await part.text())
                    except ValueError:
                        raise err.error(
                            400, err.INVALID_JSON, "The request body contains invalid JSON."
                        ) from None
                else:
                    files.append(
                        {
                            "field": part.name or "",
                            "filename": part.filename,
                            "content_type": part.headers.get("Content-Type"),
                            "data": await part.read(decode=False),
                        }
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            raise err.error(
                400, err.INVALID_JSON, "The request body contains invalid JSON."
            ) from None

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._handle_gateway(request)
        if request.path.startswith("/attachments/") and request.method == "GET":
            return self._serve_attachment(request)
        if not request.path.startswith(API_PREFIX + "/"):
            return _json_response({"message": "404: Not Found", "code": 0}, 404, {})
        path = request.path[len(API_PREFIX) :]
        method = request.method.upper()
        loop = asyncio.get_running_loop()
        record = RecordedRequest(
            method=method,
            path=path,
            query=dict(request.query),
            json=None,
            files=[],
            headers=dict(request.headers),
            time=loop.time(),
        )
        self.requests.append(record)
        route, params, path_known = self._match(method, path)
        bucket = hashlib.sha1((route.pattern.pattern if route else path).encode()).hexdigest()[:32]
        headers: dict[str, str] = {"Via": "1.1 google"}
        try:
            body, files = await self._read_body(request)
            record.json = body
            record.files = [
                {"field": f["field"], "filename": f["filename"], "size": len(f["data"])}
                for f in files
            ]
            failure = self._take_failure(method, path)
            if failure is not None and not failure.after_effect:
                record.injected = True
                raise self._failure_error(failure, bucket)
            if route is None:
                self.unknown_routes.append(record)
                log.warning("FakeDiscord: unhandled route %s %s", method, path)
                if path_known:
                    raise err.error(405, 0, "405: Method Not Allowed")
                raise err.not_found()
            auth = request.headers.get("Authorization")
            if (route.auth or auth is not None) and auth != f"Bot {self.token}":
                raise err.unauthorized()
            req = _Request(method, path, dict(request.query), body, files, headers, record)
            status, data = await route.handler(req, **params)
            if failure is not None:  # done, but the client is told it failed
                record.injected = True
                raise self._failure_error(failure, bucket)
            headers.update(
                {
                    "X-RateLimit-Limit": "50",
                    "X-RateLimit-Remaining": "49",
                    "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                    "X-RateLimit-Reset-After": "1.000",
                    "X-RateLimit-Bucket": bucket,
                }
            )
        except DiscordHTTPError as exc:
            status, data = exc.status, exc.body
            headers.update(exc.headers)
        except Exception as exc:
            # A 5xx would make discord.py retry for ~25 s; a 400 fails the test quickly.
            log.exception("FakeDiscord: internal error handling %s %s", method, path)
            self.internal_errors.append(exc)
            status, data = 400, {"message": f"FakeDiscord internal error: {exc!r}", "code": -1}
        record.status = status
        record.response = copy.deepcopy(data)
        self._notify()
        headers = {k: v for k, v in headers.items() if v != ""}
        if status == 204 or data is None:
            return web.Response(status=status if status != 200 else 204, headers=headers)
        return _json_response(data, status, headers)

    def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        if len(parts) >= 3 and parts[2].isdigit() and int(parts[2]) in self._attachment_data:
            return web.Response(body=self._attachment_data[int(parts[2])])
        return web.Response(status=404, text="asset not found")

    # ------------------------------------------------------------------ REST handlers

    def _bot_user_payload(self) -> dict[str, Any]:
        return {
            **self.bot_user.payload(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "email": None,
            "locale": "en-US",
        }

    def _app_flags(self) -> int:
        flags = _APP_FLAG_COMMAND_BADGE
        if self.allowed_privileged_intents & INTENT_GUILD_PRESENCES:
            flags |= _APP_FLAG_PRESENCE_LIMITED
        if self.allowed_privileged_intents & INTENT_GUILD_MEMBERS:
            flags |= _APP_FLAG_MEMBERS_LIMITED
        if self.allowed_privileged_intents & INTENT_MESSAGE_CONTENT:
            flags |= _APP_FLAG_CONTENT_LIMITED
        return flags

    async def _r_gateway(self, req: _Request) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url.rstrip("/")}

    async def _r_gateway_bot(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - self.identify_count,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    async def _r_me(self, req: _Request) -> tuple[int, Any]:
        return 200, self._bot_user_payload()

    async def _r_user(self, req: _Request, user_id: str) -> tuple[int, Any]:
        user = self.users.get(int(user_id))
        if user is None:
            raise err.error(404, err.UNKNOWN_USER, "Unknown User")
        return 200, user.payload()

    async def _r_create_dm(self, req: _Request) -> tuple[int, Any]:
        recipient = int((req.json or {}).get("recipient_id", 0))
        if recipient not in self.users:
            errors = FormErrors()
            errors.add(("recipient_id",), "NUMBER_TYPE_COERCE", "Value is not snowflake.")
            errors.raise_if_any()
        cid = self.dm_channel_for(recipient)
        return 200, self.channels[cid].payload(self.users)

    async def _r_app_info(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            "id": str(self.app_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self._app_flags(),
            "bot": self.bot_user.payload(),
            "owner": self.owner.payload(),
            "team": None,
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
            "interactions_endpoint_url": None,
            "install_params": None,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
        }

    async def _r_app_emojis(self, req: _Request, app_id: str) -> tuple[int, Any]:
        self._check_app(app_id)
        return 200, {"items": []}

    async def _r_empty_list(self, req: _Request, **_: str) -> tuple[int, Any]:
        return 200, []

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.app_id:
            raise err.error(403, 50001, "Missing Access")

    def _command_scope(self, app_id: str, guild_id: str | None) -> int | None:
        self._check_app(app_id)
        if guild_id is None:
            return None
        if int(guild_id) not in self.guilds:
            raise err.error(403, 50001, "Missing Access")
        return int(guild_id)

    def _store_command(
        self, command: dict[str, Any], scope: int | None, existing: list[dict[str, Any]]
    ) -> dict[str, Any]:
        ctype = command.get("type", 1)
        previous = next(
            (c for c in existing if c["name"] == command.get("name") and c["type"] == ctype),
            None,
        )
        stored = copy.deepcopy(command)
        stored.update(
            id=previous["id"] if previous else str(self._ids.next()),
            application_id=str(self.app_id),
            version=str(self._ids.next()),
            type=ctype,
            description=command.get("description", ""),
            default_member_permissions=command.get("default_member_permissions"),
            nsfw=command.get("nsfw", False),
        )
        stored.setdefault("options", [])
        if scope is not None:
            stored["guild_id"] = str(scope)
        else:
            stored.setdefault("contexts", None)
            stored.setdefault("integration_types", [0])
        return stored

    async def _r_get_commands(
        self, req: _Request, app_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        return 200, copy.deepcopy(self._commands.get(scope, []))

    async def _r_put_commands(
        self, req: _Request, app_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        self.bulk_overwrite_calls[scope] = self.bulk_overwrite_calls.get(scope, 0) + 1
        commands = req.json if req.json is not None else []
        validate_commands(commands)
        existing = self._commands.get(scope, [])
        stored = [self._store_command(c, scope, existing) for c in commands]
        self._commands[scope] = stored
        return 200, copy.deepcopy(stored)

    async def _r_post_command(
        self, req: _Request, app_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        command = req.json or {}
        errors = FormErrors()
        validate_command(errors, (), command)
        errors.raise_if_any()
        existing = self._commands.setdefault(scope, [])
        stored = self._store_command(command, scope, existing)
        for index, current in enumerate(existing):
            if current["id"] == stored["id"]:
                existing[index] = stored
                return 200, copy.deepcopy(stored)
        existing.append(stored)
        return 201, copy.deepcopy(stored)

    async def _r_command(
        self, req: _Request, app_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._command_scope(app_id, guild_id)
        existing = self._commands.setdefault(scope, [])
        for index, current in enumerate(existing):
            if current["id"] != command_id:
                continue
            if req.method == "GET":
                return 200, copy.deepcopy(current)
            if req.method == "DELETE":
                del existing[index]
                return 204, None
            merged = {**current, **(req.json or {})}
            errors = FormErrors()
            validate_command(errors, (), merged)
            errors.raise_if_any()
            merged["version"] = str(self._ids.next())
            existing[index] = merged
            return 200, copy.deepcopy(merged)
        raise err.error(404, err.UNKNOWN_APPLICATION_COMMAND, "Unknown application command")

    def _channel_or_404(self, channel_id: str) -> FakeChannel:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise err.error(404, err.UNKNOWN_CHANNEL, "Unknown Channel")
        return channel

    def _message_or_404(self, channel: FakeChannel, message_id: str) -> dict[str, Any]:
        record = self._messages.get(int(message_id))
        if record is None or int(record["channel_id"]) != channel.id:
            raise err.error(404, err.UNKNOWN_MESSAGE, "Unknown Message")
        if (record.get("flags") or 0) & FLAG_EPHEMERAL:
            # Ephemeral messages are only reachable through the interaction webhook.
            raise err.error(404, err.UNKNOWN_MESSAGE, "Unknown Message")
        return record

    def _rest_view(self, record: dict[str, Any]) -> dict[str, Any]:
        # REST reads obey the app's MESSAGE_CONTENT approval, not the gateway intents.
        return self._redacted(record, self.allowed_privileged_intents)

    async def _r_get_channel(self, req: _Request, channel_id: str) -> tuple[int, Any]:
        return 200, self._channel_or_404(channel_id).payload(self.users)

    async def _r_list_messages(self, req: _Request, channel_id: str) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        ids = [
            m
            for m in self._channel_messages.get(channel.id, [])
            if not (self._messages[m].get("flags") or 0) & FLAG_EPHEMERAL
        ]
        if "before" in req.query:
            ids = [m for m in ids if m < int(req.query["before"])]
        if "after" in req.query:
            ids = [m for m in ids if m > int(req.query["after"])]
            ids = ids[:limit]
        ids = sorted(ids, reverse=True)[:limit]
        return 200, [self._rest_view(self._messages[m]) for m in ids]

    async def _r_get_message(
        self, req: _Request, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        return 200, self._rest_view(self._message_or_404(channel, message_id))

    async def _r_create_message(self, req: _Request, channel_id: str) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        payload = req.json or {}
        validate_message(payload, has_attachments=bool(req.files), partial=False)
        nonce_key = None
        if payload.get("enforce_nonce") and payload.get("nonce") is not None:
            # Discord returns the author's earlier message with this nonce instead of
            # creating another (it remembers nonces for a few minutes; the fake, always).
            nonce_key = (self.bot_user.id, str(payload["nonce"]))
            earlier = self._nonces.get(nonce_key)
            if earlier is not None and earlier in self._messages:
                self.nonce_hits += 1
                return 200, self._public(self._messages[earlier])
        attachments = self._build_attachments(payload, req.files, channel.id, existing=[])
        record = self._compose_message(channel, self.bot_user, payload, attachments)
        if nonce_key is not None:
            self._nonces[nonce_key] = int(record["id"])
        self._store_message(record)
        if self.echo_bot_messages:
            self._dispatch_message("MESSAGE_CREATE", record)
        return 200, self._public(record)

    async def _r_edit_message(
        self, req: _Request, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        record = self._message_or_404(channel, message_id)
        if not self._is_bot_message(record):
            raise err.error(
                403,
                err.CANNOT_EDIT_OTHERS_MESSAGE,
                "Cannot edit a message authored by another user",
            )
        self._apply_edit(record, req.json or {}, req.files)
        self._dispatch_message("MESSAGE_UPDATE", record)
        return 200, self._public(record)

    async def _r_delete_message(
        self, req: _Request, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        self._message_or_404(channel, message_id)
        self._delete_message(int(message_id))
        return 204, None

    async def _r_bulk_delete(self, req: _Request, channel_id: str) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        ids = [int(m) for m in (req.json or {}).get("messages", [])]
        if not 2 <= len(ids) <= 100:
            errors = FormErrors()
            errors.add(
                ("messages",), "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."
            )
            errors.raise_if_any()
        for mid in ids:
            if mid in self._messages and int(self._messages[mid]["channel_id"]) == channel.id:
                self._delete_message(mid)
        return 204, None

    async def _r_reaction(
        self, req: _Request, channel_id: str, message_id: str, emoji: str
    ) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        record = self._message_or_404(channel, message_id)
        reactions: list[dict[str, Any]] = record.setdefault("reactions", [])
        existing = next((r for r in reactions if r["emoji"]["name"] == emoji), None)
        if req.method == "PUT" and existing is None:
            reactions.append({"emoji": {"id": None, "name": emoji}, "count": 1, "me": True})
        elif req.method == "DELETE" and existing is not None:
            reactions.remove(existing)
        self._notify()
        return 204, None

    async def _r_typing(self, req: _Request, channel_id: str) -> tuple[int, Any]:
        self._channel_or_404(channel_id)
        return 204, None

    def _guild_or_404(self, guild_id: str) -> FakeGuild:
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise err.error(404, err.UNKNOWN_GUILD, "Unknown Guild")
        return guild

    async def _r_get_guild(self, req: _Request, guild_id: str) -> tuple[int, Any]:
        guild = self._guild_or_404(guild_id)
        data = self._guild_create_payload(
            guild, GatewaySession("rest", self.token, self.allowed_privileged_intents, None)
        )
        for key in ("members", "channels", "threads", "presences", "voice_states"):
            data.pop(key, None)
        return 200, data

    async def _r_guild_channels(self, req: _Request, guild_id: str) -> tuple[int, Any]:
        guild = self._guild_or_404(guild_id)
        return 200, [self.channels[c].payload() for c in guild.channel_ids]

    async def _r_guild_roles(self, req: _Request, guild_id: str) -> tuple[int, Any]:
        guild = self._guild_or_404(guild_id)
        return 200, [copy.deepcopy(r) for r in guild.roles.values()]

    async def _r_guild_members(self, req: _Request, guild_id: str) -> tuple[int, Any]:
        guild = self._guild_or_404(guild_id)
        limit = int(req.query.get("limit", 1))
        after = int(req.query.get("after", 0))
        members = sorted(
            (m for m in self._members_of(guild.id) if m.id > after), key=lambda m: m.id
        )
        return 200, [m.member_payload() for m in members[:limit]]

    async def _r_guild_member(self, req: _Request, guild_id: str, user_id: str) -> tuple[int, Any]:
        guild = self._guild_or_404(guild_id)
        user = self.users.get(int(user_id))
        if user is None or not user.is_member_of(guild.id):
            raise err.error(404, 10007, "Unknown Member")
        return 200, user.member_payload()

    # ---- interactions over REST

    def _reject(self, inter: FakeInteraction, entry: dict[str, Any], exc: DiscordHTTPError) -> None:
        inter.rejected.append({**entry, "status": exc.status, "error": exc.body})

    async def _r_callback(self, req: _Request, interaction_id: str, token: str) -> tuple[int, Any]:
        inter = self._interactions.get(int(interaction_id))
        if inter is None or inter.token != token:
            raise err.error(404, err.UNKNOWN_INTERACTION, "Unknown interaction")
        body = req.json or {}
        ctype = body.get("type")
        data = body.get("data")
        loop = asyncio.get_running_loop()
        now = loop.time()
        entry: dict[str, Any] = {
            "kind": "callback",
            "type": ctype,
            "data": copy.deepcopy(data),
            "at": now,
        }
        try:
            message = self._apply_callback(inter, ctype, data, req.files, now)
        except DiscordHTTPError as exc:
            self._reject(inter, entry, exc)
            raise
        if message is not None:
            entry["message_id"] = int(message["id"])
            entry["message"] = copy.deepcopy(message)
        inter.responses.append(entry)
        self._notify()
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return 204, None
        info: dict[str, Any] = {"id": str(inter.id), "type": inter.type}
        response: dict[str, Any] = {"interaction": info}
        if message is not None:
            info["response_message_id"] = message["id"]
            info["response_message_loading"] = bool(message["flags"] & FLAG_LOADING)
            info["response_message_ephemeral"] = bool(message["flags"] & FLAG_EPHEMERAL)
            response["resource"] = {"type": ctype, "message": self._public(message)}
        return 200, response

    def _apply_callback(
        self,
        inter: FakeInteraction,
        ctype: Any,
        data: Any,
        files: list[dict[str, Any]],
        now: float,
    ) -> dict[str, Any] | None:
        if inter.callback_type is not None:
            raise err.error(
                400, err.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged."
            )
        start = inter.sent_at if inter.sent_at is not None else inter.created_at
        if now - start > self.interaction_ack_timeout:
            raise err.error(404, err.UNKNOWN_INTERACTION, "Unknown interaction")
        allowed = {
            INTERACTION_APPLICATION_COMMAND: {4, 5, 9},
            INTERACTION_MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            INTERACTION_AUTOCOMPLETE: {8},
            INTERACTION_MODAL_SUBMIT: {4, 5, 6, 7},
        }[inter.type]
        if ctype not in allowed:
            errors = FormErrors()
            errors.add(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {ctype} is not valid for interaction type "
                f"{inter.type}; expected one of {sorted(allowed)}.",
            )
            errors.raise_if_any()
        channel = self.channels[inter.channel_id]
        message: dict[str, Any] | None = None
        if ctype == 4:
            payload = data or {}
            validate_message(payload, has_attachments=bool(files))
            attachments = self._build_attachments(payload, files, channel.id, existing=[])
            message = self._compose_message(
                channel,
                self.bot_user,
                payload,
                attachments,
                flags_mask=_INTERACTION_MESSAGE_FLAGS,
                message_type=self._interaction_message_type(inter),
                interaction=inter,
            )
            self._store_message(message)
            inter.original_message_id = int(message["id"])
            self._dispatch_message("MESSAGE_CREATE", message)
        elif ctype == 5:
            ephemeral = bool(((data or {}).get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._compose_message(
                channel,
                self.bot_user,
                {},
                [],
                extra_flags=FLAG_LOADING | (FLAG_EPHEMERAL if ephemeral else 0),
                message_type=self._interaction_message_type(inter),
                interaction=inter,
            )
            self._store_message(message)
            inter.original_message_id = int(message["id"])
            inter.deferred_loading = True
            inter.ephemeral_defer = ephemeral
            self._dispatch_message("MESSAGE_CREATE", message)
        elif ctype in (6, 7):
            inter.original_message_id = inter.source_message_id
            if ctype == 7:
                if inter.source_message_id is None or inter.source_message_id not in self._messages:
                    raise err.error(404, err.UNKNOWN_MESSAGE, "Unknown Message")
                message = self._messages[inter.source_message_id]
                self._apply_edit(message, data or {}, files)
                self._dispatch_message("MESSAGE_UPDATE", message)
        elif ctype == 8:
            validate_autocomplete(data)
        elif ctype == 9:
            validate_modal(data)
        inter.callback_type = ctype
        inter.acknowledged_at = now
        return message

    def _interaction_message_type(self, inter: FakeInteraction) -> int:
        if inter.type != INTERACTION_APPLICATION_COMMAND:
            return 0
        # CHAT_INPUT_COMMAND (20) for slash commands, CONTEXT_MENU_COMMAND (23) otherwise.
        return 20 if inter.payload["data"].get("type", 1) == 1 else 23

    def _webhook_interaction(self, app_id: str, token: str) -> FakeInteraction:
        inter = self._interactions_by_token.get(token)
        if int(app_id) != self.app_id or inter is None:
            raise err.error(404, err.UNKNOWN_WEBHOOK, "Unknown Webhook")
        age = asyncio.get_running_loop().time() - inter.created_at
        if age > self.interaction_token_ttl:
            raise err.error(401, err.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        return inter

    def _interaction_message(
        self, inter: FakeInteraction, message_id: int | None
    ) -> dict[str, Any]:
        if message_id is None or message_id not in self._messages:
            raise err.error(404, err.UNKNOWN_MESSAGE, "Unknown Message")
        return self._messages[message_id]

    def _record_webhook_action(
        self,
        inter: FakeInteraction,
        kind: str,
        data: Any,
        message: dict[str, Any] | None,
        **extra: Any,
    ) -> None:
        entry: dict[str, Any] = {
            "kind": kind,
            "data": copy.deepcopy(data),
            "at": asyncio.get_running_loop().time(),
            **extra,
        }
        if message is not None:
            entry["message_id"] = int(message["id"])
            entry["message"] = copy.deepcopy(message)
        inter.responses.append(entry)
        self._notify()

    async def _r_get_original(self, req: _Request, app_id: str, token: str) -> tuple[int, Any]:
        inter = self._webhook_interaction(app_id, token)
        return 200, self._public(self._interaction_message(inter, inter.original_message_id))

    async def _r_edit_original(self, req: _Request, app_id: str, token: str) -> tuple[int, Any]:
        inter = self._webhook_interaction(app_id, token)
        entry = {"kind": "edit_original", "data": copy.deepcopy(req.json)}
        try:
            if inter.callback_type is None:
                raise err.error(404, err.UNKNOWN_WEBHOOK, "Unknown Webhook")
            message = self._interaction_message(inter, inter.original_message_id)
            self._apply_edit(message, req.json or {}, req.files)
        except DiscordHTTPError as exc:
            self._reject(inter, entry, exc)
            raise
        inter.deferred_loading = False
        self._dispatch_message("MESSAGE_UPDATE", message)
        self._record_webhook_action(inter, "edit_original", req.json, message)
        return 200, self._public(message)

    async def _r_delete_original(self, req: _Request, app_id: str, token: str) -> tuple[int, Any]:
        inter = self._webhook_interaction(app_id, token)
        message = self._interaction_message(inter, inter.original_message_id)
        self._delete_message(int(message["id"]))
        self._record_webhook_action(
            inter, "delete_original", None, None, message_id=int(message["id"])
        )
        return 204, None

    async def _r_followup(self, req: _Request, app_id: str, token: str) -> tuple[int, Any]:
        inter = self._webhook_interaction(app_id, token)
        payload = req.json or {}
        entry = {"kind": "followup", "data": copy.deepcopy(payload)}
        try:
            if inter.callback_type is None:
                raise err.error(404, err.UNKNOWN_WEBHOOK, "Unknown Webhook")
            validate_message(payload, has_attachments=bool(req.files))
            if inter.deferred_loading:
                # Discord quirk: the first followup after a type-5 defer edits the "thinking"
                # message instead of creating one, and keeps the defer's ephemeral-ness.
                message = self._interaction_message(inter, inter.original_message_id)
                edit = {k: v for k, v in payload.items() if k != "flags"}
                self._apply_edit(message, edit, req.files)
                inter.deferred_loading = False
                self._dispatch_message("MESSAGE_UPDATE", message)
                self._record_webhook_action(
                    inter, "followup", payload, message, edited_original=True
                )
                return 200, self._public(message)
            channel = self.channels[inter.channel_id]
            attachments = self._build_attachments(payload, req.files, channel.id, existing=[])
            message = self._compose_message(
                channel,
                self.bot_user,
                payload,
                attachments,
                flags_mask=_INTERACTION_MESSAGE_FLAGS,
                message_type=self._interaction_message_type(inter),
                interaction=inter,
            )
        except DiscordHTTPError as exc:
            self._reject(inter, entry, exc)
            raise
        self._store_message(message)
        inter.followup_ids.append(int(message["id"]))
        self._dispatch_message("MESSAGE_CREATE", message)
        self._record_webhook_action(inter, "followup", payload, message, edited_original=False)
        return 200, self._public(message)

    def _owned_message(self, inter: FakeInteraction, message_id: str) -> dict[str, Any]:
        mid = int(message_id)
        if mid != inter.original_message_id and mid not in inter.followup_ids:
            raise err.error(404, err.UNKNOWN_MESSAGE, "Unknown Message")
        return self._interaction_message(inter, mid)

    async def _r_get_followup(
        self, req: _Request, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        inter = self._webhook_interaction(app_id, token)
        return 200, self._public(self._owned_message(inter, message_id))

    async def _r_edit_followup(
        self, req: _Request, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        inter = self._webhook_interaction(app_id, token)
        message = self._owned_message(inter, message_id)
        self._apply_edit(message, req.json or {}, req.files)
        if int(message_id) == inter.original_message_id:
            inter.deferred_loading = False
            kind = "edit_original"
        else:
            kind = "edit_followup"
        self._dispatch_message("MESSAGE_UPDATE", message)
        self._record_webhook_action(inter, kind, req.json, message)
        return 200, self._public(message)

    async def _r_delete_followup(
        self, req: _Request, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        inter = self._webhook_interaction(app_id, token)
        message = self._owned_message(inter, message_id)
        self._delete_message(int(message["id"]))
        kind = (
            "delete_original" if int(message_id) == inter.original_message_id else "delete_followup"
        )
        self._record_webhook_action(inter, kind, None, None, message_id=int(message_id))
        return 204, None

    # ------------------------------------------------------------------ gateway server

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = request.query
        compress = query.get("compress")
        conn = GatewayConnection(ws=ws, request=request, compress=compress, path=request.path_qs)
        self.gateway_connects.append(request.path_qs)
        self.connections.append(conn)
        conn.writer = asyncio.create_task(conn.run_writer())
        try:
            if query.get("v") not in (None, "10"):
                conn.close_after_pending(CLOSE_INVALID_API_VERSION, "Invalid API version.")
            elif query.get("encoding", "json") != "json":
                conn.close_after_pending(CLOSE_DECODE_ERROR, "Only JSON encoding is supported.")
            else:
                try:
                    conn.compressor = make_compressor(compress)
                except (ValueError, ImportError) as exc:
                    conn.close_after_pending(CLOSE_UNKNOWN_ERROR, str(exc))
                else:
                    conn.send(
                        {
                            "op": OP_HELLO,
                            "d": {
                                "heartbeat_interval": self.heartbeat_interval_ms,
                                "_trace": ["fake-discord"],
                            },
                        }
                    )
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_gateway_payload(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    conn.close_after_pending(CLOSE_DECODE_ERROR, "Error while decoding payload.")
                else:
                    break
        finally:
            await self._on_connection_closed(conn)
        return ws

    async def _on_connection_closed(self, conn: GatewayConnection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)
        if conn.dropped:
            self.gateway_closes.append(("fake", 1006))
        elif conn.closed_by_fake:
            self.gateway_closes.append(("fake", conn.sent_close_code))
        else:
            self.gateway_closes.append(("client", conn.ws.close_code))
        conn.fail_pending()
        if conn.writer is not None and not conn.writer.done():
            conn.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await conn.writer
        session = conn.session
        if session is not None and session.connection is conn:
            session.connection = None
            # A clean client-side close (1000/1001) ends the session, as on real Discord.
            if not conn.closed_by_fake and conn.ws.close_code in (1000, 1001):
                session.resumable = False
                self.sessions.pop(session.session_id, None)
        self._notify()

    def _on_gateway_payload(self, conn: GatewayConnection, raw: str) -> None:
        try:
            message = json.loads(raw)
            op = message["op"]
        except (ValueError, KeyError, TypeError):
            conn.close_after_pending(CLOSE_DECODE_ERROR, "Error while decoding payload.")
            return
        data = message.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            self.heartbeat_count += 1
            if self.ack_heartbeats:
                conn.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            self._on_identify(conn, data or {})
        elif op == OP_RESUME:
            self._on_resume(conn, data or {})
        elif conn.session is None:
            conn.close_after_pending(CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
        elif op == OP_PRESENCE_UPDATE:
            conn.session.presence = data
            self.presence_updates.append(data)
        elif op == OP_REQUEST_GUILD_MEMBERS:
            self._on_request_members(conn.session, data or {})
        elif op == OP_VOICE_STATE_UPDATE:
            pass
        else:
            conn.close_after_pending(CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")
        self._notify()

    def _on_identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        self.identify_count += 1
        self.identify_payloads.append(copy.deepcopy(data))
        if conn.session is not None:
            conn.close_after_pending(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
            return
        if data.get("token") != self.token:
            conn.close_after_pending(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            conn.close_after_pending(CLOSE_INVALID_INTENTS, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            conn.close_after_pending(CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s).")
            return
        shard: tuple[int, int] | None = None
        if data.get("shard") is not None:
            raw_shard = data["shard"]
            if (
                not isinstance(raw_shard, list)
                or len(raw_shard) != 2
                or not 0 <= raw_shard[0] < raw_shard[1]
            ):
                conn.close_after_pending(CLOSE_INVALID_SHARD, "Invalid shard.")
                return
            shard = (int(raw_shard[0]), int(raw_shard[1]))
        session = GatewaySession(
            session_id=secrets.token_hex(16), token=self.token, intents=intents, shard=shard
        )
        self.sessions[session.session_id] = session
        conn.session = session
        guilds = [g for g in self.guilds.values() if session.covers_guild(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self._bot_user_payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.app_id), "flags": self._app_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake-local"],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-discord"],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        conn.send(session.next_dispatch("READY", ready))
        for guild in guilds:
            conn.send(
                session.next_dispatch("GUILD_CREATE", self._guild_create_payload(guild, session))
            )
        # Attach only after the backlog is queued so later dispatches cannot overtake it.
        session.connection = conn

    def _on_resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        self.resume_count += 1
        self.resume_payloads.append(copy.deepcopy(data))
        if data.get("token") != self.token:
            conn.close_after_pending(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not session.resumable:
            conn.send({"op": OP_INVALID_SESSION, "d": False})
            return
        old = session.connection
        if old is not None and old is not conn:
            old.session = None
            old.close_after_pending(CLOSE_UNKNOWN_ERROR, "Session resumed elsewhere.")
        seq = int(data.get("seq") or 0)
        for payload in session.log:
            if payload["s"] > seq and payload["t"] not in ("READY", "RESUMED"):
                conn.send(payload)
                self.replayed_event_count += 1
        conn.send(session.next_dispatch("RESUMED", {"_trace": ["fake-discord"]}))
        conn.session = session
        session.connection = conn

    def _on_request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        gid = int(data.get("guild_id", 0))
        members = self._members_of(gid) if gid in self.guilds else []
        query = data.get("query")
        user_ids = data.get("user_ids")
        if user_ids is not None:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m.id in wanted]
        elif query:
            members = [m for m in members if m.username.lower().startswith(query.lower())]
        limit = data.get("limit") or 0
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(gid),
            "members": [m.member_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        if data.get("presences"):
            chunk["presences"] = []
        payload = session.next_dispatch("GUILD_MEMBERS_CHUNK", chunk)
        if session.connection is not None:
            session.connection.send(payload)


def _json_response(data: Any, status: int, headers: dict[str, str]) -> web.Response:
    # discord.py only decodes JSON when Content-Type is exactly "application/json", and
    # aiohttp's json_response would append "; charset=utf-8".
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**headers, "Content-Type": "application/json"},
    )


def _default_error_body(status: int) -> dict[str, Any]:
    return {
        400: {"message": "400: Bad Request", "code": 0},
        401: {"message": "401: Unauthorized", "code": 0},
        403: {"message": "Missing Permissions", "code": 50013},
        404: {"message": "404: Not Found", "code": 0},
        500: {"message": "500: Internal Server Error", "code": 0},
        502: {"message": "502: Bad Gateway", "code": 0},
        503: {"message": "503: Service Unavailable", "code": 0},
    }.get(status, {"message": f"{status}: Error", "code": 0})
