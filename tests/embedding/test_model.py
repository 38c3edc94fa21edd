"""The packaged model: loads from installed packages with no network, and fails in one line."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.embedding import model as model_module
from bot.embedding.loader import SemanticModel, semantic_from_settings
from bot.embedding.model import (
    TOKENIZER_FILE,
    Embedder,
    load_embedder,
    minilm_model_file,
)
from bot.errors import SemanticUnavailable
from bot.settings import Settings

REPO = Path(__file__).parents[2]


def test_the_packaged_model_loads_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embedder = load_embedder("all-MiniLM-L6-v2")
    vectors = embedder.encode(["North Korea courts ASEAN", "the weather is nice"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert minilm_model_file().is_file() and TOKENIZER_FILE.is_file()


def test_similar_meaning_scores_higher(minilm: Embedder) -> None:
    sentences = minilm.encode(
        ["The stock market fell sharply on Monday.", "Pyongyang seeks allies in Southeast Asia."]
    )
    question = minilm.encode(
        ["Is North Korea looking for friends among ASEAN nations?"], query=True
    )
    similarity = sentences @ question[0]
    assert similarity[1] > similarity[0] + 0.2


def test_batches_give_the_same_vectors_as_one_at_a_time(
    minilm: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["Short.", "A somewhat longer sentence about the summit in Seoul.", "Kim Jong-un"]
    alone = np.stack([minilm.encode([t])[0] for t in texts])
    # Padded batches (what a larger BATCH gives) must not change a sentence's vector.
    monkeypatch.setattr(model_module, "BATCH", 3)
    together = minilm.encode(texts)
    assert np.allclose(together, alone, atol=1e-4)


def _folder_with(tmp_path: Path, model_bytes: bytes | None, tokenizer: bool) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    if model_bytes is not None:
        (folder / "model.onnx").write_bytes(model_bytes)
    if tokenizer:
        shutil.copy(TOKENIZER_FILE, folder / "tokenizer.json")
    return folder


@pytest.mark.parametrize(
    ("model_bytes", "tokenizer", "says"),
    [
        (b"\x08\x07 not an onnx model", True, "is not usable"),
        (None, True, "model file"),
        (b"", False, "tokenizer file"),
    ],
)
def test_a_missing_or_corrupt_file_warns_once_and_ranks_by_word_match(
    tmp_path: Path, model_bytes: bytes | None, tokenizer: bool, says: str
) -> None:
    folder = _folder_with(tmp_path, model_bytes, tokenizer)
    with pytest.raises(SemanticUnavailable, match=says):
        load_embedder(str(folder))
    warnings: list[str] = []
    model = SemanticModel(str(folder), warn=warnings.append)
    assert model.embedder is None and model.embedder is None  # tried once
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("semantic ranking is off") and "word match only" in warnings[0]


def test_settings_check_the_packages_without_loading_the_model(tmp_path: Path) -> None:
    assert semantic_from_settings(Settings(semantic=False)) == (None, None)
    model, warning = semantic_from_settings(Settings())
    assert model is not None and warning is None and not model.loaded
    model, warning = semantic_from_settings(Settings(embedding_model=str(tmp_path / "none")))
    assert model is None and warning is not None and "never downloaded" in warning
    (tmp_path / "file.bin").write_bytes(b"x")
    model, warning = semantic_from_settings(Settings(embedding_model=str(tmp_path / "file.bin")))
    assert model is None and warning is not None and "is a file" in warning


def _python(code: str, cwd: Path) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SEMANTIC", "EMBEDDING"))}
    environ.update({"PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cwd / "cache")})
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=300,
        check=True,
    )
    return result.stdout


def test_answering_with_the_model_imports_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from bot.cli.main import main; "
        f"main(['ask', '--corpus', {str(REPO / 'corpus')!r}, '--json', 'why is NK courting ASEAN?']); "
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules, "
        "'onnxruntime' in sys.modules)"
    )
    out = _python(code, tmp_path).split("\n")
    assert '"ranking": "semantic"' in out[0]
    assert out[-2].split() == ["False", "False", "True"]


@pytest.mark.parametrize(
    "argv",
    [["inspect", "--corpus", "CORPUS"], ["ask", "--corpus", "/no/such/folder", "q?"], ["--help"]],
)
def test_commands_that_answer_nothing_never_load_the_model(tmp_path: Path, argv: list[str]) -> None:
    argv = [str(REPO / "corpus") if a == "CORPUS" else a for a in argv]
    code = (
        "import sys\nfrom bot.cli.main import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('loaded', 'onnxruntime' in sys.modules or 'tokenizers' in sys.modules)"
    )
    assert _python(code, tmp_path).strip().splitlines()[-1] == "loaded False"
