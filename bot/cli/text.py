"""Render answers as plain terminal text."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from bot.answer.models import Answer, Passage

BOLD, RESET = "\033[1m", "\033[0m"


def _origin(passage: Passage) -> str:
    # The article's date and address, when known (front matter, feeds, a dateline).
    url = passage.url
    about = ", ".join(part for part in (passage.source, passage.date) if part)
    origin = f"{passage.article_title} ({about})" if about else passage.article_title
    return f"{origin} <{url}>" if url else origin


# What a confidence label says before the passages ("high" and "medium" need no warning).
LABEL_LINES = {"low": "Not sure the article answers this; closest passages:"}


def render_text(answer: Answer, width: int = 88, color: bool = False, more_hint: str = "") -> str:
    """Render an answer as wrapped text, each passage headed by its citation."""
    lines: list[str] = []
    if answer.read_with:
        lines.append(f"(read with your previous question: \u201c{answer.read_with}\u201d)")
    if not answer.passages:
        lines.append(textwrap.fill(answer.message, width=width))
        return "\n".join(lines)
    heading = LABEL_LINES.get(answer.confidence_label or "")
    if heading:
        lines.append(heading)
    origins = {_origin(p) for p in answer.passages}
    for passage in answer.passages:
        label = f"[{passage.citation}] "
        # Wrap the plain text so ANSI codes do not count towards the width.
        wrapped = textwrap.wrap(
            passage.text,
            width=width,
            initial_indent=label,
            subsequent_indent=" " * min(len(label), 12),
        )
        body = "\n".join(wrapped)
        lines.append(_bold_matches(body, passage) if color else body)
        if len(origins) > 1:
            lines.append(f"    — {_origin(passage)}")
    if len(origins) == 1:
        lines.append(f"Source: {origins.pop()}")
    if answer.has_more and more_hint:
        lines.append(more_hint)
    return "\n".join(lines)


def _bold_matches(body: str, passage: Passage) -> str:
    """Bold the answering phrase (or else the matched words) in wrapped text.

    Wrapping first keeps widths right; a phrase broken over lines is matched across
    the line break.
    """
    spans = passage.answer_spans or passage.highlights
    words = sorted({passage.text[s:e] for s, e in spans}, key=len, reverse=True)
    if not words:
        return body
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    pattern = re.compile(r"(?<!\w)(" + alternatives + r")(?!\w)")
    return pattern.sub(lambda m: f"{BOLD}{m.group(1)}{RESET}", body)


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """Return the JSON shape of an answer, as `qabot ask --json` prints it."""
    return {
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


def render_json(answer: Answer) -> str:
    """Render an answer as one line of JSON."""
    return json.dumps(answer_to_dict(answer), ensure_ascii=False)
