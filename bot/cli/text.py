"""Render answers as plain terminal text."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from bot.answer.models import Answer, Passage

BOLD, RESET = "\033[1m", "\033[0m"


def _origin(passage: Passage) -> str:
    return (
        f"{passage.article_title} ({passage.source})" if passage.source else passage.article_title
    )


def render_text(answer: Answer, width: int = 88, color: bool = False, more_hint: str = "") -> str:
    """Render an answer as wrapped text, each passage headed by its citation."""
    if not answer.passages:
        return textwrap.fill(answer.message, width=width)
    lines: list[str] = []
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
    """Bold the matched words in wrapped text (wrapping first keeps widths right)."""
    words = sorted({passage.text[s:e] for s, e in passage.highlights}, key=len, reverse=True)
    if not words:
        return body
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")
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
                "context": {"before": p.context_before, "after": p.context_after},
            }
            for p in answer.passages
        ],
        "has_more": answer.has_more,
        "ranking": answer.ranking,
    }


def render_json(answer: Answer) -> str:
    """Render an answer as one line of JSON."""
    return json.dumps(answer_to_dict(answer), ensure_ascii=False)
