"""Time article filters (--article/--source/--since/--until) at 1M sentences against a baseline.

Run from the repository root after bench/scale.py has built the 1m corpus and its index:

    python bench/filters.py [--size 1m] [--baseline 8aa39c4] [--repeat 200]

Each tree runs in a fresh process on the saved index of bench/data/index-<size>
(--index-dir to use another; a tree whose index code differs rebuilds it). A
process loads the engine, then times:

- the first filtered question's filter right after the restart (a source
  filter over the real articles): choosing the articles and building the
  per-sentence limit the engine ranks with, and reading it at the sentences a
  question touches;
- the same for each kind of filter, repeated, over the articles given synthetic
  sources, web sites and dates (the bench corpus has none; the same metadata in
  both trees): article, source, site, a date range, source and dates;
- a full answer with and without a source filter on the bench questions.

Filters are timed as wall time and as the thread's CPU time (without the time
other programs of a loaded machine took the core away).

The trees take turns (--rounds, default 2) and each number is the lowest over the
rounds, the one the machine's other load disturbed least. It prints p50/p99 per
kind for each tree and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import trees  # this script's folder: bench/trees.py of this tree, in every child too


def synthetic(articles: list[Any]) -> list[Any]:
    """Give each article a source, a web address and a date, the same in every tree."""
    sources = ["Yonhap", "Reuters", "BBC News", "Korea Herald", "AP", None]
    hosts = ["en.yna.co.kr", "www.reuters.com", "www.bbc.co.uk", "koreaherald.com", "apnews.com"]
    start = dt.date(2010, 1, 1)
    out = []
    for n, article in enumerate(articles):
        date = None if n % 7 == 0 else (start + dt.timedelta(days=(n * 37) % 4000)).isoformat()
        out.append(
            dataclasses.replace(
                article,
                source=sources[n % len(sources)],
                url=f"https://{hosts[(n // 3) % len(hosts)]}/news/{n}",
                date=date,
            )
        )
    return out


def child(size: str, repeat: int) -> dict[str, Any]:
    """Measure one tree (this process's bot package) and return the numbers."""
    import numpy as np
    import scale

    from bot.answer import filters
    from bot.answer.engine import Engine
    from bot.answer.filters import ArticleFilter

    corpus = Path(os.environ["BENCH_CORPUS"])
    index_dir = Path(os.environ["BENCH_INDEX_DIR"])
    started = time.perf_counter()
    engine = Engine.from_folder(corpus, index_dir=index_dir)
    loaded = time.perf_counter() - started
    terms = getattr(engine, "terms", None)  # stored sentence terms, opened on a thread
    rng = np.random.default_rng(7)
    touched = np.unique(rng.integers(0, len(engine.sentences), 20_000)).astype(np.int32)

    cpu: list[float] = []

    def limit(options: ArticleFilter) -> float:
        """Choose the articles, build the engine's limit, read it where a question looks.

        Returns the wall time; the thread's CPU time goes to cpu.
        """
        start, used = time.perf_counter(), time.thread_time()
        keys = filters._keys(engine, options)
        mask = engine._allowed(keys)
        assert mask is not None
        mask[touched]
        cpu.append(time.thread_time() - used)
        return time.perf_counter() - start

    first = limit(ArticleFilter(source="BBC"))
    second = limit(ArticleFilter(source="BBC"))
    if hasattr(engine, "serve"):
        engine.serve()  # older trees open the terms by themselves
    if terms is not None:
        terms.ready.wait()  # answers below are timed alone
    # The same metadata in both trees; each tree's own catalogue of it.
    dated = synthetic(list(engine.articles))
    engine.corpus.articles[:] = dated
    catalogue_start = time.perf_counter()
    if hasattr(engine, "catalogue"):
        engine.catalogue = type(engine.catalogue)(dated)
    else:
        filters._CATALOGUES.pop(engine, None)
        filters._catalogue(engine)
    catalogue_s = time.perf_counter() - catalogue_start
    kinds = {
        "article": ArticleFilter(article=dated[len(dated) // 2].path),
        "source": ArticleFilter(source="reuters"),
        "site": ArticleFilter(source="bbc.co.uk"),
        "dates": ArticleFilter(since=dt.date(2012, 1, 1), until=dt.date(2013, 6, 30)),
        "source+dates": ArticleFilter(source="yonhap", since=dt.date(2014, 1, 1)),
    }
    chosen = {}
    timings = {}
    timings_cpu = {}
    for name, options in kinds.items():
        cpu.clear()
        samples = [limit(options) for _ in range(repeat)]
        timings[name] = trees.percentiles(samples)
        timings_cpu[name] = trees.percentiles(cpu)
        keys = filters._keys(engine, options)
        chosen[name] = len(keys) if keys is not None else None
    questions = scale.make_questions(engine, 100, scale.SEED)
    source = kinds["source"]
    plain, limited = [], []
    for question in questions:
        start = time.perf_counter()
        filters.filtered_answer(engine, question, k=3, cues=False)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        filters.filtered_answer(engine, question, k=3, options=source, cues=False)
        limited.append(time.perf_counter() - start)
    import bot

    return {
        "code": str(Path(bot.__file__).resolve().parents[1]),
        "sentences": len(engine.sentences),
        "articles": len(engine.articles),
        "load_s": round(loaded, 3),
        "first_filter_ms": round(first * 1000, 3),
        "second_filter_ms": round(second * 1000, 3),
        "catalogue_build_ms": round(catalogue_s * 1000, 2),
        "filters": timings,
        "filters_cpu": timings_cpu,
        "chosen": chosen,
        "answer": trees.percentiles(plain),
        "answer_filtered": trees.percentiles(limited),
    }


def main() -> int:
    if trees.in_child():
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--baseline", default="8aa39c4", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--index-dir", type=Path, help="default: bench/data/index-<size>")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(trees.BENCH))
    import scale

    env = {
        "BENCH_CORPUS": str(scale.DATA / f"corpus-{args.size}"),
        "BENCH_INDEX_DIR": str(args.index_dir or scale.DATA / f"index-{args.size}"),
    }
    here = Path(__file__).resolve()
    base, head = trees.compare(here, args.baseline, [args.size, str(args.repeat)], env, args.rounds)
    print(f"{head['sentences']:,} sentences, {head['articles']:,} articles")
    print(f"| measure | baseline {args.baseline} | this tree | ratio |")
    print("|---|---|---|---|")

    def row(label: str, b: float, h: float) -> None:
        print(trees.ratio_row(label, b, h))

    row("first filter after restart (source)", base["first_filter_ms"], head["first_filter_ms"])
    row("second filter (source)", base["second_filter_ms"], head["second_filter_ms"])
    # This tree builds its catalogue with the engine (on a thread); the baseline's
    # is built piece by piece on first use, inside the first filters above.
    row("catalogue of synthetic metadata", base["catalogue_build_ms"], head["catalogue_build_ms"])
    for kind in head["filters"]:
        for at in ("p50", "p99"):
            row(f"{kind} filter {at}", base["filters"][kind][at], head["filters"][kind][at])
            b, h = base["filters_cpu"][kind][at], head["filters_cpu"][kind][at]
            row(f"{kind} filter {at} (CPU)", b, h)
    for kind in ("answer", "answer_filtered"):
        for at in ("p50", "p99"):
            row(f"{kind.replace('_', ' ')} {at}", base[kind][at], head[kind][at])
    print(f"articles chosen: {head['chosen']} (baseline {base['chosen']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
