"""Find the sentences nearest a question's vector (exact for now; ANN to come)."""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]


class AnnIndex:
    """Nearest-neighbour search over the embedded sentences' vectors, keyed by sentence id."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._ids: list[Ids] = []
        self._vectors: list[npt.NDArray[np.float16]] = []
        self._lock = threading.Lock()

    def add(self, ids: Ids, vectors: npt.NDArray[np.float16]) -> None:
        """Add vectors under these sentence ids."""
        with self._lock:
            self._ids.append(np.asarray(ids, dtype=np.int64))
            self._vectors.append(np.asarray(vectors, dtype=np.float16))

    def search(
        self, vector: npt.NDArray[np.float32], k: int
    ) -> tuple[Ids, npt.NDArray[np.float32]]:
        """Return the ids of the k nearest vectors (by cosine) and their similarity."""
        with self._lock:
            if not self._ids:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            ids = np.concatenate(self._ids)
            vectors = np.concatenate(self._vectors)
        sims = vectors.astype(np.float32) @ vector
        k = min(k, ids.size)
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return ids[top], sims[top]
