"""A fake Discord server (REST + gateway) on 127.0.0.1 for end-to-end tests of discord.py bots."""

from .errors import DiscordHTTPError
from .harness import running_client
from .models import FakeChannel, FakeGuild, FakeInteraction, FakeUser, RecordedRequest
from .server import FakeDiscord, FakeWorld
from .validation import (
    FLAG_EPHEMERAL,
    FLAG_IS_COMPONENTS_V2,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
)

__all__ = [
    "FLAG_EPHEMERAL",
    "FLAG_IS_COMPONENTS_V2",
    "FLAG_LOADING",
    "FLAG_SUPPRESS_EMBEDS",
    "FLAG_SUPPRESS_NOTIFICATIONS",
    "DiscordHTTPError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeUser",
    "FakeWorld",
    "RecordedRequest",
    "running_client",
]
