"""Match a question's words a sentence lacks to its words by MiniLM's static word-piece vectors.

"courting" is not in "forge closer ties", but their word pieces sit close in the
input embedding table of the all-MiniLM-L6-v2 file already shipped (its first
layer, read from the ONNX file, not run): for each question concept a sentence
lacks, the best cosine between the concept's mean piece vector and any piece of
the sentence is a cheap reading of whether the sentence says it in other words.
The int8 table (11 MB) is read once, when first needed; the int8 scale of a row
cancels in a cosine, so rows are compared as they are stored.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

TABLE = "inner.embeddings.word_embeddings.weight_q"
# Pieces a sentence is compared on at most (the encoder's own limit is 256).
MAX_PIECES = 128


class StaticPieces:
    """The word-piece tokenizer and static embedding table of the shipped MiniLM."""

    def __init__(self, tokenizer: Any, table: npt.NDArray[np.int8]) -> None:
        self._tokenizer = tokenizer
        self._table = table
        norms = np.linalg.norm(table.astype(np.float32), axis=1)
        self._inverse = (1.0 / np.maximum(norms, 1e-6)).astype(np.float32)
        # [CLS], [SEP], [PAD], [UNK] and punctuation-only pieces say nothing of meaning.
        vocab = tokenizer.get_vocab()
        self._ignored = np.zeros(table.shape[0], dtype=np.bool_)
        for piece, number in vocab.items():
            if piece.startswith("[") or not any(ch.isalnum() for ch in piece):
                self._ignored[number] = True

    def _vectors(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """Return the unit vectors of some piece ids, a row each."""
        rows: npt.NDArray[np.float32] = self._table[ids].astype(np.float32)
        unit: npt.NDArray[np.float32] = rows * self._inverse[ids][:, None]
        return unit

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one table per process
    def phrase(self, text: str) -> npt.NDArray[np.float32] | None:
        """Return the unit mean vector of a word or phrase's pieces (None: no meaningful piece)."""
        ids = np.asarray(self._tokenizer.encode(text, add_special_tokens=False).ids, np.int64)
        ids = ids[~self._ignored[ids]] if ids.size else ids
        if ids.size == 0:
            return None
        mean = self._vectors(ids).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None

    def closest(self, phrases: Sequence[str], texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return, per text and phrase, the best cosine of the phrase with any piece of the text."""
        out = np.zeros((len(texts), len(phrases)), dtype=np.float64)
        vectors = [self.phrase(p) for p in phrases]
        have = [k for k, v in enumerate(vectors) if v is not None]
        if not have or not texts:
            return out
        asked = np.stack([vectors[k] for k in have])  # type: ignore[misc]
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        pieces = [np.asarray(e.ids[:MAX_PIECES], dtype=np.int64) for e in encodings]
        every = np.concatenate(pieces) if pieces else np.empty(0, np.int64)
        distinct, where = np.unique(every, return_inverse=True)
        keep = ~self._ignored[distinct]
        cosines = np.full((distinct.size, len(have)), -1.0, dtype=np.float32)
        if keep.any():
            cosines[keep] = self._vectors(distinct[keep]) @ asked.T
        start = 0
        for row, found in enumerate(pieces):
            if found.size:
                out[row, have] = cosines[where[start : start + found.size]].max(axis=0)
            start += found.size
        return out


@functools.cache
def static_pieces() -> StaticPieces | None:
    """Return the shipped model's pieces and table, read once; None when it is not installed."""
    try:
        from tokenizers import Tokenizer

        from bot.embedding.model import TOKENIZER_FILE, minilm_model_file
        from bot.embedding.weights import initializer

        table = initializer(minilm_model_file(), TABLE)
        if table is None or table.dtype != np.int8:
            raise ValueError(f"the model file has no int8 {TABLE}")
        tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return StaticPieces(tokenizer, table)
    except Exception as exc:  # any failure only turns the soft match off
        log.warning("the reranker's soft word match is off: %s", exc)
        return None
