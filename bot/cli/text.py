"""Format answers for the terminal (wrapped, citations hanging) and as JSON."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import Any

from bot.answer.models import Answer, Passage
from bot.cli.output import BOLD, RESET, clean, wrap
from bot.ingest.models import Article
from bot.wording import plural

# A citation label is at most this wide before the text starts under it.
_HANG = 12


def _origin(passage: Passage) -> str:
    title = clean(passage.article_title)
    about = ", ".join(clean(str(part)) for part in (passage.source, passage.date) if part)
    origin = f"{title} ({about})" if about else title
    return f"{origin} <{clean(passage.url)}>" if passage.url else origin


# What a confidence label says before the passages ("high" and "medium" need no warning).
LABEL_LINES = {"low": "Not sure the article answers this; closest passages:"}


def format_answer(answer: Answer, width: int = 88, color: bool = False, more_hint: str = "") -> str:
    """Format an answer as wrapped text, each passage headed by its hanging citation."""
    lines: list[str] = []
    if answer.read_with:
        lines.append(
            wrap(
                f"(read with your previous question: \u201c{clean(answer.read_with)}\u201d)", width
            )
        )
    if not answer.passages:
        lines.append(wrap(clean(answer.message), width))
        return "\n".join(lines)
    heading = LABEL_LINES.get(answer.confidence_label or "")
    if heading:
        lines.append(heading)
    origins = {_origin(p) for p in answer.passages}
    for passage in answer.passages:
        label = f"[{passage.citation}] "
        # Wrap the plain text first, so that colour codes do not count towards the width.
        wrapped = textwrap.wrap(
            clean(passage.text),
            width=width,
            initial_indent=label,
            subsequent_indent=" " * min(len(label), _HANG),
            break_on_hyphens=False,
        )
        body = "\n".join(wrapped)
        lines.append(_bold_matches(body, passage, _visible(label)) if color else body)
        if len(origins) > 1:
            lines.append(wrap(f"    — {_origin(passage)}", width, " " * 6))
    if len(origins) == 1:
        lines.append(wrap(f"Source: {origins.pop()}", width, " " * 8))
    if answer.has_more and more_hint:
        lines.append(wrap(more_hint, width))
    return "\n".join(lines)


def _bold_matches(body: str, passage: Passage, label: int) -> str:
    """Bold the answering phrase (or else the matched words) in wrapped text, where it stands.

    Wrapping changes only whitespace, so the n-th visible character of the cleaned
    text is the n-th of the wrapped body after its label (label visible characters);
    the same words elsewhere in the passage stay plain.
    """
    size = len(passage.text)
    spans = sorted(
        (max(start, 0), min(end, size)) for start, end in passage.answer_spans or passage.highlights
    )
    marks: list[tuple[int, str]] = []  # (visible characters before it, code)
    visible, cursor = 0, 0
    for start, end in spans:
        if start < cursor or not _visible(clean(passage.text[start:end])):
            continue
        visible += _visible(clean(passage.text[cursor:start]))
        marks.append((visible, BOLD))
        visible += _visible(clean(passage.text[start:end]))
        marks.append((visible, RESET))
        cursor = end
    if not marks:
        return body
    out: list[str] = []
    seen = -label
    pending = iter(marks)
    mark = next(pending, None)
    for char in body:
        # BOLD goes before the phrase's first visible character, RESET right after its last.
        if mark is not None and mark[1] == BOLD and seen == mark[0] and not char.isspace():
            out.append(BOLD)
            mark = next(pending, None)
        out.append(char)
        seen += not char.isspace()
        if mark is not None and mark[1] == RESET and seen == mark[0] and not char.isspace():
            out.append(RESET)
            mark = next(pending, None)
    return "".join(out)


def _visible(text: str) -> int:
    return sum(not ch.isspace() for ch in text)


def describe_corpus(articles: Sequence[Article], sentences: int) -> str:
    """Say how many articles and sentences are served: the one count every command shows."""
    return f"{plural(len(articles), 'article')}, {plural(sentences, 'sentence')}"


def format_sources(articles: Sequence[Article], width: int | None) -> str:
    """List the indexed articles, one a line (wrapped under the key), with their sentences."""
    lines = []
    for article in articles:
        source = f" — {clean(article.source)}" if article.source else ""
        count = plural(len(article.sentences), "sentence")
        line = f"{article.key}: {clean(article.title)}{source} ({count})"
        lines.append(wrap(line, width, "    ") if width else line)
    return "\n".join(lines)


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """Return the JSON shape of an answer, as `qabot ask --json` prints it."""
    shape: dict[str, Any] = {
        "question": answer.question,
        "answered": answer.answered,
        "status": answer.status.value,
        "message": answer.message,
        "passages": [
            {
                "citation": p.citation,
                "text": p.text,
                "article": p.article_title,
                "article_key": p.article_key,
                "source": p.source,
                "score": p.score,
                "matched": list(p.matched),
                "answer_spans": [list(span) for span in p.answer_spans],
                "date": p.date,
                "url": p.url,
                "context": {"before": p.context_before, "after": p.context_after},
            }
            for p in answer.passages
        ],
        "has_more": answer.has_more,
        "confidence": answer.confidence,
        "confidence_label": answer.confidence_label,
        "ranking": answer.ranking,
        "read_with": answer.read_with,
    }
    return shape


def answer_json(answer: Answer) -> str:
    """Format an answer as one line of JSON."""
    return json.dumps(answer_to_dict(answer), ensure_ascii=False)
