"""Time questions over issue 14's hostile corpus against the shipped corpus, in one process.

Run: PYTHONPATH=. python bench/hostile_questions.py [scale]
Loads the folder of tests/ingest/hostile.py (5,000 alias groups sharing "NK" and
"ASEAN", a run without full stops, ...) and the shipped corpus, lexical ranking,
and prints the median of 20 answers per question and the ratio to the shipped corpus.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.live import LiveEngine
from tests.ingest.hostile import build_hostile_corpus, remove_tree

QUESTIONS = ("why is NK courting ASEAN?", "where did the envoy wait in Hanoi?")


def median_ms(live: LiveEngine, question: str) -> float:
    """Return the median time of 20 answers to question, in milliseconds."""
    live.answer(question)
    times = []
    for _ in range(20):
        began = time.perf_counter()
        live.answer(question)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    """Print per-question times over both folders."""
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    work = Path(tempfile.mkdtemp(prefix="qabot-hostile-q-"))
    try:
        shipped = work / "shipped"
        shutil.copytree(Path(__file__).parents[1] / "corpus", shipped)
        hostile = work / "hostile"
        build_hostile_corpus(hostile, scale)
        base, bad = LiveEngine(shipped), LiveEngine(hostile)
        for question in QUESTIONS:
            a, b = median_ms(base, question), median_ms(bad, question)
            print(f"{question!r:40} shipped {a:7.2f} ms  hostile {b:7.2f} ms  ratio {b / a:6.2f}")
    finally:
        remove_tree(work)


if __name__ == "__main__":
    main()
