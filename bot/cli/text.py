"""Format answers for the terminal (wrapped, citations hanging) and as JSON."""

from __future__ import annotations

import json
import re
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
    return f"{title} ({clean(passage.source)})" if passage.source else title


def format_answer(answer: Answer, width: int = 88, color: bool = False, more_hint: str = "") -> str:
    """Format an answer as wrapped text, each passage headed by its hanging citation."""
    if not answer.passages:
        return wrap(clean(answer.message), width)
    lines: list[str] = []
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
        lines.append(_bold_matches(body, passage) if color else body)
        if len(origins) > 1:
            lines.append(wrap(f"    — {_origin(passage)}", width, " " * 6))
    if len(origins) == 1:
        lines.append(wrap(f"Source: {origins.pop()}", width, " " * 8))
    confidence = getattr(answer, "confidence_label", None)
    if confidence:
        lines.append(f"Confidence: {confidence}")
    if answer.has_more and more_hint:
        lines.append(wrap(more_hint, width))
    return "\n".join(lines)


def _bold_matches(body: str, passage: Passage) -> str:
    """Bold the matched words in wrapped text (wrapping first keeps widths right)."""
    text = clean(passage.text)
    words = sorted({text[s:e] for s, e in passage.highlights if text[s:e].strip()}, key=len)
    if not words:
        return body
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in reversed(words)) + r")\b")
    return pattern.sub(lambda m: f"{BOLD}{m.group(1)}{RESET}", body)


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
                "context": {"before": p.context_before, "after": p.context_after},
                **_present(p, "date", "url", "answer_spans"),
            }
            for p in answer.passages
        ],
        "has_more": answer.has_more,
    }
    shape.update(_present(answer, "confidence", "confidence_label", "ranking", "read_with"))
    return shape


def _present(item: object, *names: str) -> dict[str, Any]:
    """Return the optional fields item has (the answer layer adds them over time)."""
    values = {name: getattr(item, name) for name in names if hasattr(item, name)}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def answer_json(answer: Answer) -> str:
    """Format an answer as one line of JSON."""
    return json.dumps(answer_to_dict(answer), ensure_ascii=False)
