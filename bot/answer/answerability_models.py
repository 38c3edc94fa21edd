"""Turn answerability features into a probability: the fitted models and the file they ship in.

Two kinds of model read the same features: a logistic regression over standardised
features, and a small ensemble of shallow regression trees (gradient boosting, as
scikit-learn's HistGradientBoostingClassifier fits them) whose summed leaves are a
log-odds. scripts/fit_answerability.py fits them and writes answerability.json; this
module only evaluates them, in pure Python (a few hundred comparisons per answer).
A file that cannot be used costs one warning line and falls back to a model over
coverage alone, which still declines what the corpus does not mention.
"""

from __future__ import annotations

import json
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.errors import ModelFileError

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).with_name("answerability.json")


@dataclass(frozen=True)
class Thresholds:
    """Probabilities that separate the labels: below decline the engine says it does not know."""

    decline: float
    low: float  # below: "low" (shown, marked as unsure)
    high: float  # at or above: "high"; between: "medium"
    # With a model: a question whose nearest sentence in the whole corpus is less similar
    # than this is about something else, and is declined unless its probability is medium.
    on_topic: float = 0.0


class Model(ABC):
    """A fitted answerability model: a probability from features, and labels from thresholds."""

    names: tuple[str, ...]
    thresholds: Thresholds

    @abstractmethod
    def log_odds(self, values: Mapping[str, float]) -> float:
        """Return the model's log-odds that the passages answer the question."""

    def probability(self, values: Mapping[str, float]) -> float:
        """Return the calibrated probability that the passages answer the question."""
        return _sigmoid(self.log_odds(values))

    def label(self, probability: float, nearest: float | None = None) -> str | None:
        """Return "high", "medium" or "low", or None when the engine should decline.

        nearest: the cosine of the question and the most similar sentence of the corpus,
        for a question read alone with a model (None: not known). Below the on-topic floor
        the question is about something else and declined, unless the probability is
        "medium" or better: then the passage's words answer it though its form is far
        from every sentence ("12 february" for "Feb. 12").
        """
        t = self.thresholds
        if nearest is not None and nearest < t.on_topic and probability < t.low:
            return None
        if probability < t.decline:
            return None
        if probability >= t.high:
            return "high"
        return "medium" if probability >= t.low else "low"


@dataclass(frozen=True)
class Logistic(Model):
    """A logistic regression over standardised features."""

    names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    thresholds: Thresholds

    def log_odds(self, values: Mapping[str, float]) -> float:
        z = self.bias
        for name, mean, scale, weight in zip(
            self.names, self.means, self.scales, self.weights, strict=True
        ):
            z += weight * (values.get(name, 0.0) - mean) / scale
        return z


@dataclass(frozen=True)
class Tree:
    """One regression tree as flat node arrays; a node with feature -1 is a leaf.

    At an inner node a value at or below the threshold goes left, as in scikit-learn.
    """

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def leaf_value(self, x: Sequence[float]) -> float:
        """Return the value of the leaf the feature vector x falls into."""
        node = 0
        feature, threshold, left, right = self.feature, self.threshold, self.left, self.right
        while feature[node] >= 0:
            node = left[node] if x[feature[node]] <= threshold[node] else right[node]
        return self.value[node]


@dataclass(frozen=True)
class Trees(Model):
    """Gradient-boosted shallow trees: the log-odds is the baseline plus every tree's leaf."""

    names: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]
    thresholds: Thresholds

    def log_odds(self, values: Mapping[str, float]) -> float:
        x = [values.get(name, 0.0) for name in self.names]
        return self.baseline + sum(tree.leaf_value(x) for tree in self.trees)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


# What the engine falls back to when the shipped file cannot be used: confidence from
# how much of the question the best passage covers. It declines what the corpus does
# not mention, answers what it covers, and never says "high".
FALLBACK = Logistic(
    names=("coverage",),
    means=(0.55,),
    scales=(0.125,),
    weights=(1.0,),
    bias=0.0,
    thresholds=Thresholds(decline=0.3, low=0.6, high=1.01),
)


def load_models(path: Path = MODEL_FILE) -> dict[str, Model]:
    """Read the fitted models ("lexical", "semantic") from their data file.

    Raises ModelFileError, naming what is wrong, when the file cannot be read or
    its shape is not that of a fitted model.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"Cannot read the answerability model file {path}: {exc}.") from exc
    try:
        models = data["models"]
        if not isinstance(models, dict) or "lexical" not in models:
            raise ValueError('it has no "lexical" model')
        return {str(mode): model_from_entry(entry) for mode, entry in models.items()}
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFileError(
            f"The answerability model file {path} is not a fitted model: {_why(exc)}."
        ) from exc


def model_from_entry(entry: Mapping[str, Any]) -> Model:
    """Build one model from its entry in the data file, checking its shape."""
    t = entry["thresholds"]
    thresholds = Thresholds(
        float(t["decline"]), float(t["low"]), float(t["high"]), float(t.get("on_topic", 0.0))
    )
    if not 0.0 <= thresholds.decline <= thresholds.low <= thresholds.high <= 1.01:
        raise ValueError("its thresholds are not ordered decline <= low <= high")
    if not -1.0 <= thresholds.on_topic <= 1.0:
        raise ValueError("its on_topic threshold is not a cosine")
    names = tuple(str(n) for n in entry["features"])
    kind = entry.get("kind", "logistic")
    if kind == "logistic":
        model = Logistic(
            names=names,
            means=_floats(entry["means"], len(names), "means"),
            scales=_floats(entry["scales"], len(names), "scales"),
            weights=_floats(entry["weights"], len(names), "weights"),
            bias=float(entry["bias"]),
            thresholds=thresholds,
        )
        if any(s == 0 for s in model.scales):
            raise ValueError("a feature's scale is zero")
        return model
    if kind == "trees":
        trees = tuple(_tree(node, len(names)) for node in entry["trees"])
        if not trees:
            raise ValueError("it has no trees")
        return Trees(names, float(entry["baseline"]), trees, thresholds)
    raise ValueError(f"its kind {kind!r} is neither 'logistic' nor 'trees'")


def _tree(entry: Mapping[str, Any], features: int) -> Tree:
    feature = tuple(int(v) for v in entry["feature"])
    size = len(feature)
    tree = Tree(
        feature=feature,
        threshold=_floats(entry["threshold"], size, "threshold"),
        left=tuple(int(v) for v in entry["left"]),
        right=tuple(int(v) for v in entry["right"]),
        value=_floats(entry["value"], size, "value"),
    )
    if not size or len(tree.left) != size or len(tree.right) != size:
        raise ValueError("a tree's node arrays differ in length")
    for node, f in enumerate(feature):
        if f >= features:
            raise ValueError(f"a tree splits on feature {f}, past the {features} it names")
        # Children come after their parent, so every walk ends at a leaf.
        if f >= 0 and not (node < tree.left[node] < size and node < tree.right[node] < size):
            raise ValueError("a tree's node points outside the tree")
    return tree


def _floats(values: Sequence[Any], size: int, what: str) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if len(out) != size:
        raise ValueError(f"it has {len(out)} {what} for {size} entries")
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"its {what} are not all finite numbers")
    return out


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"it lacks {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def models_or_fallback(path: Path = MODEL_FILE) -> dict[str, Model]:
    """Read the models in path; when it cannot be used, warn in one line and fall back."""
    try:
        return load_models(path)
    except ModelFileError as exc:
        log.warning("%s Confidence comes from coverage alone.", exc)
        return {"lexical": FALLBACK}


@cache
def default_models() -> dict[str, Model]:
    """Return the models shipped with the package, read once."""
    return models_or_fallback(MODEL_FILE)


def model_for(semantic: bool) -> Model:
    """Return the model for a ranking mode; the lexical one when no semantic model is fitted."""
    models = default_models()
    return models["semantic"] if semantic and "semantic" in models else models["lexical"]
