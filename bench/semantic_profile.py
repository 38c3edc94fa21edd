"""Where a semantic answer's time goes at 1M sentences: each step's wall and CPU time.

    PYTHONPATH=. python bench/semantic_profile.py [--folder semmem-index-1m] [--size 1m]
        [--questions 200] [--passes 2] [--json FILE]

Serves a folder that ``bench/semantic_scale.py latency --prepare-only --folder NAME``
prepared, in a fresh process, and answers the bench's questions (nothing cached) in
passes: the first right after the restart, while the graphs' pages are faulted in, then
again. Each step of the answer is timed where it is called, inclusive of the steps it
calls: word match (BM25), waiting for the question's embedding, the graphs' proposals,
their rescoring by exact cosine, the fused candidates' cosines, the floor, the
reranker, the passages and their spans, the answerability features; the medians (p50)
and p90 of each step's wall time and of the answering thread's CPU time are reported
per pass, with the whole answer's.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import scale  # noqa: E402  (bench/scale.py: corpora, questions)

# The steps timed: (module, owner, attribute, label); owner "" for a module's function.
STEPS = [
    ("bot.answer.engine", "", "build_query", "query built"),
    ("bot.answer.ranking", "Ranker", "_lexical", "word match (BM25)"),
    ("bot.embedding.index", "SemanticIndex", "_encode", "question encoded (its thread)"),
    ("bot.embedding.index", "SemanticIndex", "question_vector", "question vector (wait)"),
    ("bot.embedding.index", "SemanticIndex", "rescored", "nearest (ANN search)"),
    ("bot.embedding.ann", "AnnIndex", "search", "graphs' proposals"),
    ("bot.embedding.ann", "AnnIndex", "_search", "one graph searched (either thread)"),
    ("bot.embedding.rows", "EmbeddingRows", "vectors", "rows read (pread)"),
    ("bot.embedding.index", "SemanticIndex", "similarity", "fused candidates' cosines"),
    ("bot.embedding.index", "SemanticIndex", "floor", "floor"),
    ("bot.answer.ranking", "Ranker", "_fuse", "fusion (all of it)"),
    ("bot.answer.rerank", "Reranker", "rerank", "reranker"),
    ("bot.answer.ranking", "Ranker", "score", "ranking (all of it)"),
    ("bot.answer.engine", "", "passages_of", "passages grouped"),
    ("bot.answer.reading", "", "features", "answerability features"),
    ("bot.answer.reading", "Judge", "reading", "judged (features and all)"),
    ("bot.answer.responding", "Responder", "respond", "answer built (passages, spans)"),
    ("bot.answer.engine", "Engine", "_read", "reading (ranking, features)"),
]


def instrument(samples: dict[str, list[tuple[float, float]]]) -> None:
    """Wrap each step so that every call adds its (wall, thread CPU) seconds to samples."""
    import importlib

    for module_name, owner_name, attribute, label in STEPS:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        original = getattr(owner, attribute)

        def timed(*args: Any, _original: Any = original, _label: str = label) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return _original(*args)
            finally:
                samples[_label].append((time.perf_counter() - wall, time.thread_time() - cpu))

        setattr(owner, attribute, functools.wraps(original)(timed))


def summary(samples: dict[str, list[tuple[float, float]]], answers: int) -> dict[str, Any]:
    """Return each step's calls per answer and p50 / p90 wall and CPU per answer, in ms."""
    out = {}
    for label, pairs in samples.items():
        if not pairs:
            continue
        walls = sorted(p[0] * 1000 for p in pairs)
        cpus = sorted(p[1] * 1000 for p in pairs)
        out[label] = {
            "calls_per_answer": round(len(pairs) / answers, 2),
            "wall_p50_ms": round(statistics.median(walls), 3),
            "wall_p90_ms": round(walls[int(0.9 * (len(walls) - 1))], 3),
            "cpu_p50_ms": round(statistics.median(cpus), 3),
            "wall_total_per_answer_ms": round(sum(walls) / answers, 3),
            "cpu_total_per_answer_ms": round(sum(cpus) / answers, 3),
        }
    return out


def child(corpus: Path, index_dir: Path, count: int, passes: int) -> dict[str, Any]:
    """Restart on the prepared folder and time each step of the answers, pass by pass."""
    from bot.embedding.loader import SemanticModel
    from bot.live import LiveEngine

    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    instrument(samples)
    live = LiveEngine(corpus, index_dir=index_dir, semantic=SemanticModel())
    engine = live.engine
    semantic = engine.semantic
    assert semantic is not None
    semantic.wait()
    assert semantic.complete, semantic.failed
    # As the front ends that serve do (the stored sentence terms opened; bench/semantic_scale.py).
    live.serve()
    engine.terms.ready.wait()
    questions = scale.make_questions(engine, count, scale.SEED)
    engine.answer("warm up the model")
    result: dict[str, Any] = {"sentences": len(engine.sentences)}
    for number in range(passes):
        samples.clear()
        for question in questions:
            semantic._questions.clear()
            wall, cpu = time.perf_counter(), time.thread_time()
            engine.answer(question, k=3)
            samples["whole answer"].append((time.perf_counter() - wall, time.thread_time() - cpu))
        result[f"pass {number + 1}"] = summary(samples, len(questions))
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        corpus, index_dir, count, passes = sys.argv[2:6]
        print(json.dumps(child(Path(corpus), Path(index_dir), int(count), int(passes))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--folder", default="semmem-index-1m")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    corpus = scale.DATA / f"corpus-{args.size}"
    index_dir = scale.DATA / args.folder
    if not (index_dir / ".prepared").exists():
        sys.exit(f"{index_dir} is not prepared (bench/semantic_scale.py latency --prepare-only)")
    command = [sys.executable, __file__, "child", str(corpus), str(index_dir)]
    out = subprocess.run(
        [*command, str(args.questions), str(args.passes)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"the child failed:\n{out.stderr[-3000:]}")
    text = json.dumps(json.loads(out.stdout.strip().splitlines()[-1]), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
