"""Fit the reranker of bot/answer/rerank.py on the train halves; write bot/answer/rerank.json.

Run from the repository root (the semantic model embeds squad-dev's articles, a few minutes):

    python scripts/fit_reranker.py                    # fit both models, write rerank.json
    python scripts/fit_reranker.py --dry-run          # fit and report, write nothing

Each question of the train halves (squad-dev's answerable questions, the seed,
follow-up, wording and news sets; the split is by article for squad-dev) is asked with
the reranker off, and its ranking's best --collect sentences are recorded with their features
(bot/answer/rerank_features.py) and whether each holds a gold answer (the eval's text
rule). A logistic regression of "holds the answer" is fitted per mode (word match
alone, and fused with meaning) on the train half's candidates; the report half only
measures it. Printed per mode and half: the top sentence's Hit@1 in the ranking's
order and in the reranked order, for each depth tried.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.answer.followup import FollowUp  # noqa: E402
from bot.answer.query import Query  # noqa: E402
from bot.answer.rerank import MODEL_FILE, RerankModel  # noqa: E402
from bot.answer.rerank_features import FEATURES  # noqa: E402
from bot.evaluation.datasets import EvalQuestion, load_eval_file, split_of  # noqa: E402
from bot.evaluation.metrics import is_hit  # noqa: E402
from bot.evaluation.runner import RANK_DEPTH, engines_for  # noqa: E402

SQUAD = Path("/work/shared/eval/squad-dev/questions.jsonl")
# The repo's own sets and the corpus folder each asks (the news set has its own articles).
OWN = (
    ("seed_questions.jsonl", "corpus"),
    ("followup_questions.jsonl", "corpus"),
    ("wording_questions.jsonl", "corpus"),
    ("news_questions.jsonl", "eval/news"),
)
COLLECT = 30


@dataclass
class Group:
    """One question's recorded candidates: features, gold labels, and where it came from."""

    source: str
    split: str
    rows: npt.NDArray[np.float64]
    gold: npt.NDArray[np.bool_]


def collect(semantic: object, squad: Path, depth: int) -> list[Group]:
    """Ask every answerable question with the reranker recording; return the groups."""
    groups: list[Group] = []
    paths = [(ROOT / "eval" / name, ROOT / corpus) for name, corpus in OWN]
    paths.append((squad, None))
    for path, corpus in paths:
        eval_set = load_eval_file(path)
        engine_of = engines_for(eval_set, corpus, semantic)  # type: ignore[arg-type]
        for question in eval_set.questions:
            if not question.answerable:
                continue
            engine = engine_of(question)
            groups.extend(_ask(engine, question, path.stem, depth))
    return groups


def _ask(engine: Any, question: EvalQuestion, source: str, depth: int) -> list[Group]:
    """Ask one question (after its previous one) and label the candidates it recorded."""
    seen: list[tuple[Query, list[int], npt.NDArray[np.float64]]] = []
    engine.ranker.reranker = engine.reranker(None)
    context: FollowUp | str | None = None
    if question.previous is not None:
        shown = engine.answer(question.previous)
        context = FollowUp.from_answer(shown) if shown.answered else question.previous
    engine.ranker.reranker = engine.reranker(
        None, record=lambda q, s, r: seen.append((q, s, r)), depth=depth
    )
    _, reading = engine.assess(question.question, k=RANK_DEPTH, previous=context)
    if reading is None:
        return []
    # The reading chosen (a follow-up may be read alone and with its previous question).
    chosen = [entry for entry in seen if entry[0] is reading.query][-1:]
    out = []
    for _, sentences, rows in chosen:
        gold = np.array([is_hit(engine.sentences[i].text, question.answers) for i in sentences])
        out.append(Group(source, split_of(question), rows, gold))
    return out


def fit(groups: list[Group], depth: int, c: float) -> RerankModel:
    """Fit the model on the groups' first depth rows: pairwise order, then calibration.

    A logistic regression on the differences of (gold, not gold) pairs of the same
    question learns the order; a second one, on that score alone over every
    candidate, turns it into a probability of holding the answer (same order).
    """
    from sklearn.linear_model import LogisticRegression

    usable = [g for g in groups if g.gold[:depth].any() and not g.gold[:depth].all()]
    x = np.concatenate([g.rows[:depth] for g in usable])
    y = np.concatenate([g.gold[:depth] for g in usable])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    pairs: list[npt.NDArray[np.float64]] = []
    for g in usable:
        rows = (g.rows[:depth] - mean) / scale
        gold = g.gold[:depth]
        better, worse = rows[gold], rows[~gold]
        pairs.append((better[:, None, :] - worse[None, :, :]).reshape(-1, rows.shape[1]))
    differences = np.concatenate(pairs)
    both = np.concatenate([differences, -differences])
    labels = np.concatenate([np.ones(len(differences)), np.zeros(len(differences))])
    order = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(both, labels)
    weights = order.coef_[0].astype(np.float64)
    score = ((x - mean) / scale) @ weights
    calibration = LogisticRegression(max_iter=1000).fit(score[:, None], y)
    slope = float(calibration.coef_[0][0])
    return RerankModel(depth, mean, scale, weights * slope, float(calibration.intercept_[0]))


def hit1(groups: list[Group], model: RerankModel | None) -> float:
    """Return the share of groups whose top sentence holds the answer (None: ranking order)."""
    if not groups:
        return 0.0
    hits = 0
    for g in groups:
        if model is None:
            hits += bool(g.gold[0])
            continue
        n = min(model.depth, len(g.gold))
        logits = model.logits(g.rows[:n])
        hits += bool(g.gold[int(np.argmax(logits))])
    return hits / len(groups)


def report(name: str, groups: list[Group], models: dict[int, RerankModel]) -> None:
    """Print Hit@1 of the top sentence before and after, per half and source."""
    for split in ("train", "report"):
        for source in sorted({g.source for g in groups}):
            part = [g for g in groups if g.split == split and g.source == source]
            cells = "  ".join(f"N={d}: {hit1(part, m):.3f}" for d, m in models.items())
            print(
                f"{name:9s} {split:6s} {source[:10]:10s} n={len(part):4d} "
                f"ranking {hit1(part, None):.3f}  {cells}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--depths", default="5,10,15,20", help="depths to try, comma-separated")
    parser.add_argument("--depth", type=int, default=10, help="the depth written")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--cache", type=Path, help="keep the collected candidates here")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args(argv)
    depths = sorted({int(d) for d in args.depths.split(",")} | {args.depth})
    written: dict[str, Any] = {}
    for mode in ("lexical", "semantic"):
        groups = _collected(mode, args, max([*depths, COLLECT]))
        train = [g for g in groups if g.split == "train"]
        models = {d: fit(train, d, args.c) for d in depths}
        report(mode, groups, models)
        chosen = models[args.depth]
        print(mode, dict(zip(FEATURES, np.round(chosen.weights, 3).tolist(), strict=True)))
        written[mode] = chosen.to_json()
    if not args.dry_run:
        args.out.write_text(json.dumps(written, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def _collected(mode: str, args: argparse.Namespace, depth: int) -> list[Group]:
    """Collect one mode's groups, or read them from the cache folder."""
    cached = args.cache / f"{mode}.npz" if args.cache else None
    if cached is not None and cached.exists():
        data = np.load(cached, allow_pickle=False)
        meta = json.loads(str(data["meta"]))
        return [Group(s, p, data[f"rows{k}"], data[f"gold{k}"]) for k, (s, p) in enumerate(meta)]
    semantic = None
    if mode == "semantic":
        from bot.embedding.loader import semantic_from_settings
        from bot.settings import load_settings

        semantic, problem = semantic_from_settings(replace(load_settings(), semantic=True))
        if semantic is None:
            raise SystemExit(f"semantic model unavailable: {problem}")
    groups = collect(semantic, args.squad, depth)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"rows{k}": g.rows for k, g in enumerate(groups)}
        arrays.update({f"gold{k}": g.gold for k, g in enumerate(groups)})
        meta = json.dumps([(g.source, g.split) for g in groups])
        np.savez(cached, meta=np.array(meta), **arrays)  # type: ignore[arg-type]
    return groups


if __name__ == "__main__":
    raise SystemExit(main())
