"""Decide whether a message is a question for the bot, and extract the question from it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import discord

from bot.settings import Settings

# Message types a person writes; joins, pins, boosts and the like are not questions.
_USER_MESSAGE_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
# What a mention often leaves at the start: "@Bot, why …" or "@Bot: why …".
_LEADING_PUNCTUATION = re.compile(r"^[\s,:;.!-]+")


class Via(Enum):
    """How a question reached the bot, as logged."""

    SLASH = "slash"
    MENTION = "mention"
    REPLY = "reply"
    DM = "dm"
    ASK_CHANNEL = "ask-channel"
    BUTTON = "button"


class Action(Enum):
    """What to do with a message."""

    IGNORE = "ignore"
    ANSWER = "answer"
    DMS_OFF = "dms-off"  # a DM while DMs are turned off: say so
    UNREADABLE = "unreadable"  # addressed to the bot, but Discord withheld the text


@dataclass(frozen=True)
class Policy:
    """The settings that decide where the bot answers."""

    allowed_channel_ids: frozenset[int] = frozenset()
    ask_channel_ids: frozenset[int] = frozenset()
    allow_dms: bool = True
    message_content_intent: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """Take the policy from the settings."""
        return cls(
            allowed_channel_ids=settings.allowed_channel_ids,
            ask_channel_ids=settings.ask_channel_ids,
            allow_dms=settings.allow_dms,
            message_content_intent=settings.message_content_intent,
        )

    def channel_allowed(self, channel_id: int, parent_id: int | None = None) -> bool:
        """Tell whether the bot may answer in a guild channel (or a thread under one)."""
        if not self.allowed_channel_ids:
            return True
        return channel_id in self.allowed_channel_ids or parent_id in self.allowed_channel_ids

    def is_ask_channel(self, channel_id: int, parent_id: int | None = None) -> bool:
        """Tell whether every message in this channel (or its threads) is a question."""
        return channel_id in self.ask_channel_ids or parent_id in self.ask_channel_ids


@dataclass(frozen=True)
class MessageFacts:
    """What the decision needs to know about a message, free of discord.py objects."""

    author_id: int
    channel_id: int
    content: str
    is_dm: bool = False
    author_is_bot: bool = False  # bots and webhooks
    is_self: bool = False
    is_system: bool = False
    parent_id: int | None = None  # the channel a thread belongs to
    mentions_bot: bool = False
    replies_to_bot: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome for one message: an action, and for answers the route and question."""

    action: Action
    via: Via | None = None
    question: str = ""


IGNORE = Decision(Action.IGNORE)


def strip_mentions(content: str, bot_id: int, role_id: int | None = None) -> str:
    """Remove mentions of the bot (user or its managed role) and leading punctuation."""
    pattern = rf"<@!?{bot_id}>"
    if role_id is not None:
        pattern += rf"|<@&{role_id}>"
    text = re.sub(pattern, " ", content)
    return _LEADING_PUNCTUATION.sub("", text).strip()


def decide(
    facts: MessageFacts, policy: Policy, bot_id: int, role_id: int | None = None
) -> Decision:
    """Decide whether and how to answer a message."""
    if facts.is_self or facts.author_is_bot or facts.is_system:
        return IGNORE
    question = strip_mentions(facts.content, bot_id, role_id)
    if facts.is_dm:
        if not policy.allow_dms:
            return Decision(Action.DMS_OFF, Via.DM)
        return Decision(Action.ANSWER, Via.DM, question)
    if not policy.channel_allowed(facts.channel_id, facts.parent_id):
        return IGNORE
    if facts.replies_to_bot:
        via = Via.REPLY
    elif facts.mentions_bot:
        via = Via.MENTION
    elif policy.message_content_intent and policy.is_ask_channel(facts.channel_id, facts.parent_id):
        via = Via.ASK_CHANNEL
    else:
        return IGNORE
    if not question:
        if via is Via.ASK_CHANNEL:
            return IGNORE  # an image or sticker posted in the channel, not a question
        if via is Via.REPLY and not facts.mentions_bot and not policy.message_content_intent:
            # Without the intent Discord sends no text for a reply that does not ping the bot.
            return Decision(Action.UNREADABLE, via)
    return Decision(Action.ANSWER, via, question)


def facts_from_message(
    message: discord.Message, bot_id: int, role_id: int | None = None
) -> MessageFacts:
    """Collect the facts about a discord.py message that decide() needs."""
    channel = message.channel
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
    reference = message.reference
    resolved = reference.resolved if reference is not None else None
    replies_to_bot = isinstance(resolved, discord.Message) and resolved.author.id == bot_id
    mentions_bot = any(user.id == bot_id for user in message.mentions) or (
        role_id is not None and role_id in message.raw_role_mentions
    )
    return MessageFacts(
        author_id=message.author.id,
        channel_id=channel.id,
        content=message.content,
        is_dm=message.guild is None,
        author_is_bot=message.author.bot or message.webhook_id is not None,
        is_self=message.author.id == bot_id,
        is_system=message.type not in _USER_MESSAGE_TYPES,
        parent_id=parent_id,
        mentions_bot=mentions_bot,
        replies_to_bot=replies_to_bot,
    )


def bot_role_id(message: discord.Message) -> int | None:
    """Return the id of the bot's own managed role in the message's guild, if known."""
    guild = message.guild
    role = guild.self_role if guild is not None else None
    return role.id if role is not None else None
