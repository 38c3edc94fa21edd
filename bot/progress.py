"""Show how a long build is going: a bar on a terminal, a few log lines elsewhere.

The bar is tqdm's: a small, pure-Python, dependency-free and long-maintained
library that shows the phase, the count done, the rate and the time left, and
draws nothing when the phase finishes fast. When the output is not a terminal
(a service, CI, a pipe), a phase logs at most a line every ``interval`` seconds
plus one when it ends, and only when it runs long enough to matter.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

logger = logging.getLogger(__name__)


class Advance(Protocol):
    """Report that n more items of the current phase are done."""

    def __call__(self, n: int = 1) -> None: ...


class Progress:
    """Report the phases of a long job: a tqdm bar on a terminal, log lines elsewhere."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interactive: bool | None = None,
        interval: float = 10.0,
        quiet_below: float = 2.0,
    ) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        if interactive is None:
            interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interactive = interactive
        self.interval = interval
        self.quiet_below = quiet_below  # seconds before anything is shown

    @contextmanager
    def phase(self, name: str, total: int, unit: str = "articles") -> Iterator[Advance]:
        """Run a phase of total items; the caller reports items done with the yielded function."""
        if not self.enabled or total <= 0:
            yield _ignore
            return
        if self.interactive:
            with self._bar(name, total, unit) as advance:
                yield advance
            return
        with self._lines(name, total, unit) as advance:
            yield advance

    @contextmanager
    def _bar(self, name: str, total: int, unit: str) -> Iterator[Advance]:
        from tqdm import tqdm

        bar = tqdm(
            total=total,
            desc=name,
            unit=f" {unit}",
            file=self.stream,
            delay=self.quiet_below,
            dynamic_ncols=True,
            leave=False,
        )

        def advance(n: int = 1) -> None:
            bar.update(n)

        try:
            yield advance
        finally:
            bar.close()

    @contextmanager
    def _lines(self, name: str, total: int, unit: str) -> Iterator[Advance]:
        start = last = time.monotonic()
        done = 0
        spoke = False

        def advance(n: int = 1) -> None:
            nonlocal done, last, spoke
            done += n
            now = time.monotonic()
            if now - last >= self.interval and now - start >= self.quiet_below:
                last, spoke = now, True
                rate = done / (now - start)
                left = (total - done) / rate if rate > 0 else 0.0
                logger.info(
                    "%s: %d/%d %s (%.0f/s, about %.0f s left)",
                    name,
                    done,
                    total,
                    unit,
                    rate,
                    left,
                )

        yield advance
        elapsed = time.monotonic() - start
        if spoke or elapsed >= self.quiet_below:
            logger.info("%s: %d %s in %.1f s", name, done, unit, elapsed)


def _ignore(n: int = 1) -> None:
    """Report nothing."""


QUIET = Progress(enabled=False)
