"""Rewrite an int8 ONNX encoder in memory so that onnxruntime keeps its weights int8.

The packaged all-MiniLM-L6-v2 stores each weight as int8 with a float scale per
row or column and turns it into float32 in the graph (``Cast`` then ``Mul``).
onnxruntime folds those constants at load: 90 MB of float32 weights, and about
160 MB more RSS than the file. Not folding them is no better: every run then
dequantizes every weight again, and the memory arena keeps those float32
tensors (282 MB after 20 questions, each four times slower: the "no lower peak"
measured before).

Here, before onnxruntime sees the model, each dequantizing pair is replaced
by an operator that reads the int8 weights as they are:

- an embedding table (``Gather`` of the dequantized table) becomes a
  ``Gather`` of int8 rows, dequantized after the lookup (the same numbers);
- a ``MatMul`` by a dequantized weight becomes onnxruntime's ``MatMulNBits``
  with 8-bit weights, the weight's column scales repeated over blocks of
  ``block`` rows; accuracy level 4 multiplies in int8 with float activations
  quantized per block (vectors' cosine ≥ 0.9997 with the float32 ones, see
  tests/embedding/test_weights.py), level 0 in float32.

The file on disk is never changed, and anything that does not match these
patterns is left alone (a float model loads as it is). Only the graph's nodes
and initializers are read (bot/embedding/protowire.py); every other byte of the
file is copied as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.embedding.protowire import (
    Chunk,
    WireError,
    fields,
    length_field,
    packed_varints,
    text_field,
    varint_field,
)

log = logging.getLogger(__name__)

# Bumped when the rewrite changes, so that cached copies written by older code are not used.
FORMAT = 1
# TensorProto.DataType and AttributeProto.AttributeType values of onnx.proto.
FLOAT, UINT8, INT8 = 1, 2, 3
ATTRIBUTE_INT = 2
# MatMulNBits: 8-bit weights are stored unsigned with this zero point.
ZERO_POINT = 128


@dataclass(frozen=True)
class Rewrite:
    """How to run a model's int8 weights; block is MatMulNBits' rows per scale block."""

    block: int = 16
    accuracy_level: int = 4


@dataclass(eq=False)
class _Node:
    op_type: str
    inputs: list[str]
    outputs: list[str]
    ints: dict[str, int]


@dataclass(eq=False)
class _Tensor:
    name: str
    dims: tuple[int, ...]
    data_type: int
    data: memoryview | None  # raw_data, when the values are stored that way


def _text(value: int | memoryview) -> str:
    if isinstance(value, int):
        raise WireError("a string field holds a number")
    try:
        return bytes(value).decode()
    except UnicodeDecodeError:
        raise WireError("a string field is not UTF-8") from None


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _read_node(buf: memoryview) -> _Node:
    node = _Node("", [], [], {})
    domain = ""
    for number, value, _ in fields(buf):
        if number in (1, 2):
            (node.inputs if number == 1 else node.outputs).append(_text(value))
        elif number == 4:
            node.op_type = _text(value)
        elif number == 5 and isinstance(value, memoryview):
            name, integer = "", None
            for key, item, _ in fields(value):
                if key == 1:
                    name = _text(item)
                elif key == 3 and isinstance(item, int):
                    integer = _signed(item)
            if integer is not None:
                node.ints[name] = integer
        elif number == 7:
            domain = _text(value)
    if domain:
        node.op_type = f"{domain}:{node.op_type}"  # another domain's operator, not ONNX's
    return node


def _read_tensor(buf: memoryview) -> _Tensor:
    tensor = _Tensor("", (), 0, None)
    dims: list[int] = []
    for number, value, _ in fields(buf):
        if number == 1:
            dims.extend(_signed(d) for d in packed_varints(value))
        elif number == 2 and isinstance(value, int):
            tensor.data_type = value
        elif number == 8:
            tensor.name = _text(value)
        elif number == 9 and isinstance(value, memoryview):
            tensor.data = value
    tensor.dims = tuple(dims)
    return tensor


def _array(tensor: _Tensor) -> np.ndarray[Any, Any] | None:
    """Return an initializer's values (a view of the file's bytes), or None if not raw."""
    kinds = {FLOAT: np.float32, INT8: np.int8}
    if tensor.data_type not in kinds or tensor.data is None or any(d < 0 for d in tensor.dims):
        return None
    dtype = np.dtype(kinds[tensor.data_type])
    if len(tensor.data) != dtype.itemsize * int(np.prod(tensor.dims, dtype=np.int64)):
        return None
    return np.frombuffer(tensor.data, dtype=dtype).reshape(tensor.dims)


class _Writer:
    """Encodes the new nodes and initializers, and notes the names they read."""

    def __init__(self) -> None:
        self.reads: set[str] = set()

    def node(
        self, op: str, inputs: list[str], outputs: list[str], domain: str = "", **ints: int
    ) -> list[Chunk]:
        self.reads.update(inputs)
        body: list[Chunk] = []
        for name in inputs:
            body += text_field(1, name)
        for name in outputs:
            body += text_field(2, name)
        body += text_field(4, op)
        for name, value in ints.items():
            body += length_field(
                5, [*text_field(1, name), varint_field(3, value), varint_field(20, ATTRIBUTE_INT)]
            )
        if domain:
            body += text_field(7, domain)
        return length_field(1, body)

    @staticmethod
    def tensor(name: str, values: np.ndarray[Any, Any], data_type: int) -> list[Chunk]:
        body: list[Chunk] = [varint_field(1, d) for d in values.shape]
        body += [varint_field(2, data_type), *text_field(8, name)]
        body += length_field(9, [np.ascontiguousarray(values).tobytes()])
        return length_field(5, body)


def _gather(write: _Writer, weight: str, scale: str, gather: _Node) -> list[Chunk]:
    """Look up int8 rows and their scales, then dequantize only the rows looked up."""
    ids = gather.inputs[1]
    rows, scales, floats = f"{weight}/rows", f"{weight}/row_scales", f"{weight}/rows_f"
    return [
        *write.node("Gather", [weight, ids], [rows], axis=0),
        *write.node("Gather", [scale, ids], [scales], axis=0),
        *write.node("Cast", [rows], [floats], to=FLOAT),
        *write.node("Mul", [floats, scales], [gather.outputs[0]]),
    ]


def _matmul(
    write: _Writer,
    weight: np.ndarray[Any, Any],
    scale: np.ndarray[Any, Any],
    name: str,
    matmul: _Node,
    how: Rewrite,
) -> tuple[list[Chunk], list[Chunk]]:
    """Return the MatMulNBits node and its initializers for x @ (weight * column scale)."""
    rows, columns = weight.shape
    blocks = rows // how.block
    # MatMulNBits wants the weight transposed, one row of blocks per output column.
    packed = (weight.T.astype(np.int16) + ZERO_POINT).astype(np.uint8)
    scales = np.repeat(np.broadcast_to(scale.reshape(-1), (columns,)), blocks)
    names = [f"{name}/nbits", f"{name}/nbits_scales", f"{name}/nbits_zero_points"]
    tensors = [
        *write.tensor(names[0], packed.reshape(columns, blocks, how.block), UINT8),
        *write.tensor(names[1], scales.astype(np.float32), FLOAT),
        *write.tensor(names[2], np.full(columns * blocks, ZERO_POINT, dtype=np.uint8), UINT8),
    ]
    node = write.node(
        "MatMulNBits",
        [matmul.inputs[0], *names],
        [matmul.outputs[0]],
        domain="com.microsoft",
        K=rows,
        N=columns,
        bits=8,
        block_size=how.block,
        accuracy_level=how.accuracy_level,
    )
    return node, tensors


def _rewrite(model_file: Path, how: Rewrite) -> tuple[list[Chunk], int]:
    """Return the chunks of the model with its int8 weights read as int8, and how many changed.

    Raises OSError when the file cannot be read and WireError when it is not protobuf.
    """
    data = memoryview(model_file.read_bytes())
    top = list(fields(data))
    graph_view = next((value for number, value, _ in top if number == 7), None)
    if not isinstance(graph_view, memoryview):
        return [], 0
    entries = list(fields(graph_view))
    parsed: dict[int, _Node | _Tensor] = {}
    graph_inputs: set[str] = set()
    for index, (number, value, _) in enumerate(entries):
        if isinstance(value, memoryview) and number == 1:
            parsed[index] = _read_node(value)
        elif isinstance(value, memoryview) and number == 5:
            parsed[index] = _read_tensor(value)
        elif isinstance(value, memoryview) and number == 11:
            graph_inputs.update(_text(v) for k, v, _ in fields(value) if k == 1)
    nodes = [p for p in parsed.values() if isinstance(p, _Node)]
    initializers = {p.name: p for p in parsed.values() if isinstance(p, _Tensor)}
    consumers: dict[str, list[_Node]] = defaultdict(list)
    for node in nodes:
        for name in node.inputs:
            consumers[name].append(node)

    def only_user(name: str, op: str) -> _Node | None:
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op else None

    write = _Writer()
    dropped: set[_Node] = set()
    replaced: dict[_Node, list[Chunk]] = {}
    added: list[Chunk] = []
    for name, tensor in initializers.items():
        cast = only_user(name, "Cast") if tensor.data_type == INT8 else None
        if cast is None or cast.ints.get("to") != FLOAT:
            continue
        mul = only_user(cast.outputs[0], "Mul")
        if mul is None or len(mul.inputs) != 2:
            continue
        scale_name = mul.inputs[1] if mul.inputs[0] == cast.outputs[0] else mul.inputs[0]
        scale = _array(initializers[scale_name]) if scale_name in initializers else None
        weight = _array(tensor)
        users = consumers.get(mul.outputs[0], [])
        if scale is None or weight is None or weight.ndim != 2 or len(users) != 1:
            continue
        target, (rows, columns) = users[0], weight.shape
        if (
            target.op_type == "Gather"
            and target.inputs[0] == mul.outputs[0]
            and target.ints.get("axis", 0) == 0
            and scale.shape == (rows, 1)
        ):
            replaced[target] = _gather(write, name, scale_name, target)
        elif (
            target.op_type == "MatMul"
            and target.inputs[1] == mul.outputs[0]
            and target.inputs[0] != mul.outputs[0]
            and scale.size in (1, columns)
            and rows % how.block == 0
        ):
            replaced[target], tensors = _matmul(write, weight, scale, name, target, how)
            added += tensors
        else:
            continue
        dropped.update((cast, mul))
    if not replaced:
        return [], 0
    reads = set(write.reads) | graph_inputs
    for node in nodes:
        if node not in dropped and node not in replaced:
            reads.update(node.inputs)
    graph: list[Chunk] = []
    for index, (_, _, whole) in enumerate(entries):
        item = parsed.get(index)
        if isinstance(item, _Node) and (item in dropped or item in replaced):
            graph += replaced.get(item, [])
        elif not (isinstance(item, _Tensor) and item.name not in reads):
            graph.append(whole)
    graph += added
    model: list[Chunk] = []
    opsets: set[str] = set()
    for number, value, whole in top:
        if number == 8 and isinstance(value, memoryview):
            opsets.update(_text(v) for k, v, _ in fields(value) if k == 1)
        model += length_field(7, graph) if number == 7 else [whole]
    if "com.microsoft" not in opsets:
        model += length_field(8, [*text_field(1, "com.microsoft"), varint_field(2, 1)])
    return model, len(replaced)


def _cache_file(model_file: Path, how: Rewrite) -> Path:
    """Name the rewritten copy of a model file: changes with the file, the rewrite, onnxruntime."""
    import onnxruntime  # type: ignore[import-untyped]
    from platformdirs import user_cache_dir  # here: a lexical restart never imports it

    stat = model_file.stat()
    digest = hashlib.sha256()
    for part in (
        FORMAT,
        model_file.resolve(),
        stat.st_size,
        stat.st_mtime_ns,
        how,
        onnxruntime.__version__,
    ):
        digest.update(f"{part}\n".encode())
    return (
        Path(user_cache_dir("qabot"))
        / "models"
        / f"{model_file.stem}-{digest.hexdigest()[:16]}.onnx"
    )


def _remove_abandoned(folder: Path) -> None:
    """Delete partial copies that a process killed while writing left over an hour ago."""
    for part in folder.glob("*.part"):
        with contextlib.suppress(OSError):
            if time.time() - part.stat().st_mtime > 3600:
                part.unlink()


def int8_model(model_file: Path, how: Rewrite = Rewrite()) -> Path | bytes | None:
    """Return the model to load with its int8 weights kept int8: a file, bytes, or None.

    The rewritten model is saved in the cache folder (written whole, then renamed into
    place) so that later processes load it without rewriting; bytes are returned when
    that folder is not writable, None when the rewrite does not apply (load model_file).
    Raises OSError when the file cannot be read and WireError when it is not protobuf.
    """
    cached = _cache_file(model_file, how)
    if cached.is_file():
        return cached
    if cached.with_suffix(".none").is_file():
        return None
    chunks, changed = _rewrite(model_file, how)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(cached.parent)
        if not changed:
            cached.with_suffix(".none").touch()
            return None
        with tempfile.NamedTemporaryFile(dir=cached.parent, suffix=".part", delete=False) as out:
            try:
                out.writelines(chunks)
                out.flush()
                os.fsync(out.fileno())
                os.replace(out.name, cached)
            except BaseException:
                os.unlink(out.name)
                raise
        return cached
    except OSError as exc:
        log.debug("the rewritten model is not cached in %s: %s", cached.parent, exc)
        return b"".join(chunks) if changed else None


def initializer(model_file: Path, name: str) -> np.ndarray[Any, Any] | None:
    """Return one raw float32 or int8 initializer of a model file (None: not there).

    The reranker reads the static word-piece embedding table this way. The array
    is a read-only view of the file mapped in memory: reading the file's 23 MB
    and copying the table out held both at once, where the map brings in only
    the pages read. Raises OSError when the file cannot be read and WireError
    when it is not protobuf.
    """
    with model_file.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return None
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    data = memoryview(mapped)
    graph = next((value for number, value, _ in fields(data) if number == 7), None)
    if not isinstance(graph, memoryview):
        return None
    for number, value, _ in fields(graph):
        if number == 5 and isinstance(value, memoryview):
            tensor = _read_tensor(value)
            if tensor.name == name:
                return _array(tensor)
    return None
