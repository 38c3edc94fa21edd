"""Measure qabot at newsroom scale: build, restart, query, reload, against rank-bm25.

Run from the repository root:

    .venv/bin/python bench/scale.py --sizes 10k,100k,1m

It extracts the article archives of ../shared/bench (or --source) into
bench/data/src, builds corpora of about 10k, 100k and 1M sentences from them
(hard links into bench/data/corpus-<size>), and for each size runs, each in a
fresh process so memory and start-up are measured cleanly:

- cold: the project's own ingest and index (Engine.from_folder with an index
  folder), timed, with its peak memory and the index size on disk;
- serve: a restart on the saved index (time to ready), then 200 questions one at
  a time, top-10, timed for retrieval alone (BM25Index.search) and for a full
  lexical answer (Engine.answer), then adding, changing and removing one article
  with a reload after each, and the serving memory;
- reference: rank-bm25's BM25Plus (same parameters, same tokens) on the same
  questions, its get_scores timed, its top-10 compared with ours (ties counted as
  equal). rank-bm25 needs about a second a question at 1M sentences, so there it
  runs on a sample of the questions (--reference-sample).

With --baseline REV the cold and serve children (this script's) also run on the qabot
of a copy of the tree at git revision REV (its own index folder), in the same run, and
the table gives its row beside the current one, with ratios for the serving memory:

    .venv/bin/python bench/scale.py --sizes 1m --baseline 3e8836d --no-splitter

With BENCH_DATA=DIR the corpora, indexes and baseline trees go in DIR instead of
bench/data (link src and counts.json there to reuse an extraction).

It also times the sentence splitter against pysbd and, with --tiny, indexes a
folder of 100,000 tiny files. Results go to bench/results/ as JSON and are
printed as a table.

With --cli it measures instead what a user sees, through the CLI
(``python -m bot ask``, SEMANTIC=false): cold build to first answer with a fresh
INDEX_DIR, then restart to first answer (interpreter included, median of --restarts,
taken in turns with the baseline's) and that process's CPU time and peak RSS; with
--baseline REV the same commands run in the same session on a copy of the tree at git
revision REV, for before/after ratios:

    .venv/bin/python bench/scale.py --sizes 100k,1m --cli --baseline e10ddef
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The tree whose qabot is measured: this one, or (for --baseline) an older one run by
# this script's children, so that both are measured by the same code.
CODE = Path(os.environ.get("BENCH_CODE_TREE") or ROOT)
if str(CODE) not in sys.path:
    sys.path.insert(0, str(CODE))

# BENCH_DATA: another folder for the corpora, indexes and baseline trees (helpers that
# share bench/data each use their own, so that no run rewrites another's corpus).
DATA = Path(os.environ.get("BENCH_DATA") or ROOT / "bench" / "data")
RESULTS = ROOT / "bench" / "results"
ARCHIVES = ("news-articles.tar.gz", "wiki-articles.tar.gz")
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SEED = 20261128
QUESTIONS = 200
K = 10
# The README's rule for counting sentences when choosing files (approximate, fast).
_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


# --- corpora -------------------------------------------------------------------


def extract(source: Path) -> Path:
    """Extract the archives once into bench/data/src; return that folder."""
    target = DATA / "src"
    done = target / ".extracted"
    if done.exists():
        return target
    for name in ARCHIVES:
        archive = source / name
        if not archive.is_file():
            sys.exit(f"bench: {archive} not found (use --source to say where the archives are)")
        print(f"extracting {archive} ...", file=sys.stderr)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    done.write_text("ok\n")
    return target


def sentence_counts(src: Path) -> dict[str, int]:
    """Count each file's body sentences by the archive README's rule (cached)."""
    cache = DATA / "counts.json"
    if cache.exists():
        counts: dict[str, int] = json.loads(cache.read_text())
        return counts
    counts = {}
    for path in sorted(src.rglob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        body = [line for line in lines[1:] if line.strip()]
        counts[path.relative_to(src).as_posix()] = 1 + sum(len(_SPLIT.split(p)) for p in body)
    cache.write_text(json.dumps(counts))
    return counts


def build_corpus(src: Path, label: str, target: int) -> tuple[Path, int, int]:
    """Hard-link a seeded sample of about target sentences into bench/data/corpus-<label>."""
    counts = sentence_counts(src)
    order = sorted(counts)
    random.Random(SEED).shuffle(order)
    chosen: list[str] = []
    total = 0
    for rel in order:
        if total >= target:
            break
        chosen.append(rel)
        total += counts[rel]
    folder = DATA / f"corpus-{label}"
    link_files(src, chosen, folder)
    return folder, len(chosen), total


def link_files(src: Path, chosen: list[str], folder: Path) -> None:
    """Fill folder with hard links to the chosen files of src, unless it holds them already."""
    manifest = folder / ".manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()) == chosen:
        return
    shutil.rmtree(folder, ignore_errors=True)
    for rel in chosen:
        destination = folder / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src / rel, destination)
        except OSError:
            shutil.copy2(src / rel, destination)
    manifest.write_text(json.dumps(chosen))


def build_tiny(count: int) -> Path:
    """Write a flat folder of count tiny articles (one title, one sentence each)."""
    folder = DATA / f"tiny-{count}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(SEED)
    words = "harbour council budget river station museum festival bridge ferry archive".split()
    for i in range(count):
        a, b = rng.sample(words, 2)
        (folder / f"note-{i:06d}.txt").write_text(
            f"Note {i}\n\nThe {a} report number {i} mentions the {b} and code x{i:06d}.\n"
        )
    marker.write_text("ok\n")
    return folder


# --- questions -----------------------------------------------------------------


def make_questions(engine: Any, n: int, seed: int) -> list[str]:
    """Write n questions from the corpus: rare words of sentences, and titles."""
    from bot.index.tokenize import STOP_WORDS

    rng = random.Random(seed)
    sentences = engine.sentences
    articles = engine.articles
    index = engine.index
    questions: list[str] = []
    openers = ["What", "Who", "When", "Where", "How many", "Why", "What about"]
    while len(questions) < n:
        kind = rng.random()
        if kind < 0.25:
            article = articles[rng.randrange(len(articles))]
            questions.append(
                f"{rng.choice(['What is', 'Tell me about', 'Who is'])} {article.title}?"
            )
            continue
        text = sentences[rng.randrange(len(sentences))].text
        tokens = [w.strip(".,;:!?\"'()[]") for w in text.split()]
        tokens = [w for w in tokens if len(w) > 2 and w.lower() not in STOP_WORDS]
        if len(tokens) < 4:
            continue
        if kind < 0.75:
            # Rarer words first, as a person asks about what is specific.
            from bot.index.tokenize import terms

            tokens.sort(key=lambda w: index.document_frequency((terms(w) or [""])[0]) or 10**9)
            picked = tokens[: rng.randint(2, 4)]
            rng.shuffle(picked)
        else:
            start = rng.randrange(max(1, len(tokens) - 6))
            picked = tokens[start : start + rng.randint(5, 8)]
        questions.append(f"{rng.choice(openers)} {' '.join(picked)}?")
    return questions


def percentiles(samples: list[float]) -> dict[str, float]:
    """Return p50, p99 and max in milliseconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {
        "p50_ms": round(at(0.5), 3),
        "p99_ms": round(at(0.99), 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def memory() -> dict[str, float]:
    """Return this process's resident memory now and at its peak, in MiB."""
    values: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM", "RssAnon", "RssFile"}:
                values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


# --- child processes -------------------------------------------------------------


def child_cold(corpus: Path, index_dir: Path) -> dict[str, Any]:
    from bot.answer.engine import Engine
    from bot.index.storage import index_folder, saved_size
    from bot.progress import Progress

    shutil.rmtree(index_dir, ignore_errors=True)
    start = time.perf_counter()
    engine = Engine.from_folder(corpus, index_dir=index_dir, progress=Progress())
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 2),
        "articles": len(engine.articles),
        "sentences": len(engine.sentences),
        "terms": len(engine.index.postings.vocabulary),
        "postings": int(engine.index.postings.docs.size),
        "index_bytes": saved_size(index_folder(corpus, index_dir)),
        "memory_mib": memory(),
        # The worker processes that read and tokenised the articles, at their peak.
        "workers_peak_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def child_serve(corpus: Path, index_dir: Path, n_questions: int) -> dict[str, Any]:
    started = time.perf_counter()
    from bot.answer.engine import Engine
    from bot.index.tokenize import terms
    from bot.live import LiveEngine

    imported = time.perf_counter()
    live = LiveEngine(corpus, index_dir=index_dir)
    ready = time.perf_counter()
    engine: Engine = live.engine
    result: dict[str, Any] = {
        "imports_s": round(imported - started, 3),
        "ready_s": round(ready - imported, 3),
        "memory_at_ready_mib": memory(),
        "reread_files": live.last_result.changes.reread if live.last_result else None,
    }
    questions = make_questions(engine, n_questions, SEED)
    warmup = make_questions(engine, 10, SEED + 1)
    # The first answer after a start pays for what the engine builds on first use.
    t = time.perf_counter()
    engine.answer(warmup[0], k=K)
    result["first_answer_s"] = round(time.perf_counter() - t, 3)
    weights = [{t: float(c) for t, c in Counter(terms(q)).items()} for q in questions]
    for q in warmup:
        engine.index.search({t: 1.0 for t in terms(q)}, K)
        engine.answer(q, k=K)
    retrieval: list[float] = []
    for w in weights:
        t = time.perf_counter()
        engine.index.search(w, K)
        retrieval.append(time.perf_counter() - t)
    dense: list[float] = []
    from bot.index.bm25 import top_k

    for w in weights:
        t = time.perf_counter()
        scores = engine.index.match_scores(w)
        top_k(scores, K)
        dense.append(time.perf_counter() - t)
    answers: list[float] = []
    answered = 0
    for q in questions:
        t = time.perf_counter()
        answer = engine.answer(q, k=K)
        answers.append(time.perf_counter() - t)
        answered += answer.answered
    result["retrieval"] = percentiles(retrieval)
    result["retrieval_dense"] = percentiles(dense)
    result["answer"] = percentiles(answers)
    result["answered"] = answered
    result["questions"] = len(questions)
    result["memory_mib"] = memory()
    # Only the live engine is served from now on: the first one, still held here, would
    # keep its index (and the pages the reloads' merges read of its files) in memory.
    del engine
    result["reload"] = reload_timings(live, corpus)
    result["memory_after_reloads_mib"] = memory()
    return result


def reload_timings(live: Any, corpus: Path) -> dict[str, Any]:
    """Add, change and remove one article, reloading after each; time the reloads."""
    path = corpus / "zz-bench-added.txt"
    marker = "Quorvex"
    body = (
        "Harbour board approves ferry plan\n\n"
        f"The harbour board approved the {marker} ferry plan on Tuesday. "
        "Ferries will run every hour from the new pier.\n"
    )
    timings: dict[str, Any] = {}
    try:
        for step, text in (
            ("add", body),
            ("change", body + f"\nThe {marker} ferry costs two euros a trip.\n"),
            ("remove", None),
        ):
            if text is None:
                path.unlink()
            else:
                path.write_text(text)
            # The saved stat of a file is trusted only when its time is older than
            # the scan: wait out that window so the reload is measured alone.
            time.sleep(0.05)
            start = time.perf_counter()
            outcome = live.reload()
            seconds = time.perf_counter() - start
            found = live.engine.answer(f"What did the board say about the {marker} ferry?")
            answered = time.perf_counter() - start
            live.wait_saved()  # reloads save the new index in the background
            timings[step] = {
                "seconds": round(seconds, 3),
                "first_answer_after_s": round(answered, 3),
                "saved_after_s": round(time.perf_counter() - start, 3),
                "ok": outcome.ok,
                "summary": outcome.message,
                "answerable": found.answered and marker in found.passages[0].text,
            }
    finally:
        path.unlink(missing_ok=True)
        live.reload()
    return timings


def child_reference(corpus: Path, index_dir: Path, n_questions: int, sample: int) -> dict[str, Any]:
    import numpy as np
    from rank_bm25 import BM25Plus

    from bot.answer.engine import Engine
    from bot.index.tokenize import terms

    engine = Engine.from_folder(corpus, index_dir=index_dir)
    index = engine.index
    params = index.params
    questions = make_questions(engine, n_questions, SEED)
    if sample and sample < len(questions):
        questions = random.Random(SEED).sample(questions, sample)
    # rank-bm25 takes token lists: give it exactly the terms our index holds.
    start = time.perf_counter()
    postings = index.postings
    documents: list[list[str]] = [[] for _ in range(index.size)]
    offsets = postings.offsets.tolist()
    docs = postings.docs
    tfs = postings.tf
    for term_id, term in enumerate(postings.vocabulary):
        lo, hi = offsets[term_id], offsets[term_id + 1]
        for doc, tf in zip(docs[lo:hi].tolist(), tfs[lo:hi].tolist(), strict=True):
            documents[doc].extend([term] * tf)
    reference = BM25Plus(documents, k1=params.k1, b=params.b, delta=params.delta)
    del documents
    built = time.perf_counter() - start
    ours: list[float] = []
    theirs: list[float] = []
    agree = 0
    for q in questions:
        tokens = terms(q)
        weights = {t: float(c) for t, c in Counter(tokens).items()}
        t = time.perf_counter()
        ids, scores = index.search(weights, K)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref_scores = reference.get_scores(tokens)
        ref_top = np.argsort(-ref_scores, kind="stable")[:K]
        theirs.append(time.perf_counter() - t)
        agree += same_top(ids, scores + index.baseline(weights), ref_scores, ref_top)
    ours_p = percentiles(ours)
    theirs_p = percentiles(theirs)
    return {
        "questions": len(questions),
        "build_s": round(built, 1),
        "ours": ours_p,
        "rank_bm25": theirs_p,
        "speedup_p50": round(theirs_p["p50_ms"] / max(ours_p["p50_ms"], 1e-6), 1),
        "speedup_p99": round(theirs_p["p99_ms"] / max(ours_p["p99_ms"], 1e-6), 1),
        "same_top10": agree,
    }


def same_top(ids: Any, scores: Any, ref_scores: Any, ref_top: Any) -> bool:
    """Tell whether our top-k equals rank-bm25's, ties counted as equal."""
    import numpy as np

    tolerance = 1e-9 * max(1.0, float(np.abs(ref_scores).max()))
    n = len(ids)
    expected = np.sort(ref_scores[ref_top])[::-1]
    if not np.allclose(np.sort(scores)[::-1], expected[:n], rtol=0, atol=tolerance):
        return False
    # Our ids must score the same under rank-bm25, and what we leave out scores no more.
    if not np.allclose(ref_scores[ids], scores, rtol=0, atol=tolerance):
        return False
    return n == len(ref_top) or bool(expected[n] <= scores.min() + tolerance) if n else True


def child_splitter(src: Path) -> dict[str, Any]:
    import pysbd

    from bot.ingest.splitting import split_sentences

    rng = random.Random(SEED)
    files = sorted(src.rglob("*.txt"))
    paragraphs: list[str] = []
    for path in rng.sample(files, 400):
        lines = path.read_text(encoding="utf-8").split("\n")[1:]
        paragraphs.extend(line for line in lines if line.strip())
    rng.shuffle(paragraphs)
    ours_sample = paragraphs[:3000]
    start = time.perf_counter()
    ours = sum(len(split_sentences(p)) for p in ours_sample)
    ours_s = time.perf_counter() - start
    segmenter = pysbd.Segmenter(language="en", clean=False)
    theirs_sample = paragraphs[:300]
    start = time.perf_counter()
    theirs = sum(len(segmenter.segment(p)) for p in theirs_sample)
    theirs_s = time.perf_counter() - start
    ours_on_same = sum(len(split_sentences(p)) for p in theirs_sample)
    return {
        "ours_sentences_per_s": round(ours / ours_s),
        "pysbd_sentences_per_s": round(theirs / theirs_s),
        "paragraphs": {"ours": len(ours_sample), "pysbd": len(theirs_sample)},
        "sentences_on_pysbd_sample": {"ours": ours_on_same, "pysbd": theirs},
    }


def child_tiny(folder: Path, index_dir: Path) -> dict[str, Any]:
    from bot.answer.engine import Engine
    from bot.progress import Progress

    shutil.rmtree(index_dir, ignore_errors=True)
    start = time.perf_counter()
    engine = Engine.from_folder(folder, index_dir=index_dir, progress=Progress())
    cold = time.perf_counter() - start
    start = time.perf_counter()
    engine = Engine.from_folder(folder, index_dir=index_dir)
    restart = time.perf_counter() - start
    answer = engine.answer("Which report mentions code x012345?")
    return {
        "files": len(engine.articles),
        "cold_s": round(cold, 2),
        "restart_s": round(restart, 3),
        "answer_ok": answer.answered and "x012345" in answer.passages[0].text,
        "memory_mib": memory(),
    }


CLI_QUESTION = "why did the company raise prices?"


def baseline_tree(revision: str) -> Path:
    """Export the repository at revision into bench/data/tree-<revision> (once)."""
    tree = DATA / f"tree-{revision}"
    if not (tree / "bot").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", revision], cwd=ROOT, stdout=subprocess.PIPE, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def cli_ask(tree: Path, corpus: Path, index_dir: Path) -> dict[str, Any]:
    """Run one ``python -m bot ask`` from tree; return its wall time and peak RSS."""
    env = dict(os.environ, PYTHONPATH=str(tree), INDEX_DIR=str(index_dir), SEMANTIC="false")
    # As an installed qabot runs: from compiled bytecode, written by the first (cold) run
    # into a folder of the bench's own (the virtualenv is left as it is). Without it, a
    # shell with PYTHONDONTWRITEBYTECODE compiles every module at every run (0.2 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    command = [sys.executable, "-m", "bot", "ask", "--corpus", str(corpus), CLI_QUESTION]
    start = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return {
        "seconds": round(wall, 2),
        # CPU time of the process and the workers it waited for: on a loaded machine the
        # wall time is mostly waiting for a core, this is what it costs on a quiet one.
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "max_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "exit": child.returncode,
        "answered": b"[" in out,
    }


def cli_measure(trees: dict[str, Path], corpus: Path, label: str, restarts: int) -> dict[str, Any]:
    """Cold build, then restarts through the CLI, for each tree, in this one run.

    The restarts take turns between the trees (one of each per round), so that the
    machine's other load, which changes from minute to minute, falls on both alike.
    """
    measured: dict[str, Any] = {}
    folders = {name: DATA / f"cli-index-{label}-{name}" for name in trees}
    for name, tree in trees.items():
        shutil.rmtree(folders[name], ignore_errors=True)
        cold = cli_ask(tree, corpus, folders[name])
        print(f"[{label}] {name}: cold to first answer {cold['seconds']} s", file=sys.stderr)
        measured[name] = {"cold": cold, "restarts": []}
    for _ in range(restarts):
        for name, tree in trees.items():
            measured[name]["restarts"].append(cli_ask(tree, corpus, folders[name]))
    for name in trees:
        runs = measured[name]["restarts"]
        middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        # The median CPU of the runs, beside the run of median wall time.
        cpu = sorted(r["cpu_s"] for r in runs)[len(runs) // 2]
        measured[name]["restart"] = {**middle, "cpu_s": cpu}
        print(f"[{label}] {name}: restart to first answer {middle['seconds']} s", file=sys.stderr)
        shutil.rmtree(folders[name], ignore_errors=True)
    return measured


def _ratio(value: float, base: float | None) -> str:
    return f" ({value / base:.2f}×)" if base else ""


def cli_table(results: dict[str, Any]) -> str:
    """Render the CLI measurements, with ratios against the baseline when there is one."""
    head = (
        "| corpus | tree | cold to first answer | CPU (cold) | peak RSS (cold) "
        "| restart to first answer | CPU (restart) | RSS (restart) |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for label, trees in results["cli"].items():
        base = trees.get("baseline")
        for name, r in trees.items():
            b = base if base is not None and name != "baseline" else None
            cells = [
                (r["cold"]["seconds"], b and b["cold"]["seconds"], "s", 1),
                (r["cold"]["cpu_s"], b and b["cold"]["cpu_s"], "s", 1),
                (r["cold"]["max_rss_mib"], b and b["cold"]["max_rss_mib"], "MiB", 0),
                (r["restart"]["seconds"], b and b["restart"]["seconds"], "s", 2),
                (r["restart"]["cpu_s"], b and b["restart"]["cpu_s"], "s", 2),
                (r["restart"]["max_rss_mib"], b and b["restart"]["max_rss_mib"], "MiB", 0),
            ]
            shown = [f"{v:.{digits}f} {unit}{_ratio(v, bv)}" for v, bv, unit, digits in cells]
            lines.append(f"| {label} | {name} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def run_child(*args: str, tree: Path = ROOT) -> dict[str, Any]:
    """Run this script in a fresh process on tree's qabot for one measurement; return its JSON."""
    command = [sys.executable, str(Path(__file__).resolve()), "_child", *args]
    env = dict(os.environ, PYTHONPATH=str(tree), BENCH_CODE_TREE=str(tree))
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, stdout=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args[:2])} failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    result["process_wall_s"] = round(wall, 2)
    return result


def child_main(args: list[str]) -> None:
    mode, *rest = args
    if mode == "cold":
        result = child_cold(Path(rest[0]), Path(rest[1]))
    elif mode == "serve":
        result = child_serve(Path(rest[0]), Path(rest[1]), int(rest[2]))
    elif mode == "reference":
        result = child_reference(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))
    elif mode == "splitter":
        result = child_splitter(Path(rest[0]))
    elif mode == "tiny":
        result = child_tiny(Path(rest[0]), Path(rest[1]))
    else:
        sys.exit(f"unknown mode {mode}")
    print(json.dumps(result))


# --- the table --------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    """Render the results as a Markdown table."""
    head = (
        "| corpus | articles | sentences | cold ingest+index | peak RSS (build) | index on disk "
        "| restart ready | retrieval p50 / p99 | full answer p50 / p99 | serving RSS "
        "| serving RSS after 3 reloads | rank-bm25 get_scores p50 / p99 | speed-up p50 / p99 "
        "| top-10 same as rank-bm25 | reload: add / change / remove one article |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for label, r in results["sizes"].items():
        base = r.get("baseline")
        if base is not None:
            rows.append((f"{label} (baseline {results['baseline']})", base, None))
        rows.append((label, r, base))
    for label, r, base in rows:
        cold, serve, ref = r["cold"], r["serve"], r.get("reference")
        rss = serve["memory_mib"]
        after = serve.get("memory_after_reloads_mib", {})
        if base is not None:
            b, b_after = base["serve"]["memory_mib"], base["serve"].get("memory_after_reloads_mib")
            serving = f"{rss['VmRSS']:.0f} MiB{_ratio(rss['VmRSS'], b['VmRSS'])}"
            reloaded = f"{after.get('VmRSS', 0):.0f} MiB" + (
                _ratio(after.get("VmRSS", 0), b_after["VmRSS"]) if b_after else ""
            )
        else:
            serving = f"{rss['VmRSS']:.0f} MiB"
            reloaded = f"{after.get('VmRSS', 0):.0f} MiB"
        serving += f" ({rss.get('RssAnon', 0):.0f} anon + {rss.get('RssFile', 0):.0f} file)"
        reloaded += f" ({after.get('RssAnon', 0):.0f} + {after.get('RssFile', 0):.0f})"
        reload = serve["reload"]
        ref_cells = ["—", "—", "—"]
        if ref:
            sampled = "" if ref["questions"] == serve["questions"] else f" ({ref['questions']} q.)"
            ref_cells = [
                f"{ref['rank_bm25']['p50_ms']:.0f} / {ref['rank_bm25']['p99_ms']:.0f} ms{sampled}",
                f"{ref['speedup_p50']:,.0f}× / {ref['speedup_p99']:,.0f}×",
                f"{ref['same_top10']}/{ref['questions']}",
            ]
        lines.append(
            "| "
            + " | ".join(
                [
                    label,
                    f"{cold['articles']:,}",
                    f"{cold['sentences']:,}",
                    f"{cold['seconds']:.1f} s",
                    f"{cold['memory_mib']['VmHWM']:.0f} MiB",
                    f"{cold['index_bytes'] / 2**20:.0f} MiB",
                    f"{serve['ready_s']:.2f} s",
                    f"{serve['retrieval']['p50_ms']:.2f} / {serve['retrieval']['p99_ms']:.2f} ms",
                    f"{serve['answer']['p50_ms']:.1f} / {serve['answer']['p99_ms']:.1f} ms",
                    serving,
                    reloaded,
                    *ref_cells,
                    " / ".join(f"{reload[s]['seconds']:.2f}" for s in ("add", "change", "remove"))
                    + " s",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="comma list of 10k, 100k, 1m")
    parser.add_argument(
        "--source", type=Path, default=ROOT.parent / "shared" / "bench", help="archive folder"
    )
    parser.add_argument("--questions", type=int, default=QUESTIONS)
    parser.add_argument(
        "--reference-max",
        type=int,
        default=150_000,
        help="run rank-bm25 on all questions up to this many sentences (default 150000)",
    )
    parser.add_argument(
        "--reference-sample",
        type=int,
        default=20,
        help="questions for rank-bm25 above --reference-max; 0 skips it there (default 20)",
    )
    parser.add_argument("--tiny", type=int, default=0, help="also index N tiny files (100000)")
    parser.add_argument("--no-splitter", action="store_true", help="skip the splitter timing")
    parser.add_argument("--cli", action="store_true", help="measure through the CLI instead")
    parser.add_argument(
        "--baseline", help="also run the tree at this git revision (cold and serve, or --cli)"
    )
    parser.add_argument(
        "--restarts", type=int, default=5, help="with --cli: restarts per tree, in turns (5)"
    )
    args = parser.parse_args()

    src = extract(args.source)
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "command": " ".join([".venv/bin/python", "bench/scale.py", *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "sizes": {},
        "baseline": args.baseline,
    }
    labels = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    if args.cli:
        trees = {"baseline": baseline_tree(args.baseline)} if args.baseline else {}
        trees["current"] = ROOT
        results["cli"] = {}
        for label in labels:
            corpus, files, estimated = build_corpus(src, label, SIZES[label])
            print(f"[{label}] {files} files, about {estimated} sentences", file=sys.stderr)
            results["cli"][label] = cli_measure(trees, corpus, label, args.restarts)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (RESULTS / f"cli-{stamp}.json").write_text(json.dumps(results, indent=2))
        print(cli_table(results))
        print(f"\nJSON: {RESULTS / f'cli-{stamp}.json'}")
        return
    for label in labels:
        if label not in SIZES:
            sys.exit(f"bench: unknown size {label!r} (choose from {', '.join(SIZES)})")
        corpus, files, estimated = build_corpus(src, label, SIZES[label])
        index_dir = DATA / f"index-{label}"
        print(f"[{label}] {files} files, about {estimated} sentences", file=sys.stderr)
        shown = corpus.relative_to(ROOT) if corpus.is_relative_to(ROOT) else corpus
        entry: dict[str, Any] = {"corpus": str(shown)}
        entry["cold"] = run_child("cold", str(corpus), str(index_dir))
        print(f"[{label}] cold build {entry['cold']['seconds']} s", file=sys.stderr)
        entry["serve"] = run_child("serve", str(corpus), str(index_dir), str(args.questions))
        print(f"[{label}] restart ready {entry['serve']['ready_s']} s", file=sys.stderr)
        if args.baseline:
            tree, folder = baseline_tree(args.baseline), DATA / f"index-{label}-baseline"
            entry["baseline"] = {
                "cold": run_child("cold", str(corpus), str(folder), tree=tree),
                "serve": run_child(
                    "serve", str(corpus), str(folder), str(args.questions), tree=tree
                ),
            }
            # Serve the current tree once more, after the baseline: the machine's load
            # changes from minute to minute; the table shows the second run.
            entry["serve_first"] = entry["serve"]
            entry["serve"] = run_child("serve", str(corpus), str(index_dir), str(args.questions))
            shutil.rmtree(folder, ignore_errors=True)
        sample = 0 if entry["cold"]["sentences"] <= args.reference_max else args.reference_sample
        if entry["cold"]["sentences"] <= args.reference_max or args.reference_sample:
            entry["reference"] = run_child(
                "reference", str(corpus), str(index_dir), str(args.questions), str(sample)
            )
        results["sizes"][label] = entry
    if not args.no_splitter:
        results["splitter"] = run_child("splitter", str(src))
    if args.tiny:
        folder = build_tiny(args.tiny)
        results["tiny"] = run_child("tiny", str(folder), str(DATA / f"index-tiny-{args.tiny}"))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = json.dumps(results, indent=2)
    (RESULTS / f"scale-{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(table(results))
    if "splitter" in results:
        s = results["splitter"]
        print(
            f"\nsentence splitter: ours {s['ours_sentences_per_s']:,} sentences/s, "
            f"pysbd {s['pysbd_sentences_per_s']:,} sentences/s"
        )
    if "tiny" in results:
        t = results["tiny"]
        print(
            f"{t['files']:,} tiny files: cold {t['cold_s']} s, restart {t['restart_s']} s, "
            f"answer found: {t['answer_ok']}"
        )
    print(f"\nJSON: {RESULTS / f'scale-{stamp}.json'}")


if __name__ == "__main__":
    main()
