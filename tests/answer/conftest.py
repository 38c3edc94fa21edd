"""The seed-article engine the answer tests share."""

from pathlib import Path

import pytest

from bot.answer.engine import Engine

CORPUS = Path(__file__).parents[2] / "corpus"


@pytest.fixture(scope="module")
def engine() -> Engine:
    """Return an engine over the repo's corpus folder (lexical: no model)."""
    return Engine.from_folder(CORPUS)
