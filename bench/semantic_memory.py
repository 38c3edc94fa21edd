"""Semantic serving memory: what each part of a semantic answer engine holds, at 1M sentences.

    PYTHONPATH=. python bench/semantic_memory.py [--folder semmem-index-1m] [--size 1m]
        [--questions 200] [--json FILE] [--trace]

Serves a folder that ``bench/semantic_scale.py latency --prepare-only --folder NAME``
prepared (the corpus's saved lexical index, its embeddings and their graphs) in a fresh
process and reads /proc/self/smaps_rollup after each step: the interpreter and numpy, the
answer layer's imports, onnxruntime, tokenizers and usearch, the restart (lexical index,
the semantic index's per-sentence maps, the graphs opened), the model, the first
question, the questions embedded alone, then the full answers. At the end it lists the
file-backed pages by file, the largest anonymous mappings and glibc's heap (in use and
free), and the sizes of the semantic index's own arrays.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import scale  # noqa: E402  (bench/scale.py: corpora, questions)

MB = 1024 * 1024


def rollup() -> dict[str, float]:
    """Return the process's resident, anonymous and file-backed memory now, in MiB."""
    values: dict[str, float] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        if key in {"Rss", "Anonymous", "Shared_Clean", "Private_Clean"}:
            values[key] = int(rest.split()[0]) / 1024
    values["File"] = values["Rss"] - values["Anonymous"]
    return {key: round(value, 1) for key, value in values.items()}


def mappings() -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Return resident MiB of each mapped file, and the ten largest anonymous mappings."""
    files: dict[str, float] = {}
    anonymous: list[tuple[str, float]] = []
    name, rss = "", 0.0
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else f"[anon {head[0]}]"
            continue
        if line.startswith("Rss:"):
            rss = int(head[1]) / 1024
        elif line.startswith("Anonymous:"):
            anon = int(head[1]) / 1024
            if anon:
                anonymous.append((name, anon))
            if rss - anon > 0 and not name.startswith("["):
                files[name] = files.get(name, 0.0) + rss - anon
    grouped: dict[str, float] = {}
    for path, value in files.items():
        key = _group(path)
        grouped[key] = round(grouped.get(key, 0.0) + value, 1)
    anonymous.sort(key=lambda item: -item[1])
    return dict(sorted(grouped.items(), key=lambda item: -item[1])), [
        (n, round(v, 1)) for n, v in anonymous[:10]
    ]


def _group(path: str) -> str:
    """Name a mapped file by what it is: a graph, an index file, a library."""
    if "/ann/" in path:
        return "graphs (ann-b1-*.usearch)"
    if "/bench/data/" in path or "/benchdata/" in path:
        return "index: " + Path(path).name
    if ".so" in path:
        return "library: " + Path(path).name.split(".so")[0]
    return path


def heap() -> dict[str, float]:
    """Return glibc's heap: bytes in use and free (fragmentation), in MiB (mallinfo2)."""

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
            ).split()
        ]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return {
        "main_arena_mb": round(info.arena / MB, 1),
        "mmapped_mb": round(info.hblkhd / MB, 1),
        "in_use_mb": round(info.uordblks / MB, 1),
        "free_mb": round(info.fordblks / MB, 1),
    }


def child(corpus: Path, index_dir: Path, count: int, trace: bool) -> dict[str, Any]:
    """Load a semantic engine step by step, measuring after each step.

    With trace, tracemalloc follows the Python allocations from the restart on (slower),
    and the lines that hold the most at the end are listed.
    """
    import tracemalloc

    steps: dict[str, dict[str, float]] = {"interpreter and numpy": rollup()}
    import bot.answer.engine
    import bot.live

    steps["answer layer imported"] = rollup()
    from bot.embedding.ann import _usearch_index

    _usearch_index()  # onnxruntime first, then usearch (their order matters)
    import tokenizers  # noqa: F401

    steps["onnxruntime, usearch, tokenizers imported"] = rollup()
    from bot.embedding.loader import SemanticModel

    if trace:
        tracemalloc.start(1)
    start = time.perf_counter()
    live = bot.live.LiveEngine(corpus, index_dir=index_dir, semantic=SemanticModel())
    engine = live.engine
    semantic = engine.semantic
    assert semantic is not None
    semantic.wait()
    assert semantic.complete, semantic.failed
    ready = time.perf_counter() - start
    if os.environ.get("PROBE_TRIM_AT_RESTART"):
        ctypes.CDLL(None).malloc_trim(0)
    steps["restart: lexical index, semantic maps, graphs opened"] = rollup()
    embedder = semantic.model.embedder
    assert embedder is not None
    steps["model loaded"] = rollup()
    embedder.encode(["warm up the model"], query=True)
    steps["first question embedded"] = rollup()
    questions = scale.make_questions(engine, count, scale.SEED)
    steps["questions written"] = rollup()
    for question in questions:
        embedder.encode([question], query=True)
    steps[f"{count} questions embedded"] = rollup()
    for question in questions:
        engine.answer(question, k=3)
    steps[f"{count} full answers"] = rollup()
    for question in reversed(questions):
        semantic._questions.clear()
        engine.answer(question, k=3)
    steps[f"{2 * count} full answers"] = rollup()
    files, anonymous = mappings()
    freed = heap()
    ctypes.CDLL(None).malloc_trim(0)
    steps["malloc_trim(0) (what the heap's free pages are)"] = rollup()
    arrays = {
        "row_of": semantic.row_of.nbytes,
        "sentence_of_row": sum(a.nbytes for a in semantic._sentence_of_row.values()),
        "floor spread": 0 if semantic._floor is None else semantic._floor.nbytes,
    }
    held = []
    if trace:
        top = tracemalloc.take_snapshot().statistics("lineno")[:25]
        held = [(str(stat.traceback[0]), round(stat.size / MB, 1)) for stat in top]
    return {
        "python_allocations_mb": held,
        "sentences": len(engine.sentences),
        "restart_s": round(ready, 2),
        "steps": steps,
        "deltas": _deltas(steps),
        "file_backed_mb": files,
        "largest_anonymous_mb": anonymous,
        "heap": freed,
        "semantic_arrays_mb": {k: round(v / MB, 1) for k, v in arrays.items()},
        "peak_mb": scale.memory().get("VmHWM"),
    }


def _deltas(steps: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Return what each step added (Rss, Anonymous, File), in MiB."""
    out, before = {}, None
    for name, now in steps.items():
        if before is not None:
            out[name] = {k: round(now[k] - before[k], 1) for k in ("Rss", "Anonymous", "File")}
        before = now
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        corpus, index_dir, count, trace = sys.argv[2:6]
        print(json.dumps(child(Path(corpus), Path(index_dir), int(count), trace == "trace")))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--folder", default="semmem-index-1m")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--trace", action="store_true", help="list the Python lines holding the most (slower)"
    )
    args = parser.parse_args()
    corpus = scale.DATA / f"corpus-{args.size}"
    index_dir = scale.DATA / args.folder
    if not (index_dir / ".prepared").exists():
        sys.exit(f"{index_dir} is not prepared (bench/semantic_scale.py latency --prepare-only)")
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "child",
            str(corpus),
            str(index_dir),
            str(args.questions),
            "trace" if args.trace else "-",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"the child failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
