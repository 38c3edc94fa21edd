"""Stand-in embedding models for the tests of storage and scheduling (not of quality)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

import numpy as np

from bot.embedding.model import Vectors


class HashEmbedder:
    """A vector from each text's hash: the same text, the same vector, in any process."""

    name = "hash-model"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.embedded = 0
        self.lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        with self.lock:
            self.embedded += 0 if query else len(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(text.encode("utf-8")[:8].ljust(8, b"\0"), "little")
            seed ^= len(text) * 0x9E3779B9
            rows.append(np.random.default_rng(seed % 2**32).normal(size=self.dim))
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class GatedEmbedder(HashEmbedder):
    """Embeds corpus sentences only while the gate is open (questions always)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        if not query:
            self.gate.wait()
        return super().encode(texts, query=query)


class TextHashEmbedder(HashEmbedder):
    """A vector from a digest of the whole text: distinct texts, distinct vectors (no ties)."""

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        with self.lock:
            self.embedded += 0 if query else len(texts)
        rows = [
            np.random.default_rng(
                int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest())
            ).normal(size=self.dim)
            for text in texts
        ]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
