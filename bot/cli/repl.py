"""The interactive prompt: a loop over read and write callbacks, so tests can script it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter, filtered_answer
from bot.answer.followup import FollowUp
from bot.cli.text import render_text
from bot.live import LiveEngine, ReloadResult

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
        width: Callable[[], int] = lambda: 88,
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
        """Loop until :quit, end of input or Ctrl-C; return the exit code."""
        self.write(f"Asking {self._describe_corpus()}. Type :help for commands, :quit to leave.")
        while True:
            try:
                if not self.handle(self.read(PROMPT)):
                    return 0
            except (EOFError, KeyboardInterrupt):
                # Ctrl-D or Ctrl-C: leave on a fresh line, without a traceback.
                self.write("")
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
                render_text(answer, width, self.color, "(more passages match: :k N shows more)")
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
        lines = []
        for article in self.engine.articles:
            source = f" — {article.source}" if article.source else ""
            count = article.body_sentence_count
            lines.append(f"{article.key}: {article.title}{source} ({count} sentences)")
        return "\n".join(lines)

    def _set_k(self, value: str) -> None:
        if not value.isdigit() or not 1 <= int(value) <= 10:
            self.write("Usage: :k N, with N from 1 to 10.")
            return
        self.k = int(value)
        noun = "passage" if self.k == 1 else "passages"
        self.write(f"Showing up to {self.k} {noun} per answer.")

    def _describe_corpus(self) -> str:
        articles = self.engine.articles
        sentences = sum(a.body_sentence_count for a in articles)
        noun = "article" if len(articles) == 1 else "articles"
        return f"{len(articles)} {noun}, {sentences} sentences"


def terminal_io(history_file: Path) -> tuple[Callable[[str], str], Callable[[str], None], bool]:
    """Return read and write callbacks for this terminal, with line editing when interactive."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history_file.parent.mkdir(parents=True, exist_ok=True)
        session: PromptSession[str] = PromptSession(history=FileHistory(str(history_file)))
        return session.prompt, print, True

    def read_plain(prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return read_plain, lambda text: print(text, flush=True), False


def terminal_width() -> int:
    """Return the terminal's width, for wrapping."""
    return shutil.get_terminal_size((88, 24)).columns
