"""Embeddings come in the background, are saved as computed and are never computed twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.embedding.background import article_digest
from bot.embedding.loader import SemanticModel
from bot.index.storage import index_folder
from bot.index.storage.segments import ArrayStore, kind_folder
from bot.live import LiveEngine
from tests.embedding.fakes import GatedEmbedder, HashEmbedder

REPO = Path(__file__).parents[2]
LONG_AGO = 1_600_000_000
ARTICLES = 100


def article(n: int) -> str:
    return (
        f"Harbour news {n}\n\nThe harbour ferry number {n} sails at noon from pier {n}. "
        f"It returns at dusk on day {n} with {n} passengers. Tickets for route {n} cost {n} won.\n"
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(ARTICLES):
        path = folder / f"a{n:03}.txt"
        path.write_text(article(n), encoding="utf-8")
        os.utime(path, (LONG_AGO, LONG_AGO))
    return folder


def wait_for(condition, what: str, cap: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + cap
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_question_during_embedding_is_answered_by_word_match_and_says_so(
    corpus: Path, tmp_path: Path
) -> None:
    embedder = GatedEmbedder()
    live = LiveEngine(corpus, index_dir=tmp_path / "index", semantic=SemanticModel(embedder))
    answer = live.answer("when does ferry 7 return?")
    assert answer.answered and answer.ranking == "lexical"
    assert any("embeddings are still being computed (0%)" in note for note in answer.notes)
    embedder.gate.set()
    semantic = live.engine.semantic
    assert semantic is not None and semantic.wait(120) and semantic.complete
    answer = live.answer("when does ferry 7 return?")
    assert answer.ranking == "semantic" and not answer.notes


KIND = "embedding:hash-model"


def saved_rows(corpus: Path, index: Path) -> int:
    """Count the embeddings committed to the index folder's array store."""
    return sum(ArrayStore(index_folder(corpus, index) / "arrays", KIND).segments().values())


def test_kill_9_while_embedding_then_restart_embeds_only_what_was_not_saved(
    corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("hang_child.py")), str(corpus), str(index)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
    )
    try:
        # Two batches of 64 or more sentences, saved; the third hangs.
        wait_for(lambda: saved_rows(corpus, index) >= 128, "the child to save two batches")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    saved = saved_rows(corpus, index)
    embedder = HashEmbedder()
    live = LiveEngine(corpus, index_dir=index, semantic=SemanticModel(embedder))
    total = len(live.engine.sentences)
    assert 128 <= saved < total
    semantic = live.engine.semantic
    assert semantic is not None and semantic.wait(120) and semantic.complete
    assert embedder.embedded == total - saved
    texts = [s.text for s in live.engine.sentences]
    assert np.allclose(semantic.vectors, embedder.encode(texts), atol=2e-3)


def test_reload_of_one_article_re_embeds_only_it(corpus: Path, tmp_path: Path) -> None:
    embedder = HashEmbedder()
    model = SemanticModel(embedder)
    live = LiveEngine(corpus, index_dir=tmp_path / "index", semantic=model)
    assert live.engine.semantic is not None and live.engine.semantic.wait(120)
    per_article = len(live.engine.sentences) // ARTICLES  # the title and three sentences
    assert embedder.embedded == ARTICLES * per_article
    embedder.embedded = 0
    (corpus / "a050.txt").write_text(article(50).replace("noon", "midnight"), encoding="utf-8")
    (corpus / "new.txt").write_text(article(1000), encoding="utf-8")
    result = live.reload()
    assert result.changes.added == ["new.txt"] and result.changes.changed == ["a050.txt"]
    semantic = live.engine.semantic
    assert semantic is not None and semantic.wait(120) and semantic.complete
    assert embedder.embedded == 2 * per_article
    texts = [s.text for s in live.engine.sentences]
    assert np.allclose(semantic.vectors, embedder.encode(texts), atol=2e-3)
    # And a restart embeds nothing.
    live.wait_saved()
    embedder.embedded = 0
    again = LiveEngine(corpus, index_dir=tmp_path / "index", semantic=SemanticModel(embedder))
    assert again.engine.semantic is not None and again.engine.semantic.wait(120)
    assert embedder.embedded == 0 and again.engine.semantic.complete


def test_embeddings_land_in_the_index_array_store_and_are_reused_after_a_restart(
    corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    embedder = HashEmbedder()
    model = SemanticModel(embedder)
    assert model.kind == KIND  # the kind is named by the model
    live = LiveEngine(corpus, index_dir=index, semantic=model)
    assert live.engine.semantic is not None and live.engine.semantic.wait(120)
    total = len(live.engine.sentences)
    assert saved_rows(corpus, index) == total
    # In the array store of the index folder, nowhere else.
    arrays = index_folder(corpus, index) / "arrays"
    # (beside the stored terms of the sentences, an array kind of the index itself)
    assert [p.name for p in arrays.iterdir() if p.name.startswith("embedding")] == [
        kind_folder(KIND)
    ]
    assert not (index_folder(corpus, index) / "embeddings").exists()
    live.wait_saved()
    # A restart (a new store over the folder) reads them back: nothing is embedded again.
    again = HashEmbedder()
    model = SemanticModel(again)
    restarted = LiveEngine(corpus, index_dir=index, semantic=model)
    semantic = restarted.engine.semantic
    assert semantic is not None and semantic.wait(120) and semantic.complete
    assert again.embedded == 0 and saved_rows(corpus, index) == total
    # The saved index named each article's digest: no sentence was read again to find it.
    (job,) = model.jobs
    engine = restarted.engine
    assert [span.key for span in job.spans] == [
        article_digest(engine.text.texts(span.start, span.start + span.count)) for span in job.spans
    ]
    texts = [s.text for s in restarted.engine.sentences]
    assert np.allclose(semantic.vectors, embedder.encode(texts), atol=2e-3)
    answer = restarted.answer("when does ferry 7 return?")
    assert answer.ranking == "semantic"


class ThreadNoting(HashEmbedder):
    """Notes the thread that embeds each question."""

    def __init__(self) -> None:
        super().__init__()
        self.question_threads: list[str] = []

    def encode(self, texts, *, query: bool = False):  # type: ignore[no-untyped-def]
        if query:
            self.question_threads.append(threading.current_thread().name)
        return super().encode(texts, query=query)


def test_a_question_is_embedded_once_on_the_encoder_thread(corpus: Path, tmp_path: Path) -> None:
    embedder = ThreadNoting()
    live = LiveEngine(corpus, index_dir=tmp_path / "index", semantic=SemanticModel(embedder))
    semantic = live.engine.semantic
    assert semantic is not None and semantic.wait(120) and semantic.complete
    question = "when does ferry 7 return?"
    first = live.answer(question)
    assert first.ranking == "semantic"
    # Embedded while word match found its candidates, on the encoder thread, once.
    assert len(embedder.question_threads) == 1
    assert embedder.question_threads[0].startswith("qabot-question")
    direct = embedder.encode([question], query=True)[0]
    assert np.array_equal(semantic.question_vector(question), direct)
    # Asked again (or read again as a follow-up), it is not embedded again.
    assert live.answer(question) == first
    assert len(embedder.question_threads) == 2  # the direct encode above, no more
