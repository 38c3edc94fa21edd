"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

from bot.embedding.model import Embedder, load_embedder


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    """The packaged all-MiniLM-L6-v2 (int8 ONNX), loaded once per test session."""
    return load_embedder("all-MiniLM-L6-v2")
