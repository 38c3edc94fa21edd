"""The buttons under an answer, as persistent components whose custom id carries their state.

A custom id reads ``qa:<kind>:<answer id>:<offset>:<marks>[:s<server>]``: what the button
does, the answer's id (its votes and its entry in the answer store), the first passage shown,
a five-letter mark of each cited article (a hash of its key and content), and, on a DM's
answer from a server's articles, that server (at most 99 characters with 10 articles). After
a restart, or on another process, a click finds the answer in the store or recomputes it (see
the Buttons cog); the marks tell whether the articles it quoted have changed since.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.answer.engine import Engine
from bot.answer.models import Answer
from bot.discordbot.safetext import CUSTOM_ID_LIMIT, button_label
from bot.ingest.models import Article

CONTEXT = "ctx"
MORE = "more"
SHARE = "share"
UP = "up"
DOWN = "down"
MARK_LENGTH = 5
_TEMPLATE = re.compile(
    r"qa:(?P<kind>ctx|more|share|up|down):(?P<answer_id>[A-Za-z0-9_-]{1,16})"
    r":(?P<offset>\d{1,4}):(?P<marks>(?:[a-z2-7]{5}){0,12})(?::s(?P<server>\d{1,20}))?"
)
_MARKS: weakref.WeakKeyDictionary[Engine, dict[str, Article]] = weakref.WeakKeyDictionary()


def new_answer_id() -> str:
    """Return a fresh random answer id (random: an old button must not find a new answer)."""
    return secrets.token_urlsafe(9)


def article_mark(article: Article) -> str:
    """Return a short mark that changes when the article's key or content changes."""
    digest = hashlib.blake2s(f"{article.key}\0{article.content_hash}".encode()).digest()
    return base64.b32encode(digest).decode()[:MARK_LENGTH].lower()


def marks_of(engine: Engine) -> dict[str, Article]:
    """Map the marks of an engine's articles to the articles (cached per engine)."""
    marks = _MARKS.get(engine)
    if marks is None:
        marks = _MARKS[engine] = {article_mark(a): a for a in engine.articles}
    return marks


def cited_marks(engine: Engine, answer: Answer) -> tuple[str, ...]:
    """Return the marks of the articles an answer cites, in order, each once."""
    by_key = {a.key: a for a in marks_of(engine).values()}
    seen: list[str] = []
    for passage in answer.passages:
        article = by_key.get(passage.article_key)
        if article is not None and (mark := article_mark(article)) not in seen:
            seen.append(mark)
    return tuple(seen)


@dataclass(frozen=True)
class ButtonState:
    """What a button's custom id says."""

    kind: str
    answer_id: str
    offset: int
    marks: tuple[str, ...]
    server: int | None = None  # a DM's answer from this server's articles

    @property
    def custom_id(self) -> str:
        """Return the custom id, at most 100 characters."""
        marks = "".join(self.marks)
        server = f":s{self.server}" if self.server is not None else ""
        value = f"qa:{self.kind}:{self.answer_id}:{self.offset}:{marks}{server}"
        if len(value) > CUSTOM_ID_LIMIT:
            raise ValueError(f"custom_id over {CUSTOM_ID_LIMIT} characters: {value[:40]!r}…")
        return value


def parse_custom_id(value: str) -> ButtonState | None:
    """Read a button's custom id back, or None if it is not one of ours."""
    match = _TEMPLATE.fullmatch(value)
    if match is None:
        return None
    marks = match.group("marks")
    return ButtonState(
        match.group("kind"),
        match.group("answer_id"),
        int(match.group("offset")),
        tuple(marks[i : i + MARK_LENGTH] for i in range(0, len(marks), MARK_LENGTH)),
        int(match.group("server")) if match.group("server") else None,
    )


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_TEMPLATE):
    """A persistent answer button; clicks go to the cog that owns its kind."""

    def __init__(
        self,
        state: ButtonState,
        *,
        label: str,
        style: discord.ButtonStyle,
        disabled: bool = False,
        emoji: str | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=button_label(label) if label else None,
                emoji=emoji,
                style=style,
                custom_id=state.custom_id,
                disabled=disabled,
            )
        )
        self.state = state

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        """Rebuild the button from a click's custom id."""
        state = parse_custom_id(match.group(0))
        assert state is not None  # the template matched
        return cls(state, label="", style=discord.ButtonStyle.secondary)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the bot, which routes it by kind."""
        await interaction.client.on_answer_button(interaction, self.state)  # type: ignore[attr-defined]


def answer_view(
    answer_id: str,
    answer: Answer,
    marks: Sequence[str] = (),
    *,
    private: bool = False,
    votes: bool = True,
    server: int | None = None,
) -> discord.ui.View | None:
    """Return the buttons for an answer with passages, else None.

    Show context, More (disabled on the last page), Share in channel on a private answer,
    and 👍 / 👎; server names the articles a DM's answer came from.
    """
    if not answer.answered or not answer.passages:
        return None
    # Ten marks (k is at most 10) and a server id still fit in 100 characters.
    marks = tuple(marks)[: 10 if server is not None else 12]

    def state(kind: str) -> ButtonState:
        return ButtonState(kind, answer_id, answer.offset, marks, server)

    view = discord.ui.View(timeout=None)
    buttons: list[AnswerButton] = [
        AnswerButton(state(CONTEXT), label="Show context", style=discord.ButtonStyle.secondary),
        AnswerButton(
            state(MORE),
            label="More",
            style=discord.ButtonStyle.primary,
            disabled=not answer.has_more,
        ),
    ]
    if private:
        buttons.append(
            AnswerButton(state(SHARE), label="Share in channel", style=discord.ButtonStyle.success)
        )
    if votes:
        buttons += [
            AnswerButton(state(UP), label="", emoji="👍", style=discord.ButtonStyle.secondary),
            AnswerButton(state(DOWN), label="", emoji="👎", style=discord.ButtonStyle.secondary),
        ]
    for button in buttons:
        view.add_item(button)
    return view


def marks_known(engine: Engine, marks: Iterable[str]) -> bool:
    """Tell whether every article behind these marks is still served, unchanged."""
    known = marks_of(engine)
    return all(mark in known for mark in marks)
