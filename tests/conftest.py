"""Fixtures shared by every test folder."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.embedding.model import Embedder, load_embedder


@pytest.fixture(autouse=True, scope="session")
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the user's cache, state and data folders at the test session's own.

    Engines built by in-process bots save their indexes under the user cache folder; without
    this, tests wrote there and two test runs at once shared it. A test that wants its own
    folders still sets them (monkeypatch restores this session's afterwards).
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
            patch.setenv(name, str(tmp_path_factory.mktemp(name.lower())))
        yield


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
