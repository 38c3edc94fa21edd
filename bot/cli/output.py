"""Write to the terminal safely: colour only when wanted, no control characters, no tokens.

Everything the command line prints goes through a :class:`Console`, so an
escape sequence hidden in an article, a file name or a setting never reaches
the terminal, and a bot token pasted where it does not belong is never shown.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

from bot.errors import TOKEN_INSIDE as TOKEN_SHAPED
from bot.errors import redact

BOLD, RESET = "\033[1m", "\033[0m"
_STYLES = frozenset({BOLD, RESET})
# Whole escape sequences (CSI, OSC, two-character ones), then the other C0 controls but tab
# and newline, DEL and the C1 controls.
_CONTROL = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
# Bidirectional overrides can make a line read differently from what it says.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
FALLBACK_WIDTH = 88


def clean(text: str, *, keep_styles: bool = False) -> str:
    """Remove control characters (and tokens) from text meant for a terminal."""

    def drop(match: re.Match[str]) -> str:
        return match.group() if keep_styles and match.group() in _STYLES else ""

    return redact(_BIDI.sub("", _CONTROL.sub(drop, text)))


def one_line(text: str) -> str:
    """Join a message's lines into one, for a log line or a skipped-file line."""
    return " ".join(part.strip() for part in clean(text).splitlines() if part.strip())


def wants_color(mode: str, stream: TextIO | None, environ: Mapping[str, str]) -> bool:
    """Decide on colour: --color always/never wins, else a terminal without NO_COLOR."""
    if mode == "always":
        return True
    if mode == "never" or environ.get("NO_COLOR", "") != "":
        return False
    return bool(stream is not None and getattr(stream, "isatty", lambda: False)())


def is_terminal(stream: TextIO | None) -> bool:
    """Tell whether stream is a terminal."""
    return bool(stream is not None and getattr(stream, "isatty", lambda: False)())


def terminal_width() -> int:
    """Return the terminal's width (COLUMNS wins), for wrapping."""
    return max(shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns, 20)


def wrap(text: str, width: int, indent: str = "") -> str:
    """Wrap each line of text to width, continuing lines under indent; never split a word."""
    lines = []
    for line in text.splitlines() or [""]:
        lines.extend(
            textwrap.wrap(
                line,
                width=width,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [""]
        )
    return "\n".join(lines)


def redact_log_records() -> None:
    """Make every log record redact tokens from its message, whoever logs it and wherever to."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts", False):
        return

    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        message = record.getMessage()
        if TOKEN_SHAPED.search(message):
            record.msg, record.args = redact(message), ()
        return record

    make.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)


@dataclass
class Console:
    """The command line's two streams, with the colour and width decided once."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    color: bool = False
    wrap_width: int | None = None  # None: do not wrap (output is not a terminal)

    @classmethod
    def for_streams(cls, mode: str = "auto", environ: Mapping[str, str] | None = None) -> Console:
        """Make the console for sys.stdout and sys.stderr, as they are now."""
        environ = os.environ if environ is None else environ
        stdout, stderr = sys.stdout, sys.stderr
        for stream in (stdout, stderr):
            # A character the terminal's encoding lacks is shown as ?, never a crash.
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="replace")
        return cls(
            stdout,
            stderr,
            color=wants_color(mode, stdout, environ),
            wrap_width=terminal_width() if is_terminal(stdout) else None,
        )

    @property
    def width(self) -> int:
        """Return the width to render answers at (the terminal's, else a readable default)."""
        return self.wrap_width or FALLBACK_WIDTH

    def out(self, text: str) -> None:
        """Print text (already wrapped) on standard output, at once."""
        print(clean(text, keep_styles=self.color), file=self.stdout, flush=True)

    def out_wrapped(self, text: str, indent: str = "  ") -> None:
        """Print text on standard output, wrapped to the terminal with continuation indent."""
        if self.wrap_width is not None:
            text = wrap(clean(text), self.wrap_width, indent)
        self.out(text)

    def say(self, message: str) -> None:
        """Print one line about the run (a skipped file, an error) on standard error."""
        print(f"qabot: {one_line(message)}", file=self.stderr, flush=True)

    def warn(self, message: str) -> None:
        """Print a one-line warning on standard error."""
        self.say(f"warning: {message}")

    def json_line(self, text: str) -> None:
        """Print one line of JSON as UTF-8, whatever the locale says."""
        stream = self.stdout
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            print(text, file=stream, flush=True)
            return
        stream.flush()
        buffer.write(text.encode("utf-8", errors="replace") + b"\n")
        buffer.flush()
