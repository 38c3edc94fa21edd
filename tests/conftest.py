"""Fixtures shared by every test folder."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.embedding.model import Embedder, load_embedder


@pytest.fixture(scope="session")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The packaged all-MiniLM-L6-v2 (int8 ONNX), loaded once per test session."""
    with pytest.MonkeyPatch.context() as patch:
        # Its rewritten copy is cached in a folder of the test session's, not the user's.
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture(autouse=True)
def _collect_what_a_test_froze() -> Iterator[None]:
    """Hand what a test's bot or index froze (gc.freeze) back to the collector, and collect.

    The bot freezes what it loads for good; in a long test session that kept every finished
    test's bot and saved index alive, cycles and all, with their mapped files open: about a
    thousand descriptors by the end of the Discord tests.
    """
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
