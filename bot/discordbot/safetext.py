"""Make text safe to send to Discord: escaped as typed, within its limits, pinging nobody.

Echoed text (questions, passages, titles from the corpus) is escaped so it renders as typed:
markdown, mentions, masked links, spoilers and code fences lose their meaning, and
invisible-character floods are dropped. Limits are counted in UTF-16 code units, which is
never less than the code-point count Discord may use. Embeds themselves are built in
:mod:`bot.discordbot.embeds`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import discord

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


def safe_text(
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
    return safe_text(text, limit, markdown=False)


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


def button_label(text: str) -> str:
    """Fit a button label within 80 characters."""
    return plain(text, BUTTON_LABEL_LIMIT) or BLANK


_ESCAPED = re.compile(r"\\(.)|\u200b", re.DOTALL)


def unescape(text: str) -> str:
    """Undo escape(): the text a reader sees, as it was typed (whitespace collapsed)."""
    return _ESCAPED.sub(lambda m: m.group(1) or "", text)
