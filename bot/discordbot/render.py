"""Turn answers into Discord messages that stay within Discord's limits and ping nobody.

Every string the bot sends is built here. Echoed text (questions, passages, titles from the
corpus) is escaped so it renders as typed: markdown, mentions, masked links, spoilers and code
fences lose their meaning, and invisible-character floods are dropped. Limits are counted in
UTF-16 code units, which is never less than the code-point count Discord may use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import discord

from bot.answer.models import Answer, Passage, Status
from bot.ingest.models import Article
from bot.live import ReloadResult

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
FIELDS_LIMIT = 25
EMBEDS_LIMIT = 10
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100

ELLIPSIS = "…"
# Discord refuses empty field names and values; this renders as nothing.
BLANK = "\u200b"

ANSWERED_COLOUR = discord.Colour.blurple()
NOT_FOUND_COLOUR = discord.Colour.greyple()
USAGE_COLOUR = discord.Colour.light_grey()

EXPIRED_NOTICE = "This answer has expired — ask again."
APOLOGY = "Sorry, something went wrong while answering that. It has been logged; please try again."
DMS_OFF_NOTICE = "I don't answer direct messages here. Ask in a server channel with /ask."
UNREADABLE_NOTICE = (
    "I can't read that message: mention me in it (or use /ask) so Discord shows me the text."
)
RELOAD_REFUSED = "Only the bot's owner can reload the articles."
RELOAD_UNAVAILABLE = "This bot serves a fixed set of articles: there is nothing to reload."
RELOADED_COLOUR = discord.Colour.green()
RELOAD_FAILED_COLOUR = discord.Colour.red()
# How many file names or failure lines a reload report lists before "and N more".
_RELOAD_LIST = 10

# Escaped anywhere: formatting, spoilers, code, masked links, and <@id>/<#id>/<t:..> syntax.
_ALWAYS_ESCAPE = frozenset("\\*_~|`[<")
# Escaped as the first visible character of a line: quotes, headings, subtext, lists.
_LINE_START_ESCAPE = frozenset(">#-+")
_MASS_MENTIONS = ("everyone", "here")
_LOOKAHEAD = max(len(word) for word in _MASS_MENTIONS)
_MAX_COMBINING_RUN = 4  # enough for real scripts, not for "zalgo" floods
_MAX_TAG_RUN = 8  # emoji tag sequences (subdivision flags) need up to 6
_NEWLINES = frozenset("\n\u2028\u2029\x85\x0b\x0c")


def size(text: str) -> int:
    """Measure text as Discord's strictest count does: in UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _pieces(
    text: str, *, markdown: bool, keep_newlines: bool, budget: int | None = None
) -> list[str]:
    """Return, for each character of text, what to send in its place (possibly nothing).

    With a budget, stop once the pieces add up to more than it: the rest would be cut
    anyway, and a passage can be a megabyte-long "sentence" from an article without stops.
    """
    pieces: list[str] = []
    produced = 0
    line_start = True
    newline_run = 0
    combining_run = 0
    tag_run = 0
    previous = ""
    for ch in text:
        category = unicodedata.category(ch)
        piece = ch
        if ch in _NEWLINES or ch == "\r":
            if keep_newlines and ch != "\r":
                newline_run += 1
                piece = "\n" if newline_run <= 2 else ""
                line_start = True
            else:
                piece = "" if previous == " " or (ch == "\r" and keep_newlines) else " "
        elif ch.isspace() or category == "Zs":
            piece = "" if previous in (" ", "\n") else " "
        elif category in ("Cc", "Cs"):
            piece = ""
        elif category == "Cf":
            if ch == "\u200d":  # joins emoji sequences; a run of them is a flood
                piece = "" if previous in ("", "\u200d") else ch
            elif 0xE0020 <= ord(ch) <= 0xE007F:
                tag_run += 1
                piece = ch if tag_run <= _MAX_TAG_RUN else ""
            else:
                piece = ""
        elif category in ("Mn", "Me"):
            combining_run += 1
            piece = ch if combining_run <= _MAX_COMBINING_RUN and previous else ""
        elif markdown and (ch in _ALWAYS_ESCAPE or (line_start and ch in _LINE_START_ESCAPE)):
            piece = "\\" + ch
        if category not in ("Mn", "Me"):
            combining_run = 0
        if not (0xE0020 <= ord(ch) <= 0xE007F):
            tag_run = 0
        if piece and piece != "\n":
            newline_run = 0
            if not piece.isspace():
                line_start = False
        if piece:
            previous = piece[-1]
        pieces.append(piece)
        produced += len(piece)
        if budget is not None and produced > budget:
            break
    if markdown:
        _break_mass_mentions(pieces)
    return pieces


def _break_mass_mentions(pieces: list[str]) -> None:
    """Put a zero-width space after each '@' that would read as @everyone or @here.

    This looks at what is sent, not at the input, so that invisible characters dropped
    between the '@' and the word cannot join the mention back together.
    """
    longest = _LOOKAHEAD
    for i, piece in enumerate(pieces):
        if piece != "@":
            continue
        following = ""
        j = i + 1
        while j < len(pieces) and len(following) < longest:
            following += pieces[j].replace("\u200d", "")  # kept, but just as invisible
            j += 1
        if following.lower().startswith(_MASS_MENTIONS):
            pieces[i] = "@" + BLANK


def _spans(highlights: Iterable[tuple[int, int]], pieces: Sequence[str]) -> list[tuple[int, int]]:
    """Clamp, trim, sort and merge highlight spans so each becomes one clean bold run."""
    count = len(pieces)
    cleaned: list[tuple[int, int]] = []
    for raw_start, raw_end in sorted(highlights):
        start, end = max(0, raw_start), min(count, raw_end)
        while start < end and not pieces[start].strip():
            start += 1
        while end > start and not pieces[end - 1].strip():
            end -= 1
        if start >= end:
            continue
        if cleaned and not "".join(pieces[cleaned[-1][1] : start]):
            cleaned[-1] = (cleaned[-1][0], max(cleaned[-1][1], end))
        else:
            cleaned.append((start, end))
    return cleaned


_OPEN = object()
_CLOSE = object()


def render_text(
    text: str,
    limit: int,
    *,
    highlights: Iterable[tuple[int, int]] = (),
    markdown: bool = True,
    keep_newlines: bool = False,
) -> str:
    """Escape text (bolding the highlight spans) and shorten it to fit limit, ending in '…'."""
    # The margin lets an '@' near the cut see the word after it, and covers the whitespace
    # that strip() may remove from a text that only just fits.
    budget = limit + 2 * _LOOKAHEAD
    pieces = _pieces(text, markdown=markdown, keep_newlines=keep_newlines, budget=budget)
    spans = _spans(highlights, pieces) if markdown else []
    starts = {start for start, _ in spans}
    ends = {end for _, end in spans}
    tokens: list[object] = []
    for i, piece in enumerate(pieces):
        if i in starts:
            tokens.append(_OPEN)
        tokens.append(piece)
        if i + 1 in ends:
            tokens.append(_CLOSE)
    whole = "".join(_token_text(t) for t in tokens)
    if size(whole) <= limit:
        return whole.strip()
    return _cut(tokens, limit)


def _token_text(token: object) -> str:
    return token if isinstance(token, str) else "**"


@dataclass
class _CutPoint:
    length: int
    open_bold: bool


def _cut(tokens: Sequence[object], limit: int) -> str:
    """Keep as many tokens as fit before an ellipsis, closing bold, preferring a word break."""
    budget = limit - size(ELLIPSIS)
    if budget <= 0:
        return ELLIPSIS[:limit] if limit > 0 else ""
    out: list[str] = []
    used = 0
    open_bold = False
    last_space: _CutPoint | None = None
    for token in tokens:
        if token is _OPEN:
            if used + 4 > budget:  # the opening and the closing marker
                break
            out.append("**")
            used += 2
            open_bold = True
            continue
        if token is _CLOSE:
            out.append("**")
            used += 2
            open_bold = False
            continue
        piece = _token_text(token)
        reserve = 2 if open_bold else 0
        if used + size(piece) + reserve > budget:
            break
        if piece.isspace() and out:
            last_space = _CutPoint(len(out), open_bold)
        out.append(piece)
        used += size(piece)
    if last_space is not None and size("".join(out[: last_space.length])) >= 0.7 * budget:
        out = out[: last_space.length]
        open_bold = last_space.open_bold
    while out and (not out[-1].strip() or out[-1] == BLANK):
        out.pop()
    if open_bold:
        if out and out[-1] == "**":
            out.pop()
        else:
            out.append("**")
    return ("".join(out).strip() + ELLIPSIS) if out else ELLIPSIS


def escape(text: str, *, keep_newlines: bool = False) -> str:
    """Escape markdown and mentions so text renders exactly as typed."""
    return "".join(_pieces(text, markdown=True, keep_newlines=keep_newlines)).strip()


def plain(text: str, limit: int) -> str:
    """Clean text for places that show no markdown (footers, authors, labels) and fit it."""
    return render_text(text, limit, markdown=False)


def clip(text: str, limit: int) -> str:
    """Shorten already-safe text to limit, ending in '…'; the last-resort guard."""
    if size(text) <= limit:
        return text
    if limit <= size(ELLIPSIS):
        return ELLIPSIS[: max(limit, 0)]
    budget = limit - size(ELLIPSIS)
    cut: list[str] = []
    used = 0
    for ch in text:
        if used + size(ch) > budget:
            break
        cut.append(ch)
        used += size(ch)
    kept = "".join(cut).rstrip()
    # A lone trailing backslash would escape the ellipsis; drop it rather than show it.
    if kept.endswith("\\") and (len(kept) - len(kept.rstrip("\\"))) % 2 == 1:
        kept = kept[:-1]
    return kept + ELLIPSIS


def embed_size(embed: discord.Embed) -> int:
    """Count the characters Discord counts toward an embed's 6,000 limit."""
    total = size(embed.title or "") + size(embed.description or "")
    total += sum(size(f.name or "") + size(f.value or "") for f in embed.fields)
    total += size(embed.footer.text or "") + size(embed.author.name or "")
    return total


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Return a copy of the embed with every part, and the whole, within Discord's limits."""
    data = embed.to_dict()
    if data.get("title"):
        data["title"] = clip(data["title"], TITLE_LIMIT)
    if data.get("description"):
        data["description"] = clip(data["description"], DESCRIPTION_LIMIT)
    fields = list(data.get("fields", []))[:FIELDS_LIMIT]
    for item in fields:
        item["name"] = clip(item.get("name") or BLANK, FIELD_NAME_LIMIT)
        item["value"] = clip(item.get("value") or BLANK, FIELD_VALUE_LIMIT)
    if fields:
        data["fields"] = fields
    # Discord refuses a footer without text and an author without a name (400), as when an
    # article's title and source both render to nothing.
    footer = data.get("footer")
    if footer is not None and not footer.get("text"):
        del data["footer"]
    elif footer is not None:
        footer["text"] = clip(footer["text"], FOOTER_LIMIT)
    author = data.get("author")
    if author is not None and not author.get("name"):
        del data["author"]
    elif author is not None:
        author["name"] = clip(author["name"], AUTHOR_LIMIT)
    fitted = discord.Embed.from_dict(data)
    excess = embed_size(fitted) - EMBED_TOTAL_LIMIT
    if excess > 0 and fitted.description:
        keep = size(fitted.description) - excess
        fitted.description = clip(fitted.description, keep) if keep > 0 else None
        excess = embed_size(fitted) - EMBED_TOTAL_LIMIT
    while excess > 0 and fitted.fields:
        fitted.remove_field(len(fitted.fields) - 1)
        excess = embed_size(fitted) - EMBED_TOTAL_LIMIT
    if excess > 0 and fitted.footer.text:
        keep = size(fitted.footer.text) - excess
        if keep > size(ELLIPSIS):
            fitted.set_footer(text=clip(fitted.footer.text, keep))
        else:
            fitted.remove_footer()
        excess = embed_size(fitted) - EMBED_TOTAL_LIMIT
    if excess > 0 and fitted.author.name:
        fitted.remove_author()
        excess = embed_size(fitted) - EMBED_TOTAL_LIMIT
    if excess > 0 and fitted.title:
        fitted.title = clip(fitted.title, size(fitted.title) - excess)
    return fitted


def fit_embeds(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """Fit each embed, keep at most ten, and keep their total within 6,000 characters."""
    fitted = [fit_embed(e) for e in embeds[:EMBEDS_LIMIT]]
    while len(fitted) > 1 and sum(embed_size(e) for e in fitted) > EMBED_TOTAL_LIMIT:
        fitted.pop()
    return fitted


def fit_content(text: str) -> str:
    """Fit message content within Discord's 2,000 characters."""
    return clip(text, CONTENT_LIMIT)


def custom_id(kind: str, answer_id: str) -> str:
    """Build a button id like 'qa:ctx:<answer id>', refusing one Discord would reject."""
    value = f"qa:{kind}:{answer_id}"
    if size(value) > CUSTOM_ID_LIMIT:
        raise ValueError(f"custom_id over {CUSTOM_ID_LIMIT} characters: {value[:40]!r}…")
    return value


def button_label(text: str) -> str:
    """Fit a button label within 80 characters."""
    return plain(text, BUTTON_LABEL_LIMIT) or BLANK


# Answers


def _label(passage: Passage) -> str:
    return f"**{render_text('[' + passage.citation + ']', 120)}**"


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
        body = render_text(passage.text, share - size(label), highlights=passage.highlights)
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
        if name not in seen:
            seen.append(name)
    return plain(" · ".join(seen), limit)


def question_title(question: str) -> str:
    """Echo a question as an embed title, escaped and shortened."""
    return render_text(question, TITLE_LIMIT) or "Your question"


def answer_embed(answer: Answer) -> discord.Embed:
    """Render an answer: passages, a plain not-found message, or the usage hint."""
    if answer.status is Status.USAGE:
        return usage_embed(answer.message)
    embed = discord.Embed(title=question_title(answer.question))
    if answer.status is Status.NOT_FOUND or not answer.passages:
        embed.description = render_text(
            answer.message or "The articles don't say.", DESCRIPTION_LIMIT, keep_newlines=True
        )
        embed.colour = NOT_FOUND_COLOUR
        return fit_embed(embed)
    embed.description = passages_text(answer.passages)
    embed.colour = ANSWERED_COLOUR
    footer = sources_line(answer.passages)
    if answer.offset:
        first = answer.offset + 1
        footer = f"{footer} · passages {first}–{answer.offset + len(answer.passages)}"
    embed.set_footer(text=clip(footer, FOOTER_LIMIT))
    return fit_embed(embed)


def usage_embed(message: str) -> discord.Embed:
    """Render the usage hint for input that is not a question."""
    embed = discord.Embed(
        title="How to ask",
        description=render_text(message, DESCRIPTION_LIMIT, keep_newlines=True),
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
        before = render_text(passage.context_before, side) if passage.context_before else ""
        after = render_text(passage.context_after, side) if passage.context_after else ""
        body_room = room - size(before) - size(after)
        body = render_text(passage.text, body_room, highlights=passage.highlights)
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
        name = f"**{render_text(article.title or article.key, 200)}**"
        url = _safe_url(article.url)
        if url:
            name = f"[{name}](<{url}>)"
        sentences = article.body_sentence_count
        detail = f"{sentences} sentence{'s' if sentences != 1 else ''}"
        source = render_text(article.source, 100) if article.source else ""
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
) -> discord.Embed:
    """Explain every way to ask, for /help."""
    name = render_text(bot_name, 80)
    lines = [
        "Ask a question about the indexed news articles in plain words. Answers quote the "
        "articles' sentences with citations like **\\[3.1\\]** (paragraph 3, sentence 1).",
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
        "",
        "• `/sources` lists the articles I can answer from.",
    ]
    if cooldown_questions and cooldown_seconds:
        lines.append(
            f"• You can ask {cooldown_questions} question"
            f"{'s' if cooldown_questions != 1 else ''} every {cooldown_seconds:g} seconds."
        )
    embed = discord.Embed(title="How to ask", description="\n".join(lines), colour=USAGE_COLOUR)
    return fit_embed(embed)


# Notices


def cooldown_notice(retry_after: float, now: datetime | None = None) -> str:
    """Tell an over-eager user when they can ask again, as a relative Discord timestamp."""
    now = now or datetime.now(UTC)
    seconds = max(1, round(retry_after + 0.499))
    when = int(now.timestamp()) + seconds
    return fit_content(f"You're asking quickly — you can ask again <t:{when}:R> (in {seconds} s).")


def channels_notice(channel_ids: Iterable[int]) -> str:
    """Say which channels the bot answers in."""
    channels = sorted(channel_ids)
    shown = ", ".join(f"<#{c}>" for c in channels[:50])
    more = f" and {len(channels) - 50} more" if len(channels) > 50 else ""
    return fit_content(f"I only answer in {shown}{more}.")


# Reloads


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _listed(items: Sequence[str], limit: int) -> str:
    """List names or lines, escaped, at most _RELOAD_LIST of them, within limit."""
    shown = [render_text(item, 300) for item in items[:_RELOAD_LIST]]
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
            description=f"Serving {_count(articles_after, 'article')}, "
            f"{_count(sentences_after, 'sentence')}, as before.",
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
