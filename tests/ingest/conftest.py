"""Fixtures of the ingest tests: a corpus folder and a secret outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

ARTICLE = "Headline\n\nA sentence about the envoy in Seoul.\n"
SECRET = "Secret\n\nThe password is hunter2.\n"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """Return (corpus folder with one real article, a folder outside it with a secret)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "real.txt").write_text(ARTICLE)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    return corpus, outside
