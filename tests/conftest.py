"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

from bot.embedding.model import Embedder, load_embedder


@pytest.fixture(scope="session")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The packaged all-MiniLM-L6-v2 (int8 ONNX), loaded once per test session."""
    with pytest.MonkeyPatch.context() as patch:
        # Its rewritten copy is cached in a folder of the test session's, not the user's.
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        return load_embedder("all-MiniLM-L6-v2")
