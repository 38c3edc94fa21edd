"""The `qabot` command: ask, repl, info, doctor, inspect, eval, add, feeds, run and sync.

Only the standard library and the settings are imported up front, so that
``--help``, ``--version`` and a Ctrl-C during start-up cost nothing; each
command imports what it needs. Exit codes: 0 done, 1 a check or a command
failed, 2 a setting, an argument or the corpus folder must be fixed, 130
interrupted (Ctrl-C), 141 the reader of the output went away (as for a
program killed by SIGPIPE).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import commands
from bot.cli.commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PIPE, EXIT_USAGE
from bot.cli.interrupts import Interrupted, silence_stdout, stop_workers
from bot.cli.loading import load_engine, load_semantic, with_ranking_flags
from bot.cli.output import Console
from bot.cli.parser import article_filter, build_parser
from bot.errors import CorpusError, FilterError, QabotError, SettingsError
from bot.settings import load_settings

# Long enough for the index build's workers to be stopped on a loaded machine.
GIVE_UP_SECONDS = 10.0


def run() -> None:
    """Run the command line as a program: a Ctrl-C ends it within GIVE_UP_SECONDS, whatever."""
    raise SystemExit(main(give_up_after=GIVE_UP_SECONDS))


def main(argv: Sequence[str] | None = None, *, give_up_after: float | None = None) -> int:
    """Run the command line and return the exit code.

    give_up_after: seconds after a Ctrl-C when the process ends even if its clean-up has not
    (only for a process of its own: tests call main in theirs).
    """
    interrupted = Interrupted(give_up_after)
    try:
        with interrupted:
            code = _main(list(sys.argv[1:] if argv is None else argv))
        if not interrupted.seen:
            return code
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # `qabot ask ... | head -1`: the reader left, so stop quietly.
        silence_stdout()
        return EXIT_PIPE
    # Ctrl-C anywhere: one line, no traceback, the shell's code for SIGINT.
    stop_workers()
    with contextlib.suppress(OSError, ValueError):
        print("\nqabot: interrupted", file=sys.stderr, flush=True)
    interrupted.said = True
    return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    from bot.cli.output import redact_log_records

    redact_log_records()  # a token pasted into a path must not reach a log line either
    parser = build_parser()
    if not argv:
        parser.print_help()
        return EXIT_OK
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    console = Console.for_streams(args.color)
    if args.command == "doctor":
        from bot.cli.doctor import doctor

        return doctor(console, corpus=args.corpus, quick=args.quick)
    try:
        settings = load_settings()
    except SettingsError as exc:
        console.say(str(exc))
        return EXIT_USAGE
    for warning in settings.warnings:
        console.warn(warning)
    settings = with_ranking_flags(settings, args)
    corpus: Path = args.corpus or settings.corpus_dir
    k: int = getattr(args, "k", None) or settings.answer_k
    if args.command == "ask" and not args.question and (sys.stdin is None or sys.stdin.isatty()):
        console.say(
            'ask needs a question: qabot ask "why is NK courting ASEAN?", or questions '
            "on standard input, one a line (qabot ask < questions.txt); qabot repl asks "
            "interactively."
        )
        return EXIT_USAGE
    try:
        if args.command == "eval":
            return commands.eval_file(args, settings, corpus, console)
        if args.command in {"run", "sync"}:
            return commands.discord_bot(args, settings, corpus, k, console)
        if args.command in {"add", "feeds"}:
            return commands.feeds(args, settings, corpus, console)
        if args.command in {"ask", "repl"}:
            args.options = article_filter(args)
        # inspect answers nothing: it never loads the model.
        semantic = load_semantic(settings, console) if args.command != "inspect" else None
        live = load_engine(corpus, semantic, settings.index_dir, console=console)
        if args.command == "ask":
            return commands.ask(live.engine, args, k, console)
        if args.command == "inspect":
            return commands.inspect_sentences(live.engine, console)
        if args.command == "info":
            from bot.cli.info import info

            return info(live, settings, console)
        return commands.repl(live, args, settings, k, console)
    except CorpusError as exc:
        for problem in exc.problems:
            console.say(problem)
        console.say(str(exc))
        return EXIT_USAGE
    except FilterError as exc:
        console.say(str(exc))
        return EXIT_USAGE
    except QabotError as exc:
        console.say(str(exc))
        return EXIT_FAILED
