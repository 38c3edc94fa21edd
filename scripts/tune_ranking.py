"""Measure ranking parameters on a grid: Hit@1/Hit@3/MRR per setting, train and report halves.

Run from the repository root:

    python scripts/tune_ranking.py --grid k1=0.6,0.9,1.2 --grid window_weight=0.2,0.3
    python scripts/tune_ranking.py --semantic --grid lexical_weight=0.4,0.5,0.6

Each engine is built once per question corpus; a setting only rebuilds the BM25
index when it changes k1, b or delta, so embeddings are computed once. Scores are
of the ranking itself: a question the answerability model declines is scored on
the passages it would have shown ("rank"), and separately as the miss it is
("answered"), since refitting answerability follows a ranking change. The first
row is the default configuration. Tune on --split train, report --split report.
Each cell is Hit@1/Hit@3/MRR (Hit@1 counting declines as misses, and the mean
number of sentences in the top passage: merging more neighbours must not be
mistaken for ranking better).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.answer.engine import Engine  # noqa: E402
from bot.answer.ranking import Ranker, RankingConfig  # noqa: E402
from bot.evaluation.datasets import EvalQuestion, load_eval_file, split_of  # noqa: E402
from bot.evaluation.metrics import is_hit  # noqa: E402
from bot.evaluation.runner import RANK_DEPTH, assess, engines_for  # noqa: E402
from bot.index.bm25 import BM25Index, BM25Params  # noqa: E402
from bot.index.tokenize import terms  # noqa: E402

SQUAD = Path("/work/shared/eval/squad-dev/questions.jsonl")
# The repo's own sets and the corpus folder each asks (the news set has its own articles).
OWN = (
    ("seed_questions.jsonl", "corpus"),
    ("followup_questions.jsonl", "corpus"),
    ("wording_questions.jsonl", "corpus"),
    ("news_questions.jsonl", "eval/news"),
)
BM25_FIELDS = {f.name for f in fields(BM25Params)}
CONFIG_FIELDS = {f.name for f in fields(RankingConfig)} - {"bm25"}


def parse_grid(items: list[str]) -> list[dict[str, float]]:
    """Turn ["k1=0.6,0.9", "b=0.25"] into every combination of the values."""
    axes: list[tuple[str, list[float]]] = []
    for item in items:
        name, _, values = item.partition("=")
        if name not in BM25_FIELDS | CONFIG_FIELDS:
            raise SystemExit(f"unknown parameter {name!r}")
        axes.append((name, [float(v) for v in values.split(",")]))
    combos = [
        dict(zip([a for a, _ in axes], vs, strict=True))
        for vs in itertools.product(*[v for _, v in axes])
    ]
    return combos or [{}]


def configure(base: RankingConfig, setting: dict[str, float]) -> RankingConfig:
    """Return the base configuration with a setting's values."""
    bm25 = replace(base.bm25, **{k: v for k, v in setting.items() if k in BM25_FIELDS})
    other: dict[str, Any] = {
        k: (int(v) if isinstance(getattr(base, k), int) else v)
        for k, v in setting.items()
        if k in CONFIG_FIELDS
    }
    return replace(base, bm25=bm25, **other)


class Bench:
    """The question sets with their engines, re-configured in place per setting."""

    def __init__(self, semantic: object, split: str, squad: Path) -> None:
        self.sets: list[tuple[str, list[EvalQuestion], Any]] = []
        self.indexes: dict[tuple[int, BM25Params], BM25Index] = {}
        paths = [(ROOT / "eval" / name, ROOT / corpus) for name, corpus in OWN]
        paths.append((squad, None))
        for path, corpus in paths:
            eval_set = load_eval_file(path)
            questions = [q for q in eval_set.questions if split == "all" or split_of(q) == split]
            self.sets.append((path.stem, questions, engines_for(eval_set, corpus, semantic)))  # type: ignore[arg-type]

    def apply(self, engine: Engine, config: RankingConfig) -> None:
        """Point an engine at a configuration, reusing a BM25 index built for its params."""
        key = (id(engine), config.bm25)
        index = self.indexes.get(key)
        if index is None:
            index = self.indexes[key] = BM25Index(
                [terms(s.text) for s in engine.sentences], config.bm25
            )
        engine.config = config
        engine.index = index
        engine.ranker = Ranker(
            index, engine.sentences, engine.text.linked, config, engine.ranker.reranker
        )

    def run(self, config: RankingConfig) -> dict[str, dict[str, float]]:
        """Score every set under a configuration."""
        out: dict[str, dict[str, float]] = {}
        for name, questions, engine_of in self.sets:
            hit1 = hit3 = rr = answered1 = length = 0.0
            count = 0
            for question in questions:
                if not question.answerable:
                    continue
                engine = engine_of(question)
                self.apply(engine, config)
                answer, reading = assess(engine, question)
                if answer.answered:
                    texts = [p.text for p in answer.passages]
                    length += len(answer.passages[0].citations)
                elif reading is not None:
                    texts = [engine.text.joined(g.ids) for g in reading.groups[:RANK_DEPTH]]
                else:
                    texts = []
                rank = next(
                    (r for r, t in enumerate(texts, 1) if is_hit(t, question.answers)), None
                )
                count += 1
                hit1 += rank == 1
                hit3 += rank is not None and rank <= 3
                rr += 1 / rank if rank else 0.0
                answered1 += rank == 1 and answer.answered
            n = max(count, 1)
            out[name] = {
                "n": count,
                "hit1": hit1 / n,
                "hit3": hit3 / n,
                "mrr": rr / n,
                "answered_hit1": answered1 / n,
                "sentences": length / n,
            }
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2")
    parser.add_argument("--split", choices=("train", "report", "all"), default="train")
    parser.add_argument("--semantic", action="store_true")
    parser.add_argument("--squad", type=Path, default=SQUAD)
    args = parser.parse_args(argv)
    semantic = None
    if args.semantic:
        from bot.embedding.loader import semantic_from_settings
        from bot.settings import load_settings

        semantic, problem = semantic_from_settings(replace(load_settings(), semantic=True))
        if semantic is None:
            raise SystemExit(f"semantic model unavailable: {problem}")
    bench = Bench(semantic, args.split, args.squad)
    base = RankingConfig()
    settings = [{}, *parse_grid(args.grid)] if args.grid else [{}]
    for setting in settings:
        scores = bench.run(configure(base, setting))
        label = " ".join(f"{k}={v:g}" for k, v in setting.items()) or "default"
        cells = "  ".join(
            f"{name[:8]} {s['hit1']:.3f}/{s['hit3']:.3f}/{s['mrr']:.3f} "
            f"({s['answered_hit1']:.3f}, {s['sentences']:.2f})"
            for name, s in scores.items()
        )
        print(f"{label:40s} {cells}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
