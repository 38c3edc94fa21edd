"""The qabot command line's grammar: every command, its options, its help and examples."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__

if TYPE_CHECKING:
    from bot.answer.filters import ArticleFilter

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


def build_parser() -> argparse.ArgumentParser:
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


def article_filter(args: argparse.Namespace) -> ArticleFilter:
    """Read --article/--source/--since/--until; raise FilterError for a bad date."""
    from bot.answer.filters import ArticleFilter, parse_day

    today = date.today()
    since = parse_day(args.since, end=False, today=today) if args.since else None
    until = parse_day(args.until, end=True, today=today, option="--until") if args.until else None
    return ArticleFilter(article=args.article, source=args.source, since=since, until=until)


def _python() -> str:
    return ".".join(map(str, sys.version_info[:3]))
