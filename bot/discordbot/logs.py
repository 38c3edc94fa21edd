"""Log lines the bot writes: escaped names, one line per question, skipped files once each."""

from __future__ import annotations

import logging
import threading
import time

from bot.answer.models import Answer
from bot.discordbot.routing import Via
from bot.live import ReloadResult

log = logging.getLogger("bot.discordbot.client")


def one_line(text: str) -> str:
    """Escape what would break a log line: a file name may hold a newline or escape codes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def log_question(
    via: Via,
    guild_id: int | None,
    channel_id: int | None,
    started: float,
    outcome: Answer | str,
    source_id: int,
    question: str = "",
) -> None:
    """Log one line per question, without its text unless at DEBUG."""
    if isinstance(outcome, Answer):
        status = outcome.status.value
        citations = ",".join(p.citation for p in outcome.passages) or "-"
    else:
        status, citations = outcome, "-"
    log.info(
        "question via=%s guild=%s channel=%s id=%s latency_ms=%d status=%s citations=%s",
        via.value,
        guild_id or "-",
        channel_id or "-",
        source_id,
        round((time.monotonic() - started) * 1000),
        status,
        citations,
    )
    if question:
        log.debug("question text id=%s: %r", source_id, question)


class ProblemLog:
    """Log the files a reload skipped, each once while it stays skipped (a reload listener)."""

    def __init__(self, known: list[str], corpus: str = "") -> None:
        self._known = frozenset(known)
        self._lock = threading.Lock()
        self._where = f" ({one_line(corpus)})" if corpus else ""

    def __call__(self, result: ReloadResult) -> None:
        """Log the skipped files this reload found that the last one did not."""
        if not result.ok:
            return  # nothing was swapped in; the failure line says what went wrong
        with self._lock:
            new = [p for p in result.problems if p not in self._known]
            self._known = frozenset(result.problems)
        for problem in new:
            logging.getLogger("bot.discordbot.engines").warning(
                "Skipped while reloading the corpus%s: %s", self._where, one_line(problem)
            )
