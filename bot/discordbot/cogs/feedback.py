"""Feedback: 👍 / 👎 on answers, and the /qa gaps report of what the articles fail to answer."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.discordbot.answer_buttons import UP, ButtonState
from bot.discordbot.embeds import USAGE_COLOUR
from bot.discordbot.routing import Via
from bot.discordbot.safetext import fit_embed, safe_text
from bot.discordbot.sending import apologise, notify
from bot.discordbot.state import QuestionRecord, VoteTally
from bot.index.tokenize import terms

if TYPE_CHECKING:
    from bot.discordbot.client import QABot

VOTES_OFF_NOTICE = "Thanks, but votes are kept only in servers, for their admins."
# Two questions are alike when they share this share of their content words.
ALIKE = 0.5
_SHOWN = 8


def vote_notice(vote: int, old: int | None) -> str:
    """Say what a click did to the user's vote."""
    emoji = "👍" if vote > 0 else "👎"
    if old is None:
        return f"Thanks: your {emoji} is recorded for the server's admins."
    if old == vote:
        return f"You already voted {emoji} on this answer."
    return f"Changed your vote to {emoji}."


def group_alike(questions: Sequence[str]) -> list[tuple[str, int]]:
    """Group questions sharing most of their content words; (example, count), largest first."""
    groups: list[tuple[frozenset[str], str, int]] = []
    for question in questions:
        words = frozenset(terms(question)) or frozenset([question.lower()])
        for i, (seen, example, count) in enumerate(groups):
            if len(words & seen) / len(words | seen) >= ALIKE:
                groups[i] = (seen | words, example, count + 1)
                break
        else:
            groups.append((words, question, 1))
    return sorted(((e, c) for _, e, c in groups), key=lambda g: -g[1])


def _lines(items: Sequence[str], empty: str) -> str:
    return "\n".join(items[:_SHOWN]) if items else empty


def gaps_embed(
    days: int,
    records: Sequence[QuestionRecord],
    tallies: Sequence[VoteTally],
    *,
    stores_text: bool,
) -> discord.Embed:
    """Report the questions the articles did not answer well, for a server's admins."""
    asked = [r for r in records if r.asked]
    declined = [r for r in asked if r.status == "not_found"]
    weak = [r for r in asked if r.status == "answered" and r.confidence == "low"]
    rate = f"{len(declined) / len(asked):.0%}" if asked else "-"
    embed = discord.Embed(
        title=f"Questions of the last {days} days",
        description=f"{len(asked)} asked · {len(declined)} declined ({rate}) · "
        f"{len(weak)} answered with low confidence",
        colour=USAGE_COLOUR,
    )
    texts = [r.question for r in declined + weak if r.question]
    if texts:
        lines = [f"×{n} {safe_text(q, 150)}" for q, n in group_alike(texts)]
        embed.add_field(name="Declined or unsure, grouped", value=_lines(lines, "-"), inline=False)
    elif declined or weak:
        embed.add_field(
            name="Declined or unsure",
            value="Question text is not kept on this server (turn it on with "
            "`/qa settings store_questions:True`); only counts and citations are.",
            inline=False,
        )
    cited = Counter(title for r in asked if r.status == "answered" for title in r.articles)
    lines = [f"{n}× {safe_text(title, 120)}" for title, n in cited.most_common(_SHOWN)]
    embed.add_field(name="Most-asked articles", value=_lines(lines, "None yet."), inline=False)
    down = [t for t in tallies if t.down]
    lines = []
    for tally in down:
        record = tally.record
        citations = ", ".join(record.citations[:4]) if record else "citations not kept"
        text = f" {safe_text(record.question, 100)}" if record and record.question else ""
        lines.append(f"👎 {tally.down} · 👍 {tally.up} ·{text} [{safe_text(citations, 200)}]")
    embed.add_field(name="Thumbs-down answers", value=_lines(lines, "None."), inline=False)
    if not stores_text:
        embed.set_footer(text="Question text is kept only when store_questions is on.")
    return fit_embed(embed)


class Feedback(commands.Cog):
    """Record votes on answers and report the gaps in a server's articles."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def clicked(self, interaction: discord.Interaction[Any], state: ButtonState) -> None:
        """Record a 👍 or 👎: one vote per user per answer, changed by clicking the other."""
        try:
            db = self.bot.state
            if db is None or interaction.guild_id is None:
                # Votes go to a server's admins; nothing is kept for direct messages.
                await notify(interaction, VOTES_OFF_NOTICE)
                return
            vote = 1 if state.kind == UP else -1
            old = db.vote(state.answer_id, interaction.guild_id, interaction.user.id, vote)
            await notify(interaction, vote_notice(vote, old))
        except Exception:
            await apologise(interaction, Via.BUTTON)

    def gaps(self, guild_id: int, days: int) -> discord.Embed:
        """Build the /qa gaps report of one server."""
        db = self.bot.state
        assert db is not None
        since = time.time() - days * 86400
        config = self.bot.config_for(guild_id)
        return gaps_embed(
            days,
            db.questions_since(guild_id, since),
            db.tallies_since(guild_id, since),
            stores_text=config.store_questions,
        )
