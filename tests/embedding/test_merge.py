"""Small embedding segments merge into one: the same results, and readers unharmed meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from bot.embedding import rows
from bot.embedding.loader import SemanticModel
from bot.index.storage import index_folder
from bot.index.storage.segments import ArrayStore
from bot.live import LiveEngine
from tests.embedding.fakes import TextHashEmbedder

REPO = Path(__file__).parents[2]
KIND = "embedding:hash-model"
QUESTIONS = [f"when does ferry {n} return?" for n in (1, 3, 12, 17, 22)] + [
    "how much do tickets cost?",
    "which pier does the ferry leave from?",
]


def article(n: int, changed: bool = False) -> str:
    sails = "midnight" if changed else "noon"
    return (
        f"Harbour news {n}\n\nThe harbour ferry number {n} sails at {sails} from pier {n}. "
        f"It returns at dusk on day {n} with {n} passengers. Tickets for route {n} cost {n} won.\n"
    )


def write(corpus: Path, n: int, changed: bool = False) -> None:
    path = corpus / f"a{n:03}.txt"
    path.write_text(article(n, changed), encoding="utf-8")
    os.utime(path, (1_600_000_000 + n + 100 * changed,) * 2)


def embed_in_a_child(corpus: Path, index: Path) -> int:
    """Embed what is missing in a process of its own, which leaves a segment of its own."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("embed_child.py")), str(corpus), str(index)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def results(live: LiveEngine) -> list[tuple[object, ...]]:
    """What the engine answers and which sentences are nearest each question."""
    semantic = live.engine.semantic
    assert semantic is not None
    out = []
    for question in QUESTIONS:
        answer = live.answer(question)
        ids, sims = semantic.nearest(question, 10)
        texts = [live.engine.sentences[i].text for i in ids]
        passages = tuple(p.text for p in answer.passages)
        out.append((answer.ranking, passages, tuple(texts), tuple(np.round(sims, 3))))
    return out


@pytest.fixture
def three_segments(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus whose embeddings three finished processes saved, with stale rows."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for n in range(10):
        write(corpus, n)
    assert embed_in_a_child(corpus, index) == 40  # a title and three sentences each
    for n in range(10, 20):
        write(corpus, n)
    assert embed_in_a_child(corpus, index) == 40
    for n in range(5):
        write(corpus, n, changed=True)  # their old rows are stale now
    for n in range(20, 25):
        write(corpus, n)
    assert embed_in_a_child(corpus, index) == 40
    return corpus, index


def segments(corpus: Path, index: Path) -> dict[str, int]:
    return ArrayStore(index_folder(corpus, index) / "arrays", KIND).segments()


def test_small_segments_merge_into_one_with_the_same_results_and_a_reader_meanwhile(
    three_segments: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = three_segments
    before = segments(corpus, index)
    assert len(before) == 3 and sum(before.values()) == 120
    # A reader that does not merge, open before the merge and during it.
    monkeypatch.setattr(rows, "MERGE_AT", 99)
    reader = LiveEngine(corpus, index_dir=index, semantic=SemanticModel(TextHashEmbedder()))
    semantic = reader.engine.semantic
    assert semantic is not None and semantic.wait(120) and semantic.complete
    assert segments(corpus, index) == before  # nothing merged
    expected = results(reader)
    assert all(ranking == "semantic" for ranking, *_ in expected)

    monkeypatch.setattr(rows, "MERGE_AT", 3)
    seen: list[list[tuple[object, ...]]] = []
    merged = threading.Event()

    def read() -> None:
        while not merged.is_set():
            seen.append(results(reader))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        embedder = TextHashEmbedder()
        merger = LiveEngine(corpus, index_dir=index, semantic=SemanticModel(embedder))
        merging = merger.engine.semantic
        assert merging is not None and merging.wait(120) and merging.complete
    finally:
        merged.set()
        thread.join(60)
    assert embedder.embedded == 0  # merged, not embedded again
    # One segment of the 100 live rows; the stale rows and the old files are gone.
    after = segments(corpus, index)
    assert list(after.values()) == [100]
    kind = ArrayStore(index_folder(corpus, index) / "arrays", KIND).folder
    assert {p.stem for p in kind.glob("seg-*.rows")} == set(after)
    assert {p.name for p in kind.glob("ann/*")} == set(after)
    # One graph searched instead of three, and the same results as before.
    searched = [g for n, g in enumerate(merging.store._graphs) if n not in merging.store._retired]
    assert sum(g.rows > 0 for g in searched) == 1
    assert results(merger) == expected
    texts = [s.text for s in merger.engine.sentences]
    assert np.allclose(merging.vectors, TextHashEmbedder().encode(texts), atol=2e-3)
    # The reader answered the same all along, and still does.
    assert seen and all(round_ == expected for round_ in seen)
    assert results(reader) == expected
    # A restart reads the merged segment: nothing embedded, nothing merged, the same results.
    again = TextHashEmbedder()
    restarted = LiveEngine(corpus, index_dir=index, semantic=SemanticModel(again))
    assert restarted.engine.semantic is not None and restarted.engine.semantic.wait(120)
    assert again.embedded == 0 and segments(corpus, index) == after
    assert results(restarted) == expected


def test_segments_a_writer_may_still_append_to_are_not_merged(
    three_segments: tuple[Path, Path],
) -> None:
    corpus, index = three_segments
    store = ArrayStore(index_folder(corpus, index) / "arrays", KIND)
    (name, *_) = store.segments()
    assert store.finished(name)  # its process has exited
    store.append("k" * 32, np.zeros((2, 384), dtype=np.float16))
    own = next(n for n in store.segments() if str(os.getpid()) in n)
    assert not store.finished(own)  # this store appends to it
    assert not ArrayStore(store.folder.parent, KIND).finished(own)  # nor another of this process
