"""The `qabot` command: ask, repl, inspect, eval, run and sync."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter, filtered_answer, parse_day
from bot.answer.semantic import SemanticModel, semantic_from_settings
from bot.cli.repl import Repl, terminal_io, terminal_width
from bot.cli.text import render_json, render_text
from bot.errors import CorpusError, FilterError
from bot.index.storage import default_index_root
from bot.live import LiveEngine
from bot.progress import Progress
from bot.settings import Settings, SettingsError, load_settings


def _parser(settings: Settings) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--corpus",
        type=Path,
        default=settings.corpus_dir,
        help=f"folder of .txt/.md articles (default: {settings.corpus_dir})",
    )
    common.add_argument(
        "--k",
        type=int,
        default=settings.answer_k,
        choices=range(1, 11),
        metavar="N",
        help=f"passages per answer, 1-10 (default: {settings.answer_k})",
    )
    parser = argparse.ArgumentParser(
        prog="qabot", description="Ask news articles questions; get cited sentences back."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    filtering = _filter_options()
    ask = commands.add_parser(
        "ask",
        parents=[common, filtering],
        help="answer one question, or one per line of standard input",
        description="Answer a question. Without one, answer each line of standard input.",
    )
    ask.add_argument("question", nargs="*", help="the question (omit to read standard input)")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    commands.add_parser("repl", parents=[common, filtering], help="ask questions interactively")
    commands.add_parser("inspect", parents=[common], help="list every sentence with its citation")
    evaluate = commands.add_parser(
        "eval", parents=[common], help="measure Hit@1, Hit@3 and MRR on a question file"
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
    mode = evaluate.add_mutually_exclusive_group()
    mode.add_argument(
        "--lexical", action="store_true", help="rank by word match only (no embedding model)"
    )
    mode.add_argument(
        "--semantic",
        action="store_true",
        help="fuse word match with the embedding model; fail if it cannot load",
    )
    commands.add_parser("run", parents=[common], help="run the Discord bot (needs DISCORD_TOKEN)")
    sync = commands.add_parser(
        "sync", parents=[common], help="register the slash commands with Discord now"
    )
    sync.add_argument(
        "--global", dest="global_", action="store_true", help="sync globally, not to the guild"
    )
    _feed_commands(commands, settings)
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
    today = date.today()
    since = parse_day(args.since, end=False, today=today) if args.since else None
    until = parse_day(args.until, end=True, today=today, option="--until") if args.until else None
    return ArticleFilter(article=args.article, source=args.source, since=since, until=until)


def _feed_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], settings: Settings
) -> None:
    corpus = argparse.ArgumentParser(add_help=False)
    corpus.add_argument(
        "--corpus",
        type=Path,
        default=settings.corpus_dir,
        help=f"folder the articles are saved into (default: {settings.corpus_dir})",
    )
    add = commands.add_parser(
        "add",
        parents=[corpus],
        help="fetch article pages now and save them as .md files",
        description="Fetch each page, extract its article and save it into the corpus folder.",
    )
    add.add_argument("urls", nargs="+", metavar="URL", help="article page addresses")
    feeds = commands.add_parser(
        "feeds",
        parents=[corpus],
        help="list the feeds (FEEDS, feeds.toml) and their last poll; --poll runs one round",
    )
    feeds.add_argument(
        "--poll", action="store_true", help="poll the feeds that are due now (for cron)"
    )


def _fail(message: str) -> int:
    print(f"qabot: {message}", file=sys.stderr)
    return 2


def load_semantic(settings: Settings) -> SemanticModel | None:
    """Load the embedding model the settings ask for; say in one line why not, if not."""
    model, warning = semantic_from_settings(settings)
    if warning:
        print(f"qabot: warning: {warning}", file=sys.stderr)
    return model


def load_engine(
    corpus: Path, semantic: SemanticModel | None = None, index_dir: Path | None = None
) -> LiveEngine:
    """Load the corpus folder's saved index (INDEX_DIR, default: the user's cache).

    Only files changed since it was saved are read again; skipped files are
    reported on stderr, and building a large index shows its progress there.
    """
    # Warnings (a damaged saved index) and progress lines when stderr is not a terminal.
    logging.basicConfig(level=logging.WARNING, format="qabot: %(message)s")
    logging.getLogger("bot.progress").setLevel(logging.INFO)
    live = LiveEngine(
        corpus,
        index_dir=index_dir or default_index_root(),
        semantic=semantic,
        progress=Progress(),
    )
    for problem in live.engine.corpus.problems:
        print(f"qabot: {problem}", file=sys.stderr)
    return live


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    for warning in settings.warnings:
        print(f"qabot: warning: {warning}", file=sys.stderr)
    args = _parser(settings).parse_args(argv)
    try:
        if args.command == "eval":
            return _eval(args, settings)
        if args.command in {"run", "sync"}:
            return _discord(args, settings)
        if args.command in {"add", "feeds"}:
            return _feeds(args, settings)
        if args.command in {"ask", "repl"}:
            args.options = _article_filter(args)
        live = load_engine(args.corpus, load_semantic(settings), settings.index_dir)
    except CorpusError as exc:
        for problem in exc.problems:
            print(f"qabot: {problem}", file=sys.stderr)
        return _fail(str(exc))
    except FilterError as exc:
        return _fail(str(exc))
    if args.command == "ask":
        return _ask(live.engine, args)
    if args.command == "inspect":
        return _inspect(live.engine)
    read, write, interactive = terminal_io(Path(user_data_dir("qabot")) / "history")
    repl = Repl(
        live, read, write, k=args.k, width=terminal_width, color=interactive, options=args.options
    )
    # WATCH_CORPUS: pick up added, changed and removed articles while the prompt is open.
    watcher = live.start_watching() if settings.watch_corpus else None
    try:
        return repl.run()
    finally:
        if watcher is not None:
            watcher.stop()


ASK_MORE_HINT = "(more passages match: --k N shows up to N)"


def _ask(engine: Engine, args: argparse.Namespace) -> int:
    color = sys.stdout.isatty()
    width = terminal_width() if color else 88
    if args.question:
        answer = filtered_answer(engine, " ".join(args.question), k=args.k, options=args.options)
        text = (
            render_json(answer) if args.json else render_text(answer, width, color, ASK_MORE_HINT)
        )
        print(text)
        return 0
    # One answer per input line, flushed at once, so another program can drive us.
    first = True
    for line in sys.stdin:
        answer = filtered_answer(engine, line.rstrip("\n"), k=args.k, options=args.options)
        if args.json:
            print(render_json(answer), flush=True)
        else:
            if not first:
                print()
            rendered = render_text(answer, width, color, ASK_MORE_HINT)
            print(f"Q: {answer.question}\n{rendered}", flush=True)
        first = False
    return 0


def _inspect(engine: Engine) -> int:
    for article in engine.articles:
        source = f" — {article.source}" if article.source else ""
        print(f"# {article.key}: {article.title}{source} ({article.path})")
        for sentence in article.sentences:
            print(f"[{sentence.citation}] {sentence.text}")
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from bot.evaluation.datasets import load_eval_file
    from bot.evaluation.runner import evaluate

    semantic = None
    if not args.lexical:
        semantic = load_semantic(replace(settings, semantic=True) if args.semantic else settings)
        if args.semantic and semantic is None:
            return _fail("--semantic: the embedding model could not be loaded (see above)")
    mode = "semantic" if semantic is not None else "lexical"
    try:
        eval_set = load_eval_file(args.file)
        report = evaluate(eval_set, args.corpus, semantic=semantic, split=args.split)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    scores = report.scores.as_dict()
    calibration = report.calibration.summary()
    if args.json:
        print(
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
        return 0
    print(f"{report.name} ({mode}): {scores['answerable']} answerable questions")
    if scores["answerable"]:
        print(
            f"  Hit@1 {scores['hit@1']:.3f}   Hit@3 {scores['hit@3']:.3f}   "
            f"MRR@10 {scores['mrr@10']:.3f}   "
            f"wrongly declined {scores['wrongly_declined']}/{scores['answerable']}"
        )
    if "unanswerable" in scores:
        print(
            f"  unanswerable: declined {scores['declined']}/{scores['unanswerable']} "
            f"({scores['declined_share']:.1%})"
        )
        if len(report.declined_by_kind) > 1:
            for kind, (declined, asked) in sorted(report.declined_by_kind.items()):
                print(f"    {kind}: declined {declined}/{asked}")
    if "span_holds_gold" in scores:
        print(
            f"  answer span holds the gold answer: {scores['span_holds_gold']}/"
            f"{scores['hit1_with_span']} Hit@1 answers with a span "
            f"({scores['span_holds_share']:.1%}; {scores['span_holds_of_hit1']:.1%} of all Hit@1)"
        )
    _print_calibration(report)
    for miss in report.misses[: args.misses]:
        rank = f"rank {miss.rank}" if miss.rank else "not in top 10"
        print(f"  miss ({rank}): {miss.question.question}\n      top: {miss.top[:160]}")
    for question in report.false_answers[: args.misses]:
        print(f"  answered but should decline: {question.question}")
    return 0


def _print_calibration(report: Any) -> None:
    """Print how the confidence labels split the questions, and the calibration table."""
    summary = report.calibration.summary()
    if not summary:
        return
    for name in ("answerable", "unanswerable"):
        if f"{name}_declined" in summary:
            shares = "   ".join(
                f"{label} {summary[f'{name}_{label}']:.1%}"
                for label in ("declined", "low", "medium", "high")
            )
            print(f"  {name}: {shares}")
    if "high_hit@1" in summary:
        high, right = summary["high_answers"], summary["high_hit@1"]
        print(f"  labelled high: {high}, right at rank 1 {right:.1%}")
    print(f"  calibration: Brier {summary['brier']:.3f}   ECE {summary['ece']:.3f}")
    for row in report.calibration.table():
        print(
            f"    confidence {row['bin']}: {row['questions']:4} questions, "
            f"mean {row['confidence']:.2f}, right at rank 1 {row['right']:.2f}"
        )


def _feeds(args: argparse.Namespace, settings: Settings) -> int:
    from bot.errors import FeedConfigError
    from bot.feeds import add_urls, feed_lines, poll_once

    try:
        if args.command == "feeds" and not args.poll:
            print("\n".join(feed_lines(args.corpus, settings)))
            return 0
        if args.command == "add":
            report = add_urls(args.urls, args.corpus, settings)
        else:
            # Cron's own clock drifts: a feed due within the next minute is due now.
            report = poll_once(args.corpus, settings, force=False, slack=60.0)
    except (FeedConfigError, OSError) as exc:
        return _fail(str(exc))
    for line in report.lines():
        print(line)
    print(report.summary())
    return 1 if report.failures else 0


def _discord(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    try:
        settings = load_settings(require_token=True)
    except SettingsError as exc:
        return _fail(str(exc))
    settings = replace(settings, corpus_dir=args.corpus, answer_k=args.k)
    # Imported here so that the CLI and REPL start without loading discord.py.
    from bot.discordbot.app import run, sync

    if args.command == "run":
        return int(run(settings))
    return int(sync(settings, global_=args.global_))
