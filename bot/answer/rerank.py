"""Reorder a question's top candidate sentences by a small learned model over cheap features.

The ranking's step after fusion and the cue lift: its best ``depth`` sentences are
scored by a logistic model of "this sentence holds the answer" over
bot.answer.rerank_features.FEATURES (one for word match alone, one with meaning)
and put in that order. The scores they had are handed out again in the new order,
so that what follows (passages merged by score ratios, the relative cut) sees
scores shaped as before. scripts/fit_reranker.py fits the models and writes
rerank.json; without that file the ranking is left as it was.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.answer.query import Query
from bot.answer.rerank_features import FEATURES, Hashes, candidate_features, question_terms
from bot.answer.rerank_meaning import StaticPieces, static_pieces
from bot.index.bm25 import BM25Index, top_k

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).with_name("rerank.json")


@dataclass(frozen=True)
class RerankModel:
    """A linear model of the log-odds that a candidate holds the answer."""

    depth: int  # how many of the ranking's best sentences it reorders
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    bias: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RerankModel:
        """Read one model; raise ValueError when it does not follow FEATURES."""
        if list(data["features"]) != list(FEATURES):
            raise ValueError("its features are not this version's")
        mean, scale, weights = (
            np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "weights")
        )
        if any(a.shape != (len(FEATURES),) for a in (mean, scale, weights)):
            raise ValueError("a vector has the wrong length")
        return cls(int(data["depth"]), mean, scale, weights, float(data["bias"]))

    def to_json(self) -> dict[str, Any]:
        """Return the model as the JSON rerank.json holds, rounded to be read by a person."""
        return {
            "features": list(FEATURES),
            "depth": self.depth,
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(self.bias, 6),
        }

    def logits(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return each row's log-odds of holding the answer."""
        result: npt.NDArray[np.float64] = ((rows - self.mean) / self.scale) @ self.weights
        return result + self.bias


@dataclass(frozen=True)
class RerankModels:
    """The model for word match alone and the one with meaning."""

    lexical: RerankModel
    semantic: RerankModel


def load_models(path: Path = MODEL_FILE) -> RerankModels | None:
    """Read rerank.json; None (and one warning) when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RerankModels(
            RerankModel.from_json(data["lexical"]), RerankModel.from_json(data["semantic"])
        )
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        log.warning("the reranker's model %s is unusable (%s); ranking without it", path, exc)
        return None


@functools.cache
def default_models() -> RerankModels | None:
    """Return the shipped models, read once per process."""
    return load_models()


Recorder = Callable[[Query, list[int], npt.NDArray[np.float64]], None]


class Reranker:
    """Reorders the top candidates of one engine's ranking; safe to share between threads."""

    def __init__(
        self,
        models: RerankModels | None,
        hashes: Hashes,
        text: Callable[[int], str],
        record: Recorder | None = None,
        depth: int | None = None,
        soft: Callable[[], StaticPieces | None] = static_pieces,
    ) -> None:
        """Rerank with models (None: keep the order); record, when given, sees every
        question's candidates and features (the fitting script's hook), at depth
        candidates when the models give none; soft gives the static word-piece vectors."""
        self.models = models
        self.hashes = hashes
        self.text = text
        self.record = record
        self.depth = depth
        self.soft = soft

    def rerank(
        self,
        query: Query,
        index: BM25Index,
        linked: npt.NDArray[np.float64],
        ids: npt.NDArray[np.integer[Any]],
        values: npt.NDArray[np.float64],
        pool: npt.NDArray[np.intp],
        own: Callable[[list[int]], npt.NDArray[np.float64]],
        cosines: npt.NDArray[np.float64] | None,
    ) -> dict[int, float]:
        """Reorder the best candidates of pool in place (values); return their probabilities.

        ids and values are the ranking's sentences and scores, pool the positions
        among them still in the running; own gives sentences' own word match and
        cosines (aligned with ids, None without the model) their cosine.
        """
        model = None
        if self.models is not None:
            model = self.models.semantic if cosines is not None else self.models.lexical
        depth = model.depth if model is not None else (self.depth or 0)
        if depth <= 1 or pool.size < 2:
            return {}
        top = pool[top_k(values[pool], depth)]
        sentences = [int(i) for i in ids[top]]
        rows = candidate_features(
            question_terms(query, index),
            sentences,
            values[top],
            own(sentences),
            cosines[top] if cosines is not None else None,
            self.hashes,
            self.text,
            linked,
            self.soft(),
        )
        if self.record is not None:
            self.record(query, sentences, rows)
        if model is None:
            return {}
        logits = model.logits(rows)
        order = np.argsort(-logits, kind="stable")
        # The scores as they were, best first, handed out in the new order.
        values[top[order]] = np.sort(values[top])[::-1]
        return {s: _sigmoid(float(v)) for s, v in zip(sentences, logits, strict=True)}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def own_match(
    lexical_ids: npt.NDArray[np.integer[Any]], own: npt.NDArray[np.float64]
) -> Callable[[Sequence[int]], npt.NDArray[np.float64]]:
    """Return what reads some sentences' own word match (0 where none) from ascending ids."""

    def read(sentences: Sequence[int]) -> npt.NDArray[np.float64]:
        wanted = np.asarray(sentences, dtype=np.int64)
        if lexical_ids.size == 0:
            return np.zeros(wanted.size)
        at = np.minimum(np.searchsorted(lexical_ids, wanted), lexical_ids.size - 1)
        return np.where(lexical_ids[at] == wanted, own[at], 0.0)

    return read
