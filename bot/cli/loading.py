"""Load what a command answers with: the ranking flags, the embedding model, the engine."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.output import Console, one_line
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.embedding.loader import SemanticModel
    from bot.live import LiveEngine


def with_ranking_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    """Apply --lexical / --semantic over SEMANTIC."""
    from dataclasses import replace

    if getattr(args, "lexical", False):
        return replace(settings, semantic=False)
    if getattr(args, "semantic", False):
        return replace(settings, semantic=True)
    return settings


def load_semantic(settings: Settings, console: Console | None = None) -> SemanticModel | None:
    """Prepare the embedding model the settings ask for (it loads when a question needs it).

    Says in one line why not, if not: now, or when it fails to load.
    """
    model, warning = _semantic(settings, "SEMANTIC" in settings.sources)
    if warning:
        (console or Console()).warn(warning)
    return model


@functools.cache
def _semantic(settings: Settings, explicit: bool) -> tuple[SemanticModel | None, str | None]:
    """Prepare the model once per process (explicit: SEMANTIC was set)."""
    from bot.embedding.loader import semantic_from_settings
    from bot.progress import Progress

    return semantic_from_settings(settings, warn=Console().warn, progress=Progress())


def load_engine(
    corpus: Path,
    semantic: SemanticModel | None = None,
    index_dir: Path | None = None,
    *,
    console: Console | None = None,
) -> LiveEngine:
    """Load the corpus folder's saved index (INDEX_DIR, default: the user's cache).

    Only files changed since it was saved are read again; skipped files are
    reported on stderr, one line each, and building a large index shows its
    progress there.
    """
    import logging

    from bot.index.storage import default_index_root
    from bot.live import LiveEngine
    from bot.progress import Progress

    console = console or Console()
    _log_to(console)
    logging.getLogger("bot.progress").setLevel(logging.INFO)
    live = LiveEngine(
        corpus,
        index_dir=index_dir or default_index_root(),
        semantic=semantic,
        progress=Progress(stream=console.stderr),
    )
    for problem in live.engine.corpus.problems:
        console.say(problem)
    return live


def _log_to(console: Console) -> None:
    """Send warnings (a damaged saved index) and progress lines to stderr, one line each."""
    import logging

    class OneLine(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"qabot: {one_line(record.getMessage())}"

    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "qabot_console", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(console.stderr)
    handler.setFormatter(OneLine())
    handler.qabot_console = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
