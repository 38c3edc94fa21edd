"""Each command's work after the arguments are read: ask, inspect, repl, eval, feeds, run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.loading import load_semantic, with_ranking_flags
from bot.cli.output import Console
from bot.errors import SettingsError
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.answer.engine import Engine
    from bot.live import LiveEngine

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 130, 141


ASK_MORE_HINT = "(more passages match: --k N shows up to N)"


# A one-shot `ask` on a corpus of up to this many sentences waits for the embeddings it
# lacks (a first run: seconds, saved for the next); on a larger one it answers at once by
# word match while they are computed, and says so.
ASK_WAIT_SENTENCES = 2000


def ask(engine: Engine, args: argparse.Namespace, k: int, console: Console) -> int:
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
    engine.serve()
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


def inspect_sentences(engine: Engine, console: Console) -> int:
    for article in engine.articles:
        source = f" — {article.source}" if article.source else ""
        console.out_wrapped(f"# {article.key}: {article.title}{source} ({article.path})")
        for sentence in article.sentences:
            label = f"[{sentence.citation}] "
            console.out_wrapped(label + sentence.text, indent=" " * min(len(label), 12))
    return EXIT_OK


def repl(
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
    live.serve()
    try:
        return repl.run()
    finally:
        if watcher is not None:
            watcher.stop()


def eval_file(args: argparse.Namespace, settings: Settings, corpus: Path, console: Console) -> int:
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


def feeds(args: argparse.Namespace, settings: Settings, corpus: Path, console: Console) -> int:
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


def discord_bot(
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
