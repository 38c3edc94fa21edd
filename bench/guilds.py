"""Measure one bot process serving many servers, each with its own corpus of real articles.

Run from the repository root:

    PYTHONPATH=. /work/venv/bin/python bench/guilds.py --guilds 100 --sentences 10000

It builds --guilds corpora of about --sentences sentences each from disjoint files of the
shared archives (hard links into bench/data/guilds/gNNN; see bench/scale.py), then, each in
a fresh process so memory is measured cleanly:

- alone: the bot's engine registry (bot.discordbot.engines.GuildEngines, the code the bot
  runs) serving one server: time to load its corpus, RSS, and --questions answers through
  filtered_answer (the bot's answering path), p50/p99;
- all: the same registry serving every server: time to load all of them (lazily, one after
  the other, as first questions would), RSS, and the same number of answers spread over the
  servers, p50/p99, with the ratio to one server alone measured in the same run.

"cold-all" builds and saves every index (INDEX_DIR in bench/data); "warm-alone" and
"warm-all" are restarts on the saved indexes, the first the baseline of the ratios.
Ranking is lexical unless --semantic (the model then embeds every sentence on the first
run: minutes per 100k sentences on two cores). --sentences counts by the archive README's
rule, which finds a few percent more than the splitter.
Results go to bench/results/guilds.json and are printed as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale import (  # noqa: E402
    DATA,
    RESULTS,
    extract,
    link_files,
    make_questions,
    memory,
    percentiles,
    sentence_counts,
)

SEED = 20261203


def build_corpora(src: Path, guilds: int, sentences: int) -> list[Path]:
    """Hard-link disjoint seeded samples of about `sentences` sentences per server."""
    counts = sentence_counts(src)
    order = sorted(counts)
    random.Random(SEED).shuffle(order)
    folders: list[Path] = []
    position = 0
    root = DATA / "guilds"
    for g in range(guilds):
        chosen: list[str] = []
        total = 0
        while total < sentences and position < len(order):
            chosen.append(order[position])
            total += counts[order[position]]
            position += 1
        if total < sentences:
            sys.exit(f"bench: the archives hold too few sentences for {guilds} servers")
        folder = root / f"g{g:03d}"
        link_files(src, chosen, folder)
        folders.append(folder)
    return folders


class GCClock:
    """Add up the time the cyclic garbage collector runs, per generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.runs = [0, 0, 0]
        self._started = 0.0

    def __call__(self, stage: str, info: dict[str, Any]) -> None:
        if stage == "start":
            self._started = time.perf_counter()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.perf_counter() - self._started
            self.runs[generation] += 1

    def report(self) -> dict[str, Any]:
        return {"runs": self.runs, "ms": [round(s * 1000, 1) for s in self.seconds]}


def child(
    phase: str, folders: list[Path], questions: int, semantic: bool, freeze: bool = True
) -> dict[str, Any]:
    """Serve the folders from one GuildEngines, as the bot does; time loads and answers.

    freeze: the registry freezes what it loads (gc.freeze), as the bot does; False
    measures without it.
    """
    import gc

    from bot.answer.filters import filtered_answer
    from bot.discordbot.engines import GuildEngines, load_semantic
    from bot.settings import load_settings

    settings = load_settings(
        env_file=None,
        environ={
            "CORPUS_DIR": str(folders[0]),
            "INDEX_DIR": str(DATA / "guilds-index"),
            "SEMANTIC": "true" if semantic else "false",
            "WATCH_CORPUS": "false",
        },
    )
    before = memory()
    started = time.perf_counter()
    model = load_semantic(settings) if semantic else None
    engines = GuildEngines(settings)

    async def load_all() -> list[Any]:
        loaded = []
        for folder in folders:
            if model is not None and not engines.built():
                from bot.discordbot.engines import load_live_engine

                engines.set_default(load_live_engine(settings, folder, semantic=model, quiet=True))
            loaded.append(await engines.get(folder.resolve()))
        return loaded

    loaded = asyncio.run(load_all())
    if not freeze:
        gc.unfreeze()  # what the loads froze (LiveEngine does), back in the collector's sight
    load_seconds = time.perf_counter() - started
    after_load = memory()
    rng = random.Random(SEED)
    asked: list[tuple[Any, str]] = []
    per_engine = max(1, questions // len(loaded))
    for engine in loaded:
        asked += [(engine, q) for q in make_questions(engine, per_engine, rng.randrange(10**6))]
    rng.shuffle(asked)
    asked = asked[:questions]
    for engine, question in asked[:20]:  # warm-up: first-touch page faults, caches
        filtered_answer(engine, question, k=3)
    clock = GCClock()
    gc.callbacks.append(clock)
    timings = []
    for engine, question in asked:
        start = time.perf_counter()
        filtered_answer(engine, question, k=3)
        timings.append(time.perf_counter() - start)
    gc.callbacks.remove(clock)
    return {
        "gc_during_answers": clock.report(),
        "gc_tracked_objects": len(gc.get_objects()) + gc.get_freeze_count(),
        "freeze": freeze,
        "phase": phase,
        "guilds": len(folders),
        "sentences": sum(len(e.sentences) for e in loaded),
        "articles": sum(len(e.articles) for e in loaded),
        "load_seconds": round(load_seconds, 2),
        "rss_before_mib": before.get("VmRSS"),
        "rss_loaded_mib": after_load.get("VmRSS"),
        "rss_peak_mib": memory().get("VmHWM"),
        "answer": percentiles(timings),
        "questions": len(timings),
    }


def run_child(
    phase: str, folders: list[Path], questions: int, semantic: bool, freeze: bool = True
) -> dict[str, Any]:
    """Run one measurement in a fresh process and return its JSON."""
    args = [sys.executable, __file__, "--child", phase, "--questions", str(questions)]
    if semantic:
        args.append("--semantic")
    if not freeze:
        args.append("--no-gc-freeze")
    args += [str(f) for f in folders]
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def table(rows: list[dict[str, Any]]) -> str:
    """Format the results, with ratios against one server alone (restarted) in the same run."""
    lines = [
        "phase          servers  sentences  load s   RSS MiB  p50 ms  p99 ms  p50 x  p99 x"
        "  GC ms (runs)",
    ]
    base = next(r for r in rows if r["phase"] == "warm-alone")
    for r in rows:
        p50, p99 = r["answer"]["p50_ms"], r["answer"]["p99_ms"]
        collected = r.get("gc_during_answers", {"ms": [0.0], "runs": [0]})
        lines.append(
            f"{r['phase']:<14} {r['guilds']:>7} {r['sentences']:>10,} {r['load_seconds']:>7.1f} "
            f"{r['rss_loaded_mib']:>9.0f} {p50:>7.2f} {p99:>7.2f} "
            f"{p50 / base['answer']['p50_ms']:>6.2f} {p99 / base['answer']['p99_ms']:>6.2f}"
            f"  {sum(collected['ms']):.0f} ({sum(collected['runs'])})"
        )
    return "\n".join(lines)


def main() -> None:
    """Build the corpora and measure one server alone against all of them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guilds", type=int, default=100)
    parser.add_argument("--sentences", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--semantic", action="store_true")
    parser.add_argument(
        "--warm-only", action="store_true", help="keep the saved indexes; measure restarts only"
    )
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="do not gc.freeze() what is loaded (LiveEngine does: storage.memory.collecting_later)",
    )
    parser.add_argument(
        "--compare-gc",
        action="store_true",
        help="measure each restart also without the freeze, one after the other",
    )
    parser.add_argument("--source", type=Path, default=Path("/work/shared/bench"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("folders", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        freeze = not args.no_gc_freeze
        result = child(args.child, args.folders, args.questions, args.semantic, freeze)
        print(json.dumps(result))
        return
    folders = build_corpora(extract(args.source), args.guilds, args.sentences)
    # Cold: every index built and saved; then restarts on the saved indexes, one server
    # alone (the baseline) and all of them.
    phases = [("warm-alone", folders[:1]), ("warm-all", folders)]
    if not args.warm_only:
        shutil.rmtree(DATA / "guilds-index", ignore_errors=True)
        phases.insert(0, ("cold-all", folders))
    rows = []
    for phase, chosen in phases:
        freeze = not args.no_gc_freeze
        rows.append(run_child(phase, chosen, args.questions, args.semantic, freeze))
        print(json.dumps(rows[-1]), file=sys.stderr)
        if args.compare_gc and phase.startswith("warm"):
            rows.append(run_child(phase + "-nofrz", chosen, args.questions, args.semantic, False))
            print(json.dumps(rows[-1]), file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "guilds.json").write_text(json.dumps(rows, indent=2))
    print(table(rows))


if __name__ == "__main__":
    main()
