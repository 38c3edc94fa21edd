"""The `qabot` command: ask, repl, inspect, eval, run and sync."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from platformdirs import user_data_dir

from bot.answer.engine import Engine
from bot.cli.repl import Repl, terminal_io, terminal_width
from bot.cli.text import render_json, render_text
from bot.embedding.loader import SemanticModel, semantic_from_settings
from bot.index.store import default_index_root
from bot.ingest.loader import CorpusError
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
    parser = argparse.ArgumentParser(
        prog="qabot", description="Ask news articles questions; get cited sentences back."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = commands.add_parser(
        "ask",
        parents=[common, ranking],
        help="answer one question, or one per line of standard input",
        description="Answer a question. Without one, answer each line of standard input.",
    )
    ask.add_argument("question", nargs="*", help="the question (omit to read standard input)")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    commands.add_parser("repl", parents=[common, ranking], help="ask questions interactively")
    commands.add_parser("inspect", parents=[common], help="list every sentence with its citation")
    evaluate = commands.add_parser(
        "eval", parents=[common, ranking], help="measure Hit@1, Hit@3 and MRR on a question file"
    )
    evaluate.add_argument("file", type=Path, help="question file (.jsonl)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument(
        "--misses", type=int, default=0, metavar="N", help="show up to N missed questions"
    )
    commands.add_parser(
        "run", parents=[common, ranking], help="run the Discord bot (needs DISCORD_TOKEN)"
    )
    sync = commands.add_parser(
        "sync", parents=[common], help="register the slash commands with Discord now"
    )
    sync.add_argument(
        "--global", dest="global_", action="store_true", help="sync globally, not to the guild"
    )
    return parser


def _fail(message: str) -> int:
    print(f"qabot: {message}", file=sys.stderr)
    return 2


def _warn(warning: str) -> None:
    print(f"qabot: warning: {warning}", file=sys.stderr)


def load_semantic(settings: Settings) -> SemanticModel | None:
    """Prepare the embedding model the settings ask for (it loads when first needed).

    Says in one line why not, if not, now or when it fails to load.
    """
    model, warning = semantic_from_settings(settings, warn=_warn, progress=Progress())
    if warning:
        _warn(warning)
    return model


def with_ranking_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    """Apply --lexical / --semantic over SEMANTIC."""
    from dataclasses import replace

    if getattr(args, "lexical", False):
        return replace(settings, semantic=False)
    if getattr(args, "semantic", False):
        return replace(settings, semantic=True)
    return settings


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
    args = _parser(settings).parse_args(argv)
    settings = with_ranking_flags(settings, args)
    try:
        if args.command == "eval":
            return _eval(args, settings)
        if args.command in {"run", "sync"}:
            return _discord(args, settings)
        # inspect answers nothing: it never loads the model.
        semantic = load_semantic(settings) if args.command != "inspect" else None
        live = load_engine(args.corpus, semantic, settings.index_dir)
    except CorpusError as exc:
        for problem in exc.problems:
            print(f"qabot: {problem}", file=sys.stderr)
        return _fail(str(exc))
    if args.command == "ask":
        return _ask(live.engine, args)
    if args.command == "inspect":
        return _inspect(live.engine)
    read, write, interactive = terminal_io(Path(user_data_dir("qabot")) / "history")
    repl = Repl(live, read, write, k=args.k, width=terminal_width, color=interactive)
    # WATCH_CORPUS: pick up added, changed and removed articles while the prompt is open.
    watcher = live.start_watching() if settings.watch_corpus else None
    try:
        return repl.run()
    finally:
        if watcher is not None:
            watcher.stop()


ASK_MORE_HINT = "(more passages match: --k N shows up to N)"


# A one-shot `ask` on a corpus of up to this many sentences waits for the embeddings it
# lacks (a first run: seconds, saved for the next); on a larger one it answers at once by
# word match while they are computed, and says so.
ASK_WAIT_SENTENCES = 2000


def _ask(engine: Engine, args: argparse.Namespace) -> int:
    if engine.semantic is not None and engine.semantic.size <= ASK_WAIT_SENTENCES:
        engine.semantic.wait()
    color = sys.stdout.isatty()
    width = terminal_width() if color else 88
    if args.question:
        answer = engine.answer(" ".join(args.question), k=args.k)
        text = (
            render_json(answer) if args.json else render_text(answer, width, color, ASK_MORE_HINT)
        )
        print(text)
        return 0
    # One answer per input line, flushed at once, so another program can drive us.
    first = True
    for line in sys.stdin:
        answer = engine.answer(line.rstrip("\n"), k=args.k)
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
    from bot.evaluation.datasets import load_eval_file
    from bot.evaluation.runner import evaluate

    semantic = None
    if not args.lexical:
        semantic = load_semantic(settings)
        if semantic is not None and args.semantic and semantic.embedder is None:
            semantic = None
        if args.semantic and semantic is None:
            return _fail("--semantic: the embedding model could not be loaded (see above)")
    mode = "semantic" if semantic is not None else "lexical"
    try:
        eval_set = load_eval_file(args.file)
        report = evaluate(eval_set, args.corpus, semantic=semantic)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    scores = report.scores.as_dict()
    if args.json:
        print(json.dumps({"file": str(args.file), "mode": mode, **scores}))
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
    for miss in report.misses[: args.misses]:
        rank = f"rank {miss.rank}" if miss.rank else "not in top 10"
        print(f"  miss ({rank}): {miss.question.question}\n      top: {miss.top[:160]}")
    for question in report.false_answers[: args.misses]:
        print(f"  answered but should decline: {question.question}")
    return 0


def _discord(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    try:
        settings = with_ranking_flags(load_settings(require_token=True), args)
    except SettingsError as exc:
        return _fail(str(exc))
    settings = replace(settings, corpus_dir=args.corpus, answer_k=args.k)
    # Imported here so that the CLI and REPL start without loading discord.py.
    from bot.discordbot.app import run, sync

    if args.command == "run":
        return int(run(settings))
    return int(sync(settings, global_=args.global_))
