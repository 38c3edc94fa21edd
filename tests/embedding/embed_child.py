"""Run by test_merge: embed a corpus in a process of its own (its own segment), then exit."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.embedding.loader import SemanticModel
from bot.live import LiveEngine
from tests.embedding.fakes import TextHashEmbedder

if __name__ == "__main__":
    corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
    embedder = TextHashEmbedder()
    live = LiveEngine(corpus, index_dir=index, semantic=SemanticModel(embedder))
    semantic = live.engine.semantic
    assert semantic is not None and semantic.wait(120) and semantic.complete, semantic
    live.wait_saved()
    print(embedder.embedded, flush=True)
