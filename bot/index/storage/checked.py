"""Remember which saved files were checked, by their stat, so a restart re-checks only changes.

A generation's files are checked against their CRC-32 (bot.index.storage.format)
before they are served: at a million sentences that is reading half a gigabyte,
most of a restart on a cold cache. Written once, they never change, so once a
file has been checked (or written by this program) its stamp — size,
modification and change times, inode, device — is recorded in the store
folder's CHECKED file, and a later start checks again only a file whose stamp
differs. Any write to a file, however done (even one that puts the
modification time back), changes its change time, which no program can set;
so a file changed since it was checked is always checked again. What a stamp
cannot see is a disk that decays under an unchanged file.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

CHECKED = "CHECKED"

Stamp = list[int]


def stamp(path: Path) -> Stamp | None:
    """Return what changes whenever a file does (None when it cannot be looked at)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]


def checked_stamps(store_folder: Path, generation: str) -> dict[str, Stamp]:
    """Return the stamps recorded for the files of a generation ({} when none are)."""
    try:
        data = json.loads((store_folder / CHECKED).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("generation") != generation:
        return {}
    stamps = data.get("stamps")
    return stamps if isinstance(stamps, dict) else {}


def unchanged_since_checked(
    store_folder: Path, generation: str, paths: dict[str, Path]
) -> set[str]:
    """Return the names (of paths) whose file is as it was when last checked."""
    stamps = checked_stamps(store_folder, generation)
    if not stamps:
        return set()
    same = set()
    for name, path in paths.items():
        now = stamp(path)
        if now is not None and stamps.get(name) == now:
            same.add(name)
    return same


def record_checked(store_folder: Path, generation: str, paths: dict[str, Path]) -> None:
    """Record the stamps of a generation's files, just checked or written (best effort).

    A folder this program may not write keeps checking at every start.
    """
    stamps = {name: stamp(path) for name, path in paths.items()}
    if any(value is None for value in stamps.values()):
        return
    staged = store_folder / f"{CHECKED}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        staged.write_text(json.dumps({"generation": generation, "stamps": stamps}))
        os.replace(staged, store_folder / CHECKED)
    except OSError:
        with contextlib.suppress(OSError):
            staged.unlink()
