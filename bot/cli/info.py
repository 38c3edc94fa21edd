"""`qabot info`: what is being served, from where, ranked how, and where each setting came from."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from bot import __version__
from bot.cli.output import Console
from bot.cli.text import describe_corpus
from bot.live import LiveEngine
from bot.settings import SETTINGS, Secret, Settings
from bot.wording import plural


def info(live: LiveEngine, settings: Settings, console: Console) -> int:
    """Print the facts of this installation; return 0."""
    for line in info_lines(live, settings):
        console.out_wrapped(line, indent=" " * 14)
    return 0


def info_lines(live: LiveEngine, settings: Settings, now: float | None = None) -> list[str]:
    """Return the lines `qabot info` prints."""
    engine = live.engine
    python = ".".join(map(str, sys.version_info[:3]))
    lines = [
        f"{'qabot':<13} {__version__} (Python {python})",
        f"{'corpus':<13} {live.root.resolve()}",
        f"{'articles':<13} {describe_corpus(engine.articles, len(engine.sentences))}",
        f"{'index':<13} {describe_index(live.store.folder, now)}",
        f"{'ranking':<13} {describe_ranking(live, settings)}",
        f"{'.env':<13} {settings.env_file.resolve() if settings.env_file else 'none read'}",
        "settings      (value, and where it came from)",
    ]
    for row in SETTINGS:
        value = getattr(settings, row.attr)
        origin = settings.sources.get(row.name, "default")
        lines.append(f"  {row.name:<24} {shown(value)}  ({origin})")
    return lines


def shown(value: Any) -> str:
    """Show a setting's value the way it would be written, never the token."""
    if isinstance(value, Secret):
        return "set (not shown)"
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset | tuple):
        return ", ".join(map(str, sorted(value) if isinstance(value, frozenset) else value)) or (
            "none"
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_index(folder: Path | None, now: float | None = None) -> str:
    """Say where the saved index is, how big and how old."""
    if folder is None:
        return "kept in memory only (not saved)"
    current = folder / "CURRENT"
    try:
        saved = current.stat().st_mtime
    except OSError:
        return f"{folder} (not saved yet)"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())  # with the arrays
    age = (time.time() if now is None else now) - saved
    return f"{folder} ({human_size(size)}, saved {human_age(age)} ago)"


def describe_ranking(live: LiveEngine, settings: Settings) -> str:
    """Say how answers are ranked, and why when not semantically."""
    if live.semantic is not None:
        return f"semantic: word match fused with the embedding model {settings.embedding_model}"
    if not settings.semantic:
        return "lexical: word match only (SEMANTIC=false)"
    return "lexical: word match only (the embedding model is not available)"


def human_size(size: int) -> str:
    """Return a byte count as 1.2 MB and the like."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return plural(size, "byte") if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_age(seconds: float) -> str:
    """Return an age as 40 seconds, 3 minutes, 5 hours or 2 days."""
    seconds = max(seconds, 0.0)
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            return plural(int(seconds // length), unit)
    return plural(int(seconds), "second")
