"""Check that this tree ranks exactly as a baseline revision does, on scale.py's questions.

Run from the repository root:

    PYTHONPATH=. python bench/same_ranking.py --size 100k --baseline 8aa39c4

Builds the index of bench/data/corpus-<size> with each tree in its own fresh
process (cold, a fresh index folder; the build time is printed too), asks both
the 200 questions bench/scale.py writes from the corpus, and compares the BM25
top-10 (ids and scores) and the full answers' citations. Exits 1 on any
difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402  (bench/scale.py: corpora, questions, baseline trees)


def child(corpus: Path, index_dir: Path) -> dict[str, Any]:
    """In a tree's own process: build the index, answer the questions, return what came out."""
    import time

    from bot.answer.engine import Engine
    from bot.index.tokenize import terms

    shutil.rmtree(index_dir, ignore_errors=True)
    start = time.perf_counter()
    engine = Engine.from_folder(corpus, index_dir=index_dir)
    built = time.perf_counter() - start
    import bot

    code = str(Path(bot.__file__).resolve().parents[1])
    rows = []
    for question in scale.make_questions(engine, scale.QUESTIONS, scale.SEED):
        weights = {t: float(c) for t, c in Counter(terms(question)).items()}
        ids, scores = engine.index.search(weights, scale.K)
        answer = engine.answer(question, k=scale.K)
        rows.append(
            {
                "question": question,
                "ids": [int(i) for i in ids],
                "scores": [float(s) for s in scores],
                "citations": [p.citation for p in answer.passages],
            }
        )
    shutil.rmtree(index_dir, ignore_errors=True)
    return {
        "build_s": round(built, 1),
        "sentences": len(engine.sentences),
        "code": code,  # the tree whose qabot answered (checked by main)
        "rows": rows,
    }


def run(tree: Path, corpus: Path, name: str) -> dict[str, Any]:
    index_dir = scale.DATA / f"same-ranking-index-{name}"
    code = (
        f"import sys; sys.path[:0] = [{str(tree)!r}, {str(ROOT / 'bench')!r}]; "
        "import json, same_ranking; from pathlib import Path; "
        f"print(json.dumps(same_ranking.child(Path({str(corpus)!r}), Path({str(index_dir)!r}))))"
    )
    # Without BENCH_CODE_TREE, importing scale put this tree first on the path, and the
    # baseline's process ran this tree's qabot: it compared the current code with itself.
    env = dict(os.environ, BENCH_CODE_TREE=str(tree))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, stdout=subprocess.PIPE, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k", choices=sorted(scale.SIZES))
    parser.add_argument("--baseline", required=True, help="git revision to compare with")
    parser.add_argument(
        "--source", type=Path, default=ROOT.parent / "shared" / "bench", help="archive folder"
    )
    args = parser.parse_args()
    src = scale.extract(args.source)
    corpus, _, _ = scale.build_corpus(src, args.size, scale.SIZES[args.size])
    base = run(scale.baseline_tree(args.baseline), corpus, "baseline")
    current = run(ROOT, corpus, "current")
    for result, tree in ((base, scale.baseline_tree(args.baseline)), (current, ROOT)):
        if result.get("code") != str(tree.resolve()):
            sys.exit(f"same_ranking: the {tree} run used the qabot of {result.get('code')}")
    pairs = list(zip(base["rows"], current["rows"], strict=True))
    same = {
        "questions": sum(a["question"] == b["question"] for a, b in pairs),
        "top-10 ids and scores": sum(
            a["ids"] == b["ids"] and a["scores"] == b["scores"] for a, b in pairs
        ),
        "answers (citations)": sum(a["citations"] == b["citations"] for a, b in pairs),
    }
    print(f"{args.size}: {current['sentences']:,} sentences, {len(pairs)} questions")
    print(f"cold build in-process: baseline {base['build_s']} s, current {current['build_s']} s")
    for what, count in same.items():
        print(f"same {what}: {count}/{len(pairs)}")
    return 0 if all(count == len(pairs) for count in same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
