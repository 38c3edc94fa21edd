"""Run by test_background: embed a corpus, hang after two batches, wait to be killed."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bot.embedding.loader import SemanticModel
from bot.embedding.model import Vectors
from bot.live import LiveEngine
from tests.embedding.fakes import HashEmbedder


class HangingEmbedder(HashEmbedder):
    """Embeds two batches of sentences, then never returns."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.forever = threading.Event()

    def encode(self, texts: Sequence[str], *, query: bool = False) -> Vectors:
        with self.lock:
            self.calls += 1
            calls = self.calls
        if calls > 2 and not query:
            self.forever.wait()
        return super().encode(texts, query=query)


if __name__ == "__main__":
    corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
    LiveEngine(corpus, index_dir=index, semantic=SemanticModel(HangingEmbedder(), workers=2))
    print("started", flush=True)
    time.sleep(600)
