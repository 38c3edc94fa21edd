"""Read the shipped model's WordPiece vocabulary once, for the code that needs it without the model.

The spelling corrector takes its English words from it (bot.index.typos) and the
reranker's soft match its pieces (bot.answer.rerank_meaning); the embedding model
loads the same file through the tokenizers library (bot.embedding.model).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TOKENIZER_FILE = Path(__file__).parents[1] / "embedding" / "minilm" / "tokenizer.json"


@cache
def shipped_pieces() -> dict[str, int]:
    """Return the shipped tokenizer.json's pieces and ids (raises when it is unreadable)."""
    return pieces(TOKENIZER_FILE)


def pieces(tokenizer_file: Path) -> dict[str, int]:
    """Return a WordPiece tokenizer.json's pieces and their ids, its added tokens included.

    Read as JSON, the same as the tokenizers library's get_vocab(), without keeping a
    second tokenizer (7.5 MB) beside the model's.
    """
    spec = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    vocab: dict[str, int] = dict(spec["model"]["vocab"])
    for token in spec.get("added_tokens", ()):
        vocab[token["content"]] = int(token["id"])
    return vocab
