"""The `qabot` command: ask, repl, info, doctor, inspect, eval, add, feeds, run and sync.

Only the standard library and the settings are imported up front, so that
``--help``, ``--version`` and a Ctrl-C during start-up cost nothing; each
command imports what it needs. Exit codes: 0 done, 1 a check or a command
failed, 2 a setting, an argument or the corpus folder must be fixed, 130
interrupted (Ctrl-C), 141 the reader of the output went away (as for a
program killed by SIGPIPE).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.cli.interrupts import Interrupted, silence_stdout, stop_workers
from bot.cli.output import Console, one_line
from bot.errors import CorpusError, FilterError, QabotError, SettingsError
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.answer.engine import Engine
    from bot.answer.filters import ArticleFilter
    from bot.embedding.loader import SemanticModel
    from bot.live import LiveEngine

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 130, 141
# Long enough for the index build's workers to be stopped on a loaded machine.
GIVE_UP_SECONDS = 10.0

SUMMARY = "Ask a folder of news articles questions; get cited sentences back."

# Two or three examples end every --help (None: the top-level help).
EXAMPLES: dict[str | None, tuple[str, ...]] = {
    None: (
        'qabot ask "why is NK courting ASEAN?"',
        "qabot repl --corpus ~/articles",
        "qabot doctor",
    ),
    "ask": (
        'qabot ask "why is NK courting ASEAN?"',
        'qabot ask --json --k 5 "when was the third nuclear test?"',
        "qabot ask --json < questions.txt > answers.jsonl",
    ),
    "repl": ("qabot repl", "qabot repl --corpus ~/articles --k 1"),
    "info": ("qabot info", "qabot info --corpus ~/articles"),
    "doctor": ("qabot doctor", "qabot doctor --quick    # fast: for a container health check"),
    "inspect": ("qabot inspect", "qabot inspect --corpus ~/articles | grep -i sanctions"),
    "eval": (
        "qabot eval eval/seed_questions.jsonl",
        "qabot eval --lexical --misses 5 eval/seed_questions.jsonl",
        "qabot eval --json eval/followup_questions.jsonl",
    ),
    "run": ("qabot run", "LOG_LEVEL=DEBUG qabot run --corpus ~/articles"),
    "sync": ("qabot sync", "qabot sync --global"),
    "add": (
        "qabot add https://example.com/news/story.html",
        "qabot add --corpus ~/articles URL1 URL2",
    ),
    "feeds": ("qabot feeds", "qabot feeds --poll    # one round, for cron"),
}


def _examples(command: str | None) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES.get(command, ()))


def _parser() -> argparse.ArgumentParser:
    # Defaults are None and filled from the settings after parsing, so that --help works
    # whatever the environment holds.
    color = argparse.ArgumentParser(add_help=False)
    color.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output: auto (a terminal without NO_COLOR), always or never",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[color])
    common.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="folder of .txt/.md articles (default: CORPUS_DIR, else corpus/)",
    )
    common.add_argument(
        "--k",
        type=int,
        default=None,
        choices=range(1, 11),
        metavar="N",
        help="passages per answer, 1-10 (default: ANSWER_K, else 3)",
    )
    parser = argparse.ArgumentParser(
        prog="qabot",
        description=SUMMARY,
        epilog=_examples(None) + "\n\nRun `qabot COMMAND --help` for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"qabot {__version__} (Python {_python()})"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    filtering = _filter_options()
    # --lexical / --semantic, on every command that answers: override SEMANTIC.
    ranking = argparse.ArgumentParser(add_help=False)
    mode = ranking.add_mutually_exclusive_group()
    mode.add_argument(
        "--lexical", action="store_true", help="rank by word match only (no embedding model)"
    )
    mode.add_argument(
        "--semantic",
        action="store_true",
        help="fuse word match with the embedding model (overrides SEMANTIC)",
    )

    def command(
        name: str,
        help: str,
        description: str | None = None,
        parents: Sequence[argparse.ArgumentParser] = (common,),
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=list(parents),
            help=help,
            description=description or help[0].upper() + help[1:] + ".",
            epilog=_examples(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    ask = command(
        "ask",
        "answer one question, or one per line of standard input",
        "Answer a question. Without one, answer each line of standard input.",
        parents=(common, filtering, ranking),
    )
    ask.add_argument("question", nargs="*", help="the question (omit to read standard input)")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    command("repl", "ask questions interactively", parents=(common, filtering, ranking))
    command("info", "show the corpus, the index, the ranking and where each setting came from")
    doctor = command(
        "doctor",
        "check the installation, the settings, the corpus and the index",
        "Check everything qabot needs, each with a one-line verdict and what to do; "
        "exit 1 if a check fails.",
    )
    doctor.add_argument(
        "--quick",
        action="store_true",
        help="skip the checks that read the index and load the model (for HEALTHCHECK)",
    )
    command("inspect", "list every sentence with its citation")
    evaluate = command(
        "eval", "measure Hit@1, Hit@3 and MRR on a question file", parents=(common, ranking)
    )
    evaluate.add_argument("file", type=Path, help="question file (.jsonl)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument(
        "--misses", type=int, default=0, metavar="N", help="show up to N missed questions"
    )
    evaluate.add_argument(
        "--split",
        choices=("all", "train", "report"),
        default="all",
        help="ask only the half used to fit answerability (train) or the half kept apart (report)",
    )
    command("run", "run the Discord bot (needs DISCORD_TOKEN)", parents=(common, ranking))
    sync = command("sync", "register the slash commands with Discord now")
    sync.add_argument(
        "--global", dest="global_", action="store_true", help="sync globally, not to the guild"
    )
    corpus = argparse.ArgumentParser(add_help=False, parents=[color])
    corpus.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="folder the articles are saved into (default: CORPUS_DIR, else corpus/)",
    )
    add = command(
        "add",
        "fetch article pages now and save them as .md files",
        "Fetch each page, extract its article and save it into the corpus folder.",
        parents=(corpus,),
    )
    add.add_argument("urls", nargs="+", metavar="URL", help="article page addresses")
    feeds = command(
        "feeds",
        "list the feeds (FEEDS, feeds.toml) and their last poll; --poll runs one round",
        parents=(corpus,),
    )
    feeds.add_argument(
        "--poll", action="store_true", help="poll the feeds that are due now (for cron)"
    )
    return parser


def _filter_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("which articles may answer")
    group.add_argument("--article", metavar="KEY", help="only this article (key or file name)")
    group.add_argument("--source", metavar="NAME", help="only articles from this source or site")
    group.add_argument(
        "--since", metavar="DATE", help="only articles dated on or after (2013-11-28, 2013, 7d)"
    )
    group.add_argument("--until", metavar="DATE", help="only articles dated on or before")
    return options


def _article_filter(args: argparse.Namespace) -> ArticleFilter:
    """Read --article/--source/--since/--until; raise FilterError for a bad date."""
    from bot.answer.filters import ArticleFilter, parse_day

    today = date.today()
    since = parse_day(args.since, end=False, today=today) if args.since else None
    until = parse_day(args.until, end=True, today=today, option="--until") if args.until else None
    return ArticleFilter(article=args.article, source=args.source, since=since, until=until)


def _python() -> str:
    return ".".join(map(str, sys.version_info[:3]))


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
    parser = _parser()
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
            return _eval(args, settings, corpus, console)
        if args.command in {"run", "sync"}:
            return _discord(args, settings, corpus, k, console)
        if args.command in {"add", "feeds"}:
            return _feeds(args, settings, corpus, console)
        if args.command in {"ask", "repl"}:
            args.options = _article_filter(args)
        # inspect answers nothing: it never loads the model.
        semantic = load_semantic(settings, console) if args.command != "inspect" else None
        live = load_engine(corpus, semantic, settings.index_dir, console=console)
        if args.command == "ask":
            return _ask(live.engine, args, k, console)
        if args.command == "inspect":
            return _inspect(live.engine, console)
        if args.command == "info":
            from bot.cli.info import info

            return info(live, settings, console)
        return _repl(live, args, settings, k, console)
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


ASK_MORE_HINT = "(more passages match: --k N shows up to N)"


# A one-shot `ask` on a corpus of up to this many sentences waits for the embeddings it
# lacks (a first run: seconds, saved for the next); on a larger one it answers at once by
# word match while they are computed, and says so.
ASK_WAIT_SENTENCES = 2000


def _ask(engine: Engine, args: argparse.Namespace, k: int, console: Console) -> int:
    from bot.answer.filters import filtered_answer
    from bot.cli.repl import read_line
    from bot.cli.text import answer_json, format_answer

    if engine.semantic is not None and engine.semantic.size <= ASK_WAIT_SENTENCES:
        engine.semantic.wait()

    width, color = console.width, console.color
    if args.question:
        answer = filtered_answer(engine, " ".join(args.question), k=k, options=args.options)
        if args.json:
            console.json_line(answer_json(answer))
        else:
            console.out(format_answer(answer, width, color, ASK_MORE_HINT))
        return EXIT_OK
    # One answer per input line, flushed at once, so another program can drive us.
    first = True
    for line in iter(read_line, None):
        answer = filtered_answer(engine, line, k=k, options=args.options)
        if args.json:
            console.json_line(answer_json(answer))
        else:
            rendered = format_answer(answer, width, color, ASK_MORE_HINT)
            console.out(("" if first else "\n") + f"Q: {answer.question}\n{rendered}")
        first = False
    return EXIT_OK


def _inspect(engine: Engine, console: Console) -> int:
    for article in engine.articles:
        source = f" — {article.source}" if article.source else ""
        console.out_wrapped(f"# {article.key}: {article.title}{source} ({article.path})")
        for sentence in article.sentences:
            label = f"[{sentence.citation}] "
            console.out_wrapped(label + sentence.text, indent=" " * min(len(label), 12))
    return EXIT_OK


def _repl(
    live: LiveEngine, args: argparse.Namespace, settings: Settings, k: int, console: Console
) -> int:
    from platformdirs import user_data_dir

    from bot.cli.output import terminal_width
    from bot.cli.repl import Repl, terminal_reader

    read = terminal_reader(Path(user_data_dir("qabot")) / "history")
    width = terminal_width if console.wrap_width is not None else (lambda: console.width)
    repl = Repl(
        live, read, console.out, k=k, width=width, color=console.color, options=args.options
    )
    # WATCH_CORPUS: pick up added, changed and removed articles while the prompt is open.
    watcher = live.start_watching() if settings.watch_corpus else None
    try:
        return repl.run()
    finally:
        if watcher is not None:
            watcher.stop()


def _eval(args: argparse.Namespace, settings: Settings, corpus: Path, console: Console) -> int:
    import json
    from dataclasses import replace

    from bot.evaluation.datasets import load_eval_file
    from bot.evaluation.runner import evaluate

    semantic = None
    if not args.lexical:
        chosen = replace(settings, semantic=True) if args.semantic else settings
        semantic = load_semantic(chosen, console)
        if semantic is not None and args.semantic and semantic.embedder is None:
            semantic = None
        if args.semantic and semantic is None:
            console.say("--semantic: the embedding model could not be loaded (see above).")
            return EXIT_USAGE
    mode = "semantic" if semantic is not None else "lexical"
    try:
        eval_set = load_eval_file(args.file)
        report = evaluate(eval_set, corpus, semantic=semantic, split=args.split)
    except (OSError, ValueError) as exc:
        console.say(str(exc))
        return EXIT_USAGE
    scores = report.scores.as_dict()
    calibration = report.calibration.summary()
    if args.json:
        console.json_line(
            json.dumps(
                {
                    "file": str(args.file),
                    "mode": mode,
                    "split": args.split,
                    **scores,
                    "calibration": calibration,
                    "calibration_table": report.calibration.table(),
                }
            )
        )
        return EXIT_OK
    lines = [f"{report.name} ({mode}): {scores['answerable']} answerable questions"]
    if scores["answerable"]:
        lines.append(
            f"  Hit@1 {scores['hit@1']:.3f}   Hit@3 {scores['hit@3']:.3f}   "
            f"MRR@10 {scores['mrr@10']:.3f}   "
            f"wrongly declined {scores['wrongly_declined']}/{scores['answerable']}"
        )
    if "unanswerable" in scores:
        lines.append(
            f"  unanswerable: declined {scores['declined']}/{scores['unanswerable']} "
            f"({scores['declined_share']:.1%})"
        )
        if len(report.declined_by_kind) > 1:
            for kind, (declined, asked) in sorted(report.declined_by_kind.items()):
                lines.append(f"    {kind}: declined {declined}/{asked}")
    if "span_holds_gold" in scores:
        lines.append(
            f"  answer span holds the gold answer: {scores['span_holds_gold']}/"
            f"{scores['hit1_with_span']} Hit@1 answers with a span "
            f"({scores['span_holds_share']:.1%}; {scores['span_holds_of_hit1']:.1%} of all Hit@1); "
            f"{scores['span_mean_chars']} characters marked on average, "
            f"gold answers {scores['gold_mean_chars']}; SQuAD's word F1 "
            f"{scores['span_f1_of_hit1']:.1%}, exact match {scores['span_exact_of_hit1']:.1%}"
            " of all Hit@1"
        )
    lines.extend(_calibration_lines(report))
    for miss in report.misses[: args.misses]:
        rank = f"rank {miss.rank}" if miss.rank else "not in top 10"
        lines.append(f"  miss ({rank}): {miss.question.question}")
        lines.append(f"      top: {miss.top[:160]}")
    for question in report.false_answers[: args.misses]:
        lines.append(f"  answered but should decline: {question.question}")
    for line in lines:
        console.out_wrapped(line, indent="        ")
    return EXIT_OK


def _calibration_lines(report: Any) -> list[str]:
    """Say how the confidence labels split the questions, and give the calibration table."""
    summary = report.calibration.summary()
    if not summary:
        return []
    lines = []
    for name in ("answerable", "unanswerable"):
        if f"{name}_declined" in summary:
            shares = "   ".join(
                f"{label} {summary[f'{name}_{label}']:.1%}"
                for label in ("declined", "low", "medium", "high")
            )
            lines.append(f"  {name}: {shares}")
    if "high_hit@1" in summary:
        high, right = summary["high_answers"], summary["high_hit@1"]
        lines.append(f"  labelled high: {high}, right at rank 1 {right:.1%}")
    lines.append(f"  calibration: Brier {summary['brier']:.3f}   ECE {summary['ece']:.3f}")
    for row in report.calibration.table():
        lines.append(
            f"    confidence {row['bin']}: {row['questions']:4} questions, "
            f"mean {row['confidence']:.2f}, right at rank 1 {row['right']:.2f}"
        )
    return lines


def _feeds(args: argparse.Namespace, settings: Settings, corpus: Path, console: Console) -> int:
    from bot.errors import FeedConfigError
    from bot.feeds import add_urls, feed_lines, poll_once
    from bot.feeds.service import specs_for

    try:
        if args.command == "feeds" and (not args.poll or not specs_for(corpus, settings)):
            console.out_wrapped("\n".join(feed_lines(corpus, settings)))  # or: there are no feeds
            return EXIT_OK
        if args.command == "add":
            report = add_urls(args.urls, corpus, settings)
        else:
            # Cron's own clock drifts: a feed due within the next minute is due now.
            report = poll_once(corpus, settings, force=False, slack=60.0)
    except (FeedConfigError, OSError) as exc:
        console.say(str(exc))
        return EXIT_USAGE
    for line in report.lines():
        console.out_wrapped(line)
    console.out(report.summary())
    return EXIT_FAILED if report.failures else EXIT_OK


def _discord(
    args: argparse.Namespace, settings: Settings, corpus: Path, k: int, console: Console
) -> int:
    from dataclasses import replace

    try:
        settings = with_ranking_flags(load_settings(require_token=True), args)
    except SettingsError as exc:
        console.say(str(exc))
        return EXIT_USAGE
    settings = replace(settings, corpus_dir=corpus, answer_k=k)
    # Imported here so that the CLI and REPL start without loading discord.py.
    from bot.discordbot.app import run, sync

    if args.command == "run":
        return int(run(settings))
    return int(sync(settings, global_=args.global_))
