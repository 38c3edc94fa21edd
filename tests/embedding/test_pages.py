"""Mapped embedding files: their pages are given back, their contents never change."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bot.embedding.pages import Residency, file_resident, release

MB = 1024 * 1024


def mapped(path: Path, mode: str = "r") -> np.memmap:
    values = np.memmap(path, dtype=np.uint8, mode=mode)
    assert int(values[:: 4096 // 2].sum()) >= 0  # every page read (resident)
    return values


def test_release_gives_back_a_read_only_mappings_pages_and_keeps_its_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ann" / "vectors.usearch"
    path.parent.mkdir()
    data = os.urandom(32 * MB)
    path.write_bytes(data)
    values = mapped(path)
    before = file_resident()
    assert release(tmp_path) >= 32 * MB
    assert before - file_resident() >= 16 * MB
    assert values[12345] == data[12345] and bytes(values[-10:]) == data[-10:]
    # Files elsewhere are not touched.
    assert release(tmp_path / "elsewhere") == 0


def test_a_writable_mapping_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "rows.bin"
    path.write_bytes(bytes(4 * MB))
    values = mapped(path, mode="r+")
    values[100] = 7
    assert release(tmp_path) == 0
    assert values[100] == 7


def test_residency_lets_go_only_once_the_budget_is_exceeded(tmp_path: Path) -> None:
    path = tmp_path / "graph.usearch"
    path.write_bytes(os.urandom(24 * MB))
    generous = Residency(tmp_path, budget=1024 * MB)
    strict = Residency(tmp_path, budget=0)
    values = mapped(path)
    generous.check()
    assert generous.releases == 0
    strict.check()
    assert strict.releases == 1 and values.size == 24 * MB
    nowhere = Residency(None, budget=0)
    nowhere.check()
    assert nowhere.releases == 0
