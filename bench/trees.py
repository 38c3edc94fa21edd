"""Run one bench measurement in a fresh process per source tree, so two trees compare in one run.

A bench script calls :func:`compare` with its own file and arguments; each tree
(this one and a baseline exported from git) runs the script's child mode with
only that tree's code on the path, in turns, and the lowest number of each over
the rounds is kept (the one the machine's other load disturbed least).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
CHILD = "_child"


def percentiles(samples: list[float]) -> dict[str, float]:
    """Return p50 and p99 of samples in seconds, as milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered) * 1000, 4), "p99": round(p99 * 1000, 4)}


def lowest(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the results with each number the lowest over the rounds."""
    out: dict[str, Any] = {}
    for key, value in results[0].items():
        if isinstance(value, dict):
            out[key] = lowest([r[key] for r in results])
        elif isinstance(value, float):
            out[key] = min(r[key] for r in results)
        else:
            out[key] = value
    return out


def in_child() -> bool:
    """Tell whether this process is a child run; if so, put only the tree's code on the path."""
    if len(sys.argv) < 2 or sys.argv[1] != CHILD:
        return False
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
    sys.path.append(str(Path.cwd() / "bench"))
    return True


def baseline_tree(revision: str) -> Path:
    """Export the repository at revision (once) beside the bench data."""
    sys.path.insert(0, str(BENCH))
    import scale

    return scale.baseline_tree(revision)


def run(script: Path, tree: Path, args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run script's child mode from tree, with only tree's code importable; return its JSON."""
    environment = dict(os.environ, PYTHONPATH=f"{tree}:{tree / 'bench'}", **env)
    command = [sys.executable, str(script), CHILD, *args]
    done = subprocess.run(command, cwd=tree, env=environment, stdout=subprocess.PIPE, check=True)
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def compare(
    script: Path, revision: str, args: Sequence[str], env: dict[str, str], rounds: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure the baseline tree and this one in turns; return (baseline, this tree)."""
    trees = {"baseline": baseline_tree(revision), "this tree": ROOT}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(rounds):
        for name, tree in trees.items():
            results[name].append(run(script, tree, args, env))
            print(f"{name}: {json.dumps(results[name][-1])}", file=sys.stderr)
    return lowest(results["baseline"]), lowest(results["this tree"])


def ratio_row(label: str, base: float, head: float, unit: str = "ms") -> str:
    """Render one table row: the baseline, this tree and their ratio."""
    ratio = head / base if base else float("nan")
    return f"| {label} | {base:.3f} {unit} | {head:.3f} {unit} | {ratio:.3f} |"
