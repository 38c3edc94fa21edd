"""Time a start over issue 14's hostile corpus against a start over the shipped corpus.

Run: PYTHONPATH=. python bench/hostile_corpus.py [scale] [--semantic]
Builds the folder of tests/ingest/hostile.py (scale multiplies the large files;
100 gives about the sizes the issue reported), then runs `python -m bot ask` on
it and on the shipped corpus alone, each from scratch (no saved index) and again
from the saved index, and prints the seconds and the ratio to the shipped corpus.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.ingest.hostile import build_hostile_corpus, remove_tree

QUESTION = "why is NK courting ASEAN?"


def start(folder: Path, index: Path, semantic: bool) -> float:
    """Run one ask as a user would and return its wall-clock seconds."""
    env = {**os.environ, "CORPUS_DIR": str(folder), "INDEX_DIR": str(index)}
    env["SEMANTIC"] = "true" if semantic else "false"
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", QUESTION], env=env, capture_output=True, check=False
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode("utf-8", "replace"))
    return seconds


def main() -> None:
    """Print the start times over both folders."""
    scale = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1
    semantic = "--semantic" in sys.argv
    work = Path(tempfile.mkdtemp(prefix="qabot-hostile-"))
    try:
        shipped = work / "shipped"
        shutil.copytree(Path(__file__).parents[1] / "corpus", shipped)
        hostile = work / "hostile"
        skipped = build_hostile_corpus(hostile, scale)
        time.sleep(2.5)  # older than the saved index's racy window, as files in use are
        size = sum(
            entry.stat(follow_symlinks=False).st_blocks * 512 for entry in os.scandir(hostile)
        )
        print(f"hostile folder: {len(skipped)} skipped files, {size / 1e6:.1f} MB on disk")
        for label in ("first start", "saved index"):
            base = start(shipped, work / "index-shipped", semantic)
            took = start(hostile, work / "index-hostile", semantic)
            print(
                f"{label:12} shipped {base:6.2f} s  hostile {took:6.2f} s  "
                f"ratio {took / base:5.2f}  (scale {scale}, semantic {semantic})"
            )
    finally:
        remove_tree(work)


if __name__ == "__main__":
    main()
