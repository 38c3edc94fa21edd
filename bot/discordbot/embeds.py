"""Build every embed the bot sends: answers, context, sources, help and reload reports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import discord

from bot.answer.models import Answer, Passage, Status
from bot.discordbot.safetext import (
    DESCRIPTION_LIMIT,
    ELLIPSIS,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    clip,
    fit_embed,
    plain,
    safe_text,
    size,
)
from bot.ingest.models import Article
from bot.live import ReloadResult
from bot.wording import plural

ANSWERED_COLOUR = discord.Colour.blurple()
NOT_FOUND_COLOUR = discord.Colour.greyple()
USAGE_COLOUR = discord.Colour.light_grey()
RELOADED_COLOUR = discord.Colour.green()
RELOAD_FAILED_COLOUR = discord.Colour.red()
# How many file names or failure lines a reload report lists before "and N more".
_RELOAD_LIST = 10
# How a follow-up's answer opens: the buttons read the question back from it after a restart.
READ_WITH = "(read with your previous question: "


def _label(passage: Passage) -> str:
    return f"**{safe_text('[' + passage.citation + ']', 120)}**"


def bolded(passage: Passage) -> tuple[tuple[int, int], ...]:
    """Return what to bold in a passage: the phrase that answers, else the matched words."""
    return passage.answer_spans or passage.highlights


def confidence_words(answer: Answer) -> str:
    """Say how sure the engine is that the passages answer, in words (empty if unknown)."""
    return {
        "high": "High confidence",
        "medium": "Medium confidence",
        "low": "Low confidence: check the passages",
    }.get(answer.confidence_label or "", "")


def links_text(passages: Sequence[Passage], limit: int = 1024) -> str:
    """List the cited articles that have a web address, as links that unfurl nothing."""
    lines: list[str] = []
    seen: set[str] = set()
    for passage in passages:
        url = _safe_url(passage.url)
        if url is None or url in seen:
            continue
        seen.add(url)
        title = safe_text(passage.article_title or url, 200)
        line = f"• [{title}](<{url}>)"
        if size("\n".join([*lines, line])) > limit:
            break
        lines.append(line)
    return "\n".join(lines)


def passages_text(passages: Sequence[Passage], limit: int = DESCRIPTION_LIMIT) -> str:
    """List passages with citation ids and matched words in bold, sharing limit fairly."""
    parts: list[str] = []
    remaining = limit
    for i, passage in enumerate(passages):
        separator = "\n\n" if parts else ""
        share = (remaining - size(separator)) // (len(passages) - i)
        label = _label(passage) + " "
        if share <= size(label) + size(ELLIPSIS):
            break
        body = safe_text(passage.text, share - size(label), highlights=bolded(passage))
        part = separator + label + body
        parts.append(part)
        remaining -= size(part)
    return "".join(parts)


def sources_line(passages: Sequence[Passage], limit: int = 1024) -> str:
    """Name the article (title and source) each passage comes from, once each."""
    seen: list[str] = []
    for passage in passages:
        name = passage.article_title
        if passage.source:
            name = f"{name} — {passage.source}"
        if passage.date:
            name = f"{name} ({passage.date})"
        if name not in seen:
            seen.append(name)
    return plain(" · ".join(seen), limit)


def question_title(question: str) -> str:
    """Echo a question as an embed title, escaped and shortened."""
    return safe_text(question, TITLE_LIMIT) or "Your question"


def answer_embed(answer: Answer) -> discord.Embed:
    """Render an answer: passages, a plain not-found message, or the usage hint."""
    if answer.status is Status.USAGE:
        return usage_embed(answer.message)
    embed = discord.Embed(title=question_title(answer.question))
    if answer.status is Status.NOT_FOUND or not answer.passages:
        embed.description = safe_text(
            answer.message or "The articles don't say.", DESCRIPTION_LIMIT, keep_newlines=True
        )
        embed.colour = NOT_FOUND_COLOUR
        return fit_embed(embed)
    read_with = ""
    if answer.read_with:
        read_with = f"{READ_WITH}{safe_text(answer.read_with, 200)})\n\n"
    embed.description = read_with + passages_text(
        answer.passages, DESCRIPTION_LIMIT - size(read_with)
    )
    embed.colour = ANSWERED_COLOUR
    links = links_text(answer.passages)
    if links:
        embed.add_field(name="Read the articles", value=links, inline=False)
    footer = sources_line(answer.passages)
    if words := confidence_words(answer):
        footer = f"{words} · {footer}"
    if answer.offset:
        first = answer.offset + 1
        footer = f"{footer} · passages {first}–{answer.offset + len(answer.passages)}"
    embed.set_footer(text=clip(footer, FOOTER_LIMIT))
    return fit_embed(embed)


def usage_embed(message: str) -> discord.Embed:
    """Render the usage hint for input that is not a question."""
    embed = discord.Embed(
        title="How to ask",
        description=safe_text(message, DESCRIPTION_LIMIT, keep_newlines=True),
        colour=USAGE_COLOUR,
    )
    return fit_embed(embed)


def context_embed(answer: Answer) -> discord.Embed:
    """Show each cited passage between the sentences before and after it."""
    embed = discord.Embed(title=question_title(answer.question), colour=ANSWERED_COLOUR)
    parts: list[str] = []
    remaining = DESCRIPTION_LIMIT
    passages = answer.passages
    for i, passage in enumerate(passages):
        separator = "\n\n" if parts else ""
        share = (remaining - size(separator)) // (len(passages) - i)
        label = _label(passage)
        room = share - size(label) - 10  # newlines and the quote marker
        if room <= 3 * size(ELLIPSIS):
            break
        side = room // 4
        before = safe_text(passage.context_before, side) if passage.context_before else ""
        after = safe_text(passage.context_after, side) if passage.context_after else ""
        body_room = room - size(before) - size(after)
        body = safe_text(passage.text, body_room, highlights=bolded(passage))
        lines = [label, *([before] if before else []), f"> {body}", *([after] if after else [])]
        part = separator + "\n".join(lines)
        parts.append(part)
        remaining -= size(part)
    embed.description = "".join(parts) or "No context to show."
    embed.set_footer(text=sources_line(passages))
    return fit_embed(embed)


def _safe_url(url: str | None) -> str | None:
    if url and re.fullmatch(r"https?://[^\s<>()\[\]|`\\]{1,300}", url):
        return url
    return None


def sources_embed(articles: Sequence[Article]) -> discord.Embed:
    """List the indexed articles with their source and sentence count."""
    count = len(articles)
    title = f"Indexed articles ({count})" if count != 1 else "Indexed article (1)"
    embed = discord.Embed(title=title, colour=ANSWERED_COLOUR)
    lines: list[str] = []
    used = 0
    for i, article in enumerate(articles):
        name = f"**{safe_text(article.title or article.key, 200)}**"
        url = _safe_url(article.url)
        if url:
            name = f"[{name}](<{url}>)"
        detail = plural(len(article.sentences), "sentence")  # the count every front end shows
        source = safe_text(article.source, 100) if article.source else ""
        line = f"• {name} — {source} · {detail}" if source else f"• {name} · {detail}"
        rest = count - i - 1
        tail = size(f"\n…and {rest} more") if rest else 0
        if used + size(line) + 1 + tail > DESCRIPTION_LIMIT - 40:
            lines.append(f"…and {count - i} more")
            break
        lines.append(line)
        used += size(line) + 1
    embed.description = "\n".join(lines) or "No articles are indexed."
    return fit_embed(embed)


def help_embed(
    *,
    bot_name: str,
    allow_dms: bool,
    ask_channel_ids: Iterable[int],
    cooldown_questions: int,
    cooldown_seconds: float,
    articles: int | None = None,
    has_corpus: bool = True,
) -> discord.Embed:
    """Explain every way to ask, for /help."""
    name = safe_text(bot_name, 80)
    if not has_corpus:
        intro = "No articles are set up for this server yet, so I have nothing to answer from."
    elif articles is not None:
        intro = (
            f"Ask a question about this server's {plural(articles, 'indexed news article')} "
            "in plain words."
        )
    else:
        intro = "Ask a question about the indexed news articles in plain words."
    lines = [
        intro + " Answers quote the articles' sentences with citations like **\\[3.1\\]** "
        "(paragraph 3, sentence 1).",
        "",
        "**Ways to ask**",
        "• `/ask question:` — add `private: True` to see the answer yourself only.",
        f"• Mention me: `@{name} why is North Korea courting ASEAN?`",
        "• Reply to one of my answers (or ask in a thread under it): a follow-up such as "
        "\u201cand when was that?\u201d is read with the question before it.",
    ]
    if allow_dms:
        lines.append("• Send me a direct message.")
    channels = sorted(ask_channel_ids)
    if channels:
        mentions = ", ".join(f"<#{c}>" for c in channels[:20])
        lines.append(f"• In {mentions} every message is a question.")
    lines += [
        "",
        "**Under each answer**",
        "• **Show context** shows the sentences around each quoted passage (only to you).",
        "• **More** shows the next passages.",
        "• **Share in channel** posts a private answer for everyone.",
        "• 👍 / 👎 tell this server's admins which answers helped.",
        "",
        "• `/sources` lists the articles I can answer from; `/ask` can keep to one `article:`, "
        "one `source:`, or dates `after:` and `before:`.",
        "• Admins (Manage Server) set me up here with `/qa`.",
    ]
    if cooldown_questions and cooldown_seconds:
        lines.append(
            f"• You can ask {plural(cooldown_questions, 'question')} "
            f"every {cooldown_seconds:g} seconds."
        )
    embed = discord.Embed(title="How to ask", description="\n".join(lines), colour=USAGE_COLOUR)
    return fit_embed(embed)


def _listed(items: Sequence[str], limit: int) -> str:
    """List names or lines, escaped, at most _RELOAD_LIST of them, within limit."""
    shown = [safe_text(item, 300) for item in items[:_RELOAD_LIST]]
    text = "\n".join(f"• {item}" for item in shown)
    if len(items) > _RELOAD_LIST:
        text += f"\n…and {len(items) - _RELOAD_LIST} more"
    return clip(text, limit)


def reload_embed(
    result: ReloadResult, before: tuple[int, int], after: tuple[int, int]
) -> discord.Embed:
    """Report a reload to the owner: counts before and after, what changed, what failed."""
    (articles_before, sentences_before), (articles_after, sentences_after) = before, after
    if not result.ok:
        embed = discord.Embed(
            title="Reload failed — still answering from the previous index",
            description=f"Serving {plural(articles_after, 'article')}, "
            f"{plural(sentences_after, 'sentence')}, as before.",
            colour=RELOAD_FAILED_COLOUR,
        )
        embed.add_field(
            name="What failed", value=_listed(result.failures or ("unknown",), 1000), inline=False
        )
    else:
        changes = result.changes
        embed = discord.Embed(
            title="Reloaded" if changes.any else "Reloaded — no article changed",
            description=f"Articles: {articles_before:,} → {articles_after:,} · "
            f"sentences: {sentences_before:,} → {sentences_after:,}",
            colour=RELOADED_COLOUR,
        )
        for label, names in (
            ("Added", changes.added),
            ("Changed", changes.changed),
            ("Removed", changes.removed),
        ):
            if names:
                embed.add_field(name=f"{label} ({len(names)})", value=_listed(names, 1000))
        if result.problems:
            embed.add_field(
                name=f"Skipped ({len(result.problems)})",
                value=_listed(result.problems, 1000),
                inline=False,
            )
    embed.set_footer(text=f"Took {result.seconds:.2f} s.")
    return fit_embed(embed)
