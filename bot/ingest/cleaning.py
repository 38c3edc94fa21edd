"""Strip what web scraping leaves behind and find an article's title and source."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Whole lines that are site furniture, not article text.
_BOILERPLATE = re.compile(
    r"""^(?:back\ to\ top|top|advertisement|advertisements?|sponsored(?:\ content)?|share
    |share\ this(?:\ article)?|print|email|e-mail|tweet|facebook|twitter|related\ articles?
    |read\ more|more\ stories|subscribe|sign\ in|log\ in|menu|home|skip\ to\ (?:main\ )?content
    |scroll\ to\ continue(?:\ with\ content)?|comments?|copyright.*|all\ rights\ reserved.*
    |\(?end\)?|photo|video|listen|play|close|next|previous|prev)\.?$""",
    re.IGNORECASE | re.VERBOSE,
)
# A trailing agency credit such as "... he said. (Yonhap News)".
_TRAILING_SOURCE = re.compile(r"""(?<=[.!?"”’)])\s*\(([A-Z][\w&.' -]{1,40})\)\s*$""")
# A dateline credit such as "SEOUL, Nov. 28 (Yonhap) -- ".
_DATELINE_SOURCE = re.compile(
    r"""^[A-Z][A-Z .,'-]{1,40},?[^()]{0,20}\(([A-Z][\w&.' -]{1,40})\)\s*(?:--|—|–|-)\s*"""
)
# C0 and C1 controls (ESC and CSI start terminal escape sequences), zero-width and
# direction marks: invisible in an answer, harmful in a terminal.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)


@dataclass(frozen=True)
class CleanText:
    """Article text with its furniture removed and its metadata found."""

    title: str | None
    source: str | None
    paragraphs: list[str]


def normalise(text: str) -> str:
    """Normalise Unicode and line endings and drop invisible control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ")
    return _CONTROL.sub("", text)


def plain_text(value: str, limit: int) -> str:
    """Return value on one line without control or format characters, cut to limit."""
    line = " ".join(unicodedata.normalize("NFC", value).split())
    line = "".join(ch for ch in line if ch.isprintable())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def is_boilerplate(paragraph: str) -> bool:
    """Tell whether a paragraph is site navigation or similar furniture."""
    return bool(_BOILERPLATE.match(paragraph.strip()))


def looks_like_headline(paragraph: str) -> bool:
    """Tell whether a paragraph reads as a headline rather than body text."""
    words = paragraph.split()
    if not words or len(words) > 30 or len(paragraph) > 250:
        return False
    # Headlines rarely end in a full stop; body sentences almost always do.
    return not paragraph.rstrip().endswith((".", "!", '."', ".”"))


def clean(paragraphs: list[str], *, title: str | None = None) -> CleanText:
    """Drop furniture, take the headline as title and the credit line as source."""
    kept = [p for p in paragraphs if not is_boilerplate(p)]
    if title is None and len(kept) > 1 and looks_like_headline(kept[0]):
        title = kept.pop(0)
    elif title is not None and kept and kept[0].strip() == title.strip():
        # A markdown heading that repeats the front-matter title.
        kept.pop(0)
    source: str | None = None
    if kept:
        last = kept[-1]
        match = _TRAILING_SOURCE.search(last)
        if match:
            source = match.group(1).strip()
            rest = last[: match.start()].strip()
            if rest:
                kept[-1] = rest
            else:
                kept.pop()
        elif re.fullmatch(r"\(([A-Z][\w&.' -]{1,40})\)", last.strip()):
            source = last.strip()[1:-1]
            kept.pop()
    if kept:
        match = _DATELINE_SOURCE.match(kept[0])
        if match:
            source = source or match.group(1).strip()
            kept[0] = kept[0][match.end() :]
    return CleanText(title=title, source=source, paragraphs=[p for p in kept if p.strip()])
