"""Time answering with semantic re-ranking against word matching alone, in one process.

    .venv/bin/python bench/semantic_latency.py [--corpus corpus] [--rounds 5]

Loads the engine twice over the same corpus (lexical, and with the embedding model
loaded and the corpus embeddings built or read from the cache), asks every seed
question in each mode for several rounds, and prints the median and 90th percentile
per question and the semantic/lexical ratios. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.answer.engine import Engine  # noqa: E402
from bot.answer.semantic import SemanticModel, load_embedder  # noqa: E402


def questions(path: Path) -> list[str]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("//"):
            found.append(json.loads(line)["question"])
    return found


def timings(engine: Engine, asked: list[str], rounds: int) -> list[float]:
    for question in asked:  # warm caches (stemmer, sentence cues)
        engine.answer(question)
    spent = []
    for _ in range(rounds):
        for question in asked:
            start = time.perf_counter()
            engine.answer(question)
            spent.append((time.perf_counter() - start) * 1000)
    return spent


def summary(spent: list[float]) -> tuple[float, float]:
    ordered = sorted(spent)
    return statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--questions", type=Path, default=REPO / "eval" / "seed_questions.jsonl")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default=os.environ.get("EMBEDDING_MODEL", "all-MiniLM-L6-v2"))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("TORCH_THREADS", "1")))
    args = parser.parse_args()
    asked = questions(args.questions)

    lexical = Engine.from_folder(args.corpus)
    start = time.perf_counter()
    embedder, warning = load_embedder(args.model, threads=args.threads)
    if embedder is None:
        print(warning, file=sys.stderr)
        return 2
    loaded = time.perf_counter() - start
    semantic = Engine.from_folder(args.corpus, semantic=SemanticModel(embedder))

    lex_median, lex_p90 = summary(timings(lexical, asked, args.rounds))
    sem_median, sem_p90 = summary(timings(semantic, asked, args.rounds))
    print(
        f"{len(asked)} questions x {args.rounds} rounds over {args.corpus}, "
        f"{len(lexical.sentences)} sentences; torch threads {args.threads}; "
        f"model load {loaded:.1f} s"
    )
    print(f"lexical   median {lex_median:7.2f} ms   p90 {lex_p90:7.2f} ms")
    print(f"semantic  median {sem_median:7.2f} ms   p90 {sem_p90:7.2f} ms")
    print(f"ratio     median {sem_median / lex_median:7.1f} x    p90 {sem_p90 / lex_p90:7.1f} x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
