"""The interactive prompt: a loop over read and write callbacks, so tests can script it.

As in simonw/llm's chat loop, the loop knows nothing of terminals: it calls
``read(prompt)`` for a line (raising EOFError at the end of input, and letting
KeyboardInterrupt through, which the command line turns into exit 130) and
``write(text)`` for each reply.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter, filtered_answer
from bot.answer.followup import FollowUp
from bot.cli.output import FALLBACK_WIDTH
from bot.cli.text import describe_corpus, format_answer, format_sources
from bot.live import LiveEngine, ReloadResult
from bot.wording import plural

PROMPT = "qabot> "
HELP = """Type a question and press Enter. Commands:
  :help      show this help
  :sources   list the indexed articles
  :k N       show up to N passages per answer (now {k})
  :reload    read the corpus folder again (changed, added and removed articles)
  :new       start afresh: the next question is not read with the previous one
  :quit      leave (Ctrl-D works too)"""


class Repl:
    """Answer questions line by line until the user leaves."""

    # The last answered question, for reading follow-up questions.
    context: FollowUp | None = None

    def __init__(
        self,
        engine: Engine | LiveEngine,
        read: Callable[[str], str],
        write: Callable[[str], None],
        k: int = 3,
        width: Callable[[], int] = lambda: FALLBACK_WIDTH,
        color: bool = False,
        options: ArticleFilter | None = None,
    ) -> None:
        # A LiveEngine is asked for its current engine at every question.
        self.live = engine if isinstance(engine, LiveEngine) else None
        self._engine = engine.engine if isinstance(engine, LiveEngine) else engine
        self._shown: ReloadResult | None = self.live.last_result if self.live else None
        self.read = read
        self.write = write
        self.k = k
        self.width = width
        self.color = color
        self.options = options  # --article/--source/--since/--until

    def run(self) -> int:
        """Loop until :quit or end of input and return 0; Ctrl-C raises KeyboardInterrupt."""
        engine = self.engine
        corpus = describe_corpus(engine.articles, len(engine.sentences))
        self.write(f"Asking {corpus}. Type :help for commands, :quit to leave.")
        while True:
            try:
                line = self.read(PROMPT)
            except EOFError:
                # Ctrl-D: leave on a fresh line.
                self.write("")
                return 0
            if not self.handle(line):
                return 0

    def handle(self, line: str) -> bool:
        """Handle one line of input; return False when the user wants to leave."""
        command = line.strip()
        if command in {":quit", ":q", ":exit"}:
            return False
        if command in {":help", ":h", ":?"}:
            self.write(HELP.format(k=self.k))
        elif command == ":sources":
            self.write(self.sources())
        elif command == ":reload":
            self.write(self.reload())
        elif command == ":new":
            self.context = None
            self.write("(new conversation: the next question is read on its own)")
        elif command.startswith(":k"):
            self._set_k(command[2:].strip())
        elif command.startswith(":"):
            self.write(f"Unknown command {command.split()[0]!r}. Type :help for commands.")
        else:
            self._tell_reloads()
            answer = filtered_answer(
                self.engine, line, k=self.k, options=self.options, previous=self.context
            )
            if answer.answered:
                # The next question may lean on this one ("and when was that?").
                self.context = FollowUp.from_answer(answer, self.context)
            width = max(self.width(), 40)
            self.write(
                format_answer(answer, width, self.color, "(more passages match: :k N shows more)")
            )
        return True

    @property
    def engine(self) -> Engine:
        """Return the engine answering now (the newest after a reload)."""
        return self.live.engine if self.live is not None else self._engine

    def reload(self) -> str:
        """Read the corpus folder again; say what changed or what failed."""
        if self.live is None:
            return "This session cannot reload its articles."
        result = self._shown = self.live.reload()
        return "\n".join([result.message, *(f"  {p}" for p in result.problems)])

    def _tell_reloads(self) -> None:
        """Say once that the folder watcher reloaded the articles, before the next answer."""
        if self.live is not None and self.live.last_result is not self._shown:
            self._shown = self.live.last_result
            self.write(f"({self._shown.message})")

    def sources(self) -> str:
        """List the indexed articles with their sentence counts."""
        return format_sources(self.engine.articles, max(self.width(), 40))

    def _set_k(self, value: str) -> None:
        if not value.isdigit() or not 1 <= int(value) <= 10:
            self.write("Usage: :k N, with N from 1 to 10.")
            return
        self.k = int(value)
        self.write(f"Showing up to {plural(self.k, 'passage')} per answer.")


def terminal_reader(history_file: Path) -> Callable[[str], str]:
    """Return the read callback for this terminal: line editing and history when interactive."""
    if sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history_file.parent.mkdir(parents=True, exist_ok=True)
        session: PromptSession[str] = PromptSession(history=FileHistory(str(history_file)))
        return session.prompt

    def read_plain(prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = read_line()
        if line is None:
            raise EOFError
        return line

    return read_plain


def read_line() -> str | None:
    """Read one line of standard input as UTF-8 (a bad byte becomes �); None at its end."""
    stdin = sys.stdin
    if stdin is None:
        return None
    buffer = getattr(stdin, "buffer", None)
    raw = buffer.readline() if buffer is not None else stdin.readline()
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.rstrip("\r\n")
