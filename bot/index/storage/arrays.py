"""Keep per-sentence arrays (embeddings) beside a saved generation, reused article by article."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy.typing as npt

from bot.index.storage.format import load_array, verify, write_array

logger = logging.getLogger(__name__)


def keep_extra(
    folder: Path, file_name: str, rows: npt.NDArray[Any], digests: list[str], counts: list[int]
) -> npt.NDArray[Any]:
    """Save an extra array in a generation's folder; return it memory-mapped from there."""
    try:
        save_extra(folder, file_name, rows, digests, counts)
    except OSError as exc:
        logger.warning("could not save %s in %s: %s", file_name, folder, exc)
        return rows
    saved: npt.NDArray[Any] | None = open_extra(folder, file_name, digests)
    return saved if saved is not None else rows


def extra_spans(folder: Path, file_name: str) -> dict[str, tuple[int, int]]:
    """Map each article digest of a saved extra array to its rows."""
    try:
        side = json.loads((folder / f"{file_name}.json").read_text())
        spans: dict[str, tuple[int, int]] = {}
        start = 0
        for digest, count in zip(side["digests"], side["counts"], strict=True):
            spans.setdefault(str(digest), (start, start + int(count)))
            start += int(count)
        return spans
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def open_extra(folder: Path, file_name: str, digests: list[str] | None) -> Any:
    """Open a saved extra array after checking it; None when absent, stale or broken."""
    try:
        side = json.loads((folder / f"{file_name}.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("rebuilding %s in %s: %s", file_name, folder, exc)
        return None
    if digests is not None and side.get("digests") != digests:
        return None
    wrong = verify(folder, {f"{file_name}.npy": side.get("file", {})})
    if wrong:
        logger.warning("rebuilding %s in %s: %s", file_name, folder, "; ".join(wrong))
        return None
    try:
        return load_array(folder / f"{file_name}.npy")
    except (OSError, ValueError) as exc:
        logger.warning("rebuilding %s in %s: %s", file_name, folder, exc)
        return None


def save_extra(
    folder: Path, file_name: str, array: npt.NDArray[Any], digests: list[str], counts: list[int]
) -> None:
    staged = f"{file_name}.{os.getpid()}.tmp"
    info = write_array(folder, staged, array)
    os.replace(folder / staged, folder / f"{file_name}.npy")
    side = {"file": info, "digests": digests, "counts": counts}
    (folder / f"{staged}.json").write_text(json.dumps(side))
    os.replace(folder / f"{staged}.json", folder / f"{file_name}.json")


def carry_extras(previous: Path, new: Path) -> None:
    """Move the previous generation's extra arrays beside the new one, for reuse by article."""
    with contextlib.suppress(OSError):
        for side in previous.glob("extra-*.json"):
            stem = side.name[: -len(".json")]
            os.replace(previous / f"{stem}.npy", new / f"stale-{stem}.npy")
            os.replace(side, new / f"stale-{stem}.json")
