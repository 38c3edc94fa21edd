"""The packaged model with its int8 weights kept int8: the same vectors, cached once, safe."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

import numpy as np
import pytest

from bot.embedding import weights
from bot.embedding.model import TOKENIZER_FILE, Embedder, OnnxEmbedder, minilm_model_file
from bot.embedding.protowire import (
    LENGTH,
    WireError,
    fields,
    length_field,
    packed_varints,
    text_field,
    varint_field,
)
from bot.embedding.weights import Rewrite, int8_model

REPO = Path(__file__).parents[2]


def _seed_texts() -> list[str]:
    """The shipped article's sentences and the seed questions."""
    article = (REPO / "corpus" / "yonhap-nk-asean-sanctions.txt").read_text(encoding="utf-8")
    texts = [s for s in re.split(r"(?<=[.!?])\s+", article) if len(s) > 3]
    for line in (REPO / "eval" / "seed_questions.jsonl").read_text().splitlines():
        if line.startswith("{"):
            texts.append(json.loads(line)["question"])
    return texts


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "qabot" / "models"


def test_int8_weights_give_the_folded_models_vectors(minilm: Embedder, cache: Path) -> None:
    folded = OnnxEmbedder(minilm_model_file(), TOKENIZER_FILE, weights=None)
    texts = _seed_texts()
    assert len(texts) > 60
    cosine = (minilm.encode(texts) * folded.encode(texts)).sum(axis=1)
    assert cosine.min() >= 0.999, cosine.min()
    # Level 0 multiplies in float32: the very same weights, so the same vectors.
    exact = OnnxEmbedder(minilm_model_file(), TOKENIZER_FILE, weights=Rewrite(64, 0))
    assert np.allclose(exact.encode(texts), folded.encode(texts), atol=2e-5)


def _graph(model: Path) -> tuple[list[str], dict[str, int]]:
    """Return a model file's operators, in order, and its initializers' data types."""
    top = {number: value for number, value, _ in fields(memoryview(model.read_bytes()))}
    graph = top[7]
    assert isinstance(graph, memoryview)
    ops: list[str] = []
    kinds: dict[str, int] = {}
    for number, value, _ in fields(graph):
        assert isinstance(value, memoryview | int)
        if number == 1 and isinstance(value, memoryview):
            ops.append(weights._read_node(value).op_type)
        elif number == 5 and isinstance(value, memoryview):
            tensor = weights._read_tensor(value)
            kinds[tensor.name] = tensor.data_type
    return ops, kinds


def test_the_rewrite_turns_every_dequantized_weight_into_an_int8_operator(cache: Path) -> None:
    packaged = minilm_model_file()
    before = hashlib.sha256(packaged.read_bytes()).hexdigest()
    model = int8_model(packaged, Rewrite())
    assert isinstance(model, Path) and model.parent == cache
    old_ops, old_kinds = _graph(packaged)
    ops, kinds = _graph(model)
    old_int8 = {name for name, kind in old_kinds.items() if kind == weights.INT8}
    assert len(old_int8) == 38 and old_ops.count("MatMul") == 48
    # Six layers of q, k, v, out, up and down projections run on int8 weights ...
    assert ops.count("com.microsoft:MatMulNBits") == 36 and ops.count("MatMul") == 48 - 36
    # ... and only the rows looked up in the two embedding tables are turned into float32.
    assert ops.count("Cast") == old_ops.count("Cast") - 38 + 2
    assert {name for name, kind in kinds.items() if kind == weights.INT8} == {
        "inner.embeddings.word_embeddings.weight_q",
        "inner.embeddings.position_embeddings.weight_q",
    }
    assert sum(1 for kind in kinds.values() if kind == weights.UINT8) == 2 * 36
    assert hashlib.sha256(packaged.read_bytes()).hexdigest() == before  # the package untouched


def test_later_processes_load_the_cached_copy_without_rewriting(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = int8_model(minilm_model_file(), Rewrite())
    assert isinstance(first, Path)
    stamp = first.stat().st_mtime_ns

    def refuse(*args: object) -> None:
        raise AssertionError("the model was rewritten again")

    monkeypatch.setattr(weights, "_rewrite", refuse)
    assert int8_model(minilm_model_file(), Rewrite()) == first
    assert first.stat().st_mtime_ns == stamp
    # Another rewrite (block size) is another copy.
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache.parents[1]))
    other = int8_model(minilm_model_file(), Rewrite(32, 4))
    assert isinstance(other, Path) and other != first
    assert not list(cache.glob("*.part"))


def test_a_copy_left_half_written_by_a_killed_process_is_cleared(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.mkdir(parents=True)
    old, recent = cache / "tmpold.part", cache / "tmprecent.part"
    for part in (old, recent):
        part.write_bytes(b"\x08" * 1000)
    os.utime(old, (0, 0))
    assert isinstance(int8_model(minilm_model_file(), Rewrite()), Path)
    assert not old.exists() and recent.exists()  # another process may be writing that one


def test_an_unwritable_cache_gives_the_rewritten_model_as_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    model = int8_model(minilm_model_file(), Rewrite())
    assert isinstance(model, bytes) and len(model) > 20_000_000
    embedder = OnnxEmbedder(minilm_model_file(), TOKENIZER_FILE)
    assert embedder.encode(["North Korea courts ASEAN"]).shape == (1, 384)


def test_a_broken_cached_copy_is_replaced_and_the_model_still_loads(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cached = int8_model(minilm_model_file(), Rewrite())
    assert isinstance(cached, Path)
    cached.write_bytes(cached.read_bytes()[:1000])  # cut short, as a full disk might leave it
    with caplog.at_level(logging.WARNING):
        embedder = OnnxEmbedder(minilm_model_file(), TOKENIZER_FILE)
    assert embedder.encode(["Kim Jong-un"]).shape == (1, 384)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "float32" in warnings[0].getMessage()
    assert not cached.exists()  # the next process rewrites it
    assert isinstance(int8_model(minilm_model_file(), Rewrite()), Path)


def test_a_model_without_int8_weights_is_loaded_as_it_is(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A graph of one Identity node: nothing to rewrite.
    node = length_field(1, [*text_field(1, "x"), *text_field(2, "y"), *text_field(4, "Identity")])
    graph = length_field(7, [*node, *text_field(2, "identity")])
    model = tmp_path / "model.onnx"
    model.write_bytes(b"".join([varint_field(1, 8), *graph]))
    assert int8_model(model, Rewrite()) is None
    monkeypatch.setattr(weights, "_rewrite", lambda *args: pytest.fail("parsed again"))
    assert int8_model(model, Rewrite()) is None  # remembered
    assert list(cache.glob("*.none"))


def test_the_wire_reader_reads_what_the_writer_wrote_and_refuses_garbage() -> None:
    message = b"".join(
        [
            varint_field(1, 300),
            *text_field(2, "naïve"),
            varint_field(3, -1),
            *length_field(4, [b"\x01\x02"]),
        ]
    )
    read = [
        (number, value if isinstance(value, int) else bytes(value))
        for number, value, _ in fields(memoryview(message))
    ]
    assert read == [(1, 300), (2, "naïve".encode()), (3, (1 << 64) - 1), (4, b"\x01\x02")]
    assert b"".join(bytes(whole) for _, _, whole in fields(memoryview(message))) == message
    assert packed_varints(memoryview(b"\x01\xac\x02")) == [1, 300]
    assert LENGTH == 2
    for garbage in (b"\x0a\x05abc", b"\x08\xff\xff", b"\x0b\x00"):
        with pytest.raises(WireError):
            list(fields(memoryview(garbage)))


def test_a_damaged_model_file_raises_only_a_wire_error(tmp_path: Path, cache: Path) -> None:
    packaged = minilm_model_file().read_bytes()
    rng = np.random.default_rng(9)
    damaged = [packaged[:cut] for cut in (1, 100, 5_000, 3_000_000)]
    for _ in range(4):
        flipped = bytearray(packaged)
        for at in rng.integers(0, 300_000, 20):
            flipped[at] = int(rng.integers(0, 256))
        damaged.append(bytes(flipped))
    damaged += [bytes(rng.integers(0, 256, 5_000, dtype=np.uint8)), "\u00e9".encode("latin-1")]
    outcomes = set()
    for number, data in enumerate(damaged):
        model = tmp_path / f"model-{number}.onnx"
        model.write_bytes(data)
        try:
            # A rewritten copy of a damaged graph is allowed: onnxruntime judges it next.
            outcomes.add(type(int8_model(model, Rewrite())).__name__)
        except WireError:
            outcomes.add("WireError")
    assert "WireError" in outcomes and outcomes <= {"WireError", "NoneType", "PosixPath"}
