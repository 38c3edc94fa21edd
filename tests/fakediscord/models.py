"""State objects of the fake Discord: users, guilds, channels, interactions, request log."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .snowflake import snowflake_iso

# Everything except ADMINISTRATOR-only niceties; enough for discord.py permission checks.
ALL_PERMISSIONS = (1 << 50) - 1
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5

CHANNEL_TEXT = 0
CHANNEL_DM = 1
CHANNEL_PUBLIC_THREAD = 11
CHANNEL_PRIVATE_THREAD = 12
THREAD_TYPES = frozenset({10, CHANNEL_PUBLIC_THREAD, CHANNEL_PRIVATE_THREAD})

INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_MESSAGE_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5


@dataclass
class FakeUser:
    """A Discord user known to the fake; `guild_ids=None` means member of every guild."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    guild_ids: set[int] | None = None
    nick: str | None = None
    role_ids: list[int] = field(default_factory=list)
    joined_at: str = ""

    def __int__(self) -> int:
        """Let a FakeUser be passed wherever a user id is expected."""
        return self.id

    @property
    def mention(self) -> str:
        """Return the `<@id>` mention markup for this user."""
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        """Return the user object Discord would send."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    def member_payload(self, *, with_user: bool = True) -> dict[str, Any]:
        """Return the guild member object Discord would send."""
        data: dict[str, Any] = {
            "nick": self.nick,
            "avatar": None,
            "roles": [str(r) for r in self.role_ids],
            "joined_at": self.joined_at or snowflake_iso(self.id),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.payload()
        return data

    def is_member_of(self, guild_id: int) -> bool:
        """Return whether the user belongs to the guild."""
        return self.guild_ids is None or guild_id in self.guild_ids


@dataclass
class FakeChannel:
    """A guild text channel or a DM channel."""

    id: int
    type: int
    name: str | None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    recipient_id: int | None = None
    last_message_id: int | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    message_count: int = 0

    @property
    def is_thread(self) -> bool:
        """Return whether this channel is a thread."""
        return self.type in THREAD_TYPES

    def payload(self, users: dict[int, FakeUser] | None = None) -> dict[str, Any]:
        """Return the channel object Discord would send."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": 0,
        }
        if self.type == CHANNEL_DM:
            recipient = (users or {}).get(self.recipient_id or 0)
            data["recipients"] = [recipient.payload()] if recipient else []
            return data
        data.update(
            {
                "guild_id": str(self.guild_id),
                "name": self.name,
                "parent_id": str(self.parent_id) if self.parent_id else None,
                "rate_limit_per_user": 0,
                "nsfw": False,
            }
        )
        if self.is_thread:
            created = snowflake_iso(self.id)
            data.update(
                {
                    "owner_id": str(self.owner_id) if self.owner_id else None,
                    "message_count": self.message_count,
                    "total_message_sent": self.message_count,
                    "member_count": 1,
                    "thread_metadata": {
                        "archived": False,
                        "auto_archive_duration": 1440,
                        "archive_timestamp": created,
                        "locked": False,
                        "create_timestamp": created,
                        "invitable": True,
                    },
                }
            )
        else:
            data.update(
                {"position": self.position, "permission_overwrites": [], "topic": self.topic}
            )
        return data


@dataclass
class FakeGuild:
    """A guild with its channels and roles; members are derived from users."""

    id: int
    name: str
    owner_id: int
    channel_ids: list[int] = field(default_factory=list)
    thread_ids: list[int] = field(default_factory=list)
    roles: dict[int, dict[str, Any]] = field(default_factory=dict)

    def everyone_role(self) -> dict[str, Any]:
        """Return the @everyone role, whose id equals the guild id."""
        return self.roles[self.id]


@dataclass
class FakeInteraction:
    """An interaction the fake sent to the bot, plus everything the bot did in reply."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    user: FakeUser
    channel_id: int
    guild_id: int | None
    created_at: float
    command_name: str | None = None
    source_message_id: int | None = None
    sent_at: float | None = None
    callback_type: int | None = None
    acknowledged_at: float | None = None
    original_message_id: int | None = None
    ephemeral_defer: bool = False
    deferred_loading: bool = False
    responses: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    followup_ids: list[int] = field(default_factory=list)

    def __int__(self) -> int:
        """Let a FakeInteraction be passed wherever an interaction id is expected."""
        return self.id

    @property
    def modal(self) -> dict[str, Any] | None:
        """Return the modal the bot opened in reply, if any."""
        for entry in self.responses:
            if entry["kind"] == "callback" and entry["type"] == 9:
                return entry["data"]
        return None

    @property
    def autocomplete_choices(self) -> list[dict[str, Any]] | None:
        """Return the autocomplete choices the bot answered with, if any."""
        for entry in self.responses:
            if entry["kind"] == "callback" and entry["type"] == 8:
                return list((entry["data"] or {}).get("choices") or [])
        return None

    def is_done(self) -> bool:
        """Return whether the user can see a final (non-"thinking") result."""
        deferred = False
        for entry in self.responses:
            kind = entry["kind"]
            if kind == "callback":
                if entry["type"] in (4, 7, 8, 9):
                    return True
                if entry["type"] in (5, 6):
                    deferred = True
            elif kind == "followup" or (kind == "edit_original" and deferred):
                return True
        return False


@dataclass
class RecordedRequest:
    """One REST request the bot made, as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[dict[str, Any]]
    headers: dict[str, str]
    time: float
    status: int = 0
    response: Any = None
    injected: bool = False

    def matches(self, method: str, path_regex: str) -> bool:
        """Return whether method (or '*') and a regex search on the API path both match."""
        return (method == "*" or method.upper() == self.method) and bool(
            re.search(path_regex, self.path)
        )


@dataclass
class InjectedFailure:
    """A queued fault: the next matching request(s) fail with this status."""

    method: str
    pattern: re.Pattern[str]
    status: int
    json_body: dict[str, Any] | None
    retry_after: float | None
    times: int
    is_global: bool = False
    scope: str = "user"
    headers: dict[str, str] = field(default_factory=dict)
    # True: the request takes effect and only the response is the error (a lost reply).
    after_effect: bool = False

    def matches(self, method: str, path: str) -> bool:
        """Return whether this fault applies to a request."""
        return (self.method == "*" or self.method == method) and bool(self.pattern.search(path))
