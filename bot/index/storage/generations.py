"""Save generations beside each other, switch the current one atomically by renaming CURRENT."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from bot.errors import StoreError
from bot.index.storage.checked import record_checked
from bot.index.storage.format import (
    INDEX_FORMAT,
    MAGIC,
    CrcWriter,
    code_version,
    meta_bytes,
    read_meta,
    write_array,
    write_file,
)
from bot.index.storage.generation import Generation, vocabulary_order
from bot.index.storage.records import (
    pack_column,
    records_to_columns,
)

ARRAYS = ("offsets", "docs", "tf", "lengths", "contrib", "sentences", "linked", "order")


def default_index_root() -> Path:
    """Return the folder that holds saved indexes when INDEX_DIR is not set."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("qabot")) / "index"


def index_folder(corpus_dir: Path | str, index_dir: Path | None = None) -> Path:
    """Return the folder that holds the saved index of corpus_dir.

    Each corpus folder gets its own subfolder of index_dir (default: the user's
    cache folder), named after the folder and a digest of its absolute path.
    """
    resolved = Path(corpus_dir).resolve()
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", resolved.name).strip("-")[:40] or "corpus"
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    return (index_dir or default_index_root()) / f"{name}-{digest}"


def write_contrib(folder: Path, name: str, generation: Generation) -> dict[str, int]:
    """Write the saturations as a .npy file, computed chunk by chunk."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (int(generation.docs.size),)}

    def write(writer: CrcWriter) -> None:
        np.lib.format.write_array_header_1_0(writer, header)  # type: ignore[no-untyped-call]
        generation.write_contrib(lambda part: writer.write(part.data.cast("B")))

    return write_file(folder, name, write)


def save(
    generation: Generation, store_folder: Path, corpus_root: Path, old: Generation | None = None
) -> tuple[Path, dict[str, Any], Holds]:
    """Write a generation beside the current one and make it current.

    Files whose arrays are those of old (saved) are linked, not written again;
    the text pack is appended to. Returns the generation's folder, its meta and
    the holds that keep other processes from deleting it while it is used. A
    save that fails leaves nothing behind: no folder, no pack, no pack bytes.
    """
    store_folder.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.time_ns():x}-{os.getpid()}"
    temporary = store_folder / f"tmp-{name}"
    final = store_folder / name
    staged = store_folder / f"CURRENT.{os.getpid()}.{threading.get_ident()}.tmp"
    temporary.mkdir()
    undo_pack: Callable[[], None] | None = None
    holds: list[BinaryIO] = []
    switched = False
    try:
        files = write_files(generation, temporary, old)
        with locked(store_folder):
            pack, undo_pack = write_pack(generation, store_folder)
            meta = {
                "magic": MAGIC,
                "format": INDEX_FORMAT,
                "code": code_version(),
                "corpus": str(corpus_root.resolve()),
                "params": [generation.params.k1, generation.params.b, generation.params.delta],
                "avgdl": generation.avgdl,
                "prefix": generation.prefix,
                "scanned_ns": generation.scanned_ns,
                "files": files,
                "pack": pack,
                "keys": pack_column(generation.keys),
                "records": records_to_columns(generation.records),
                "acronyms": generation.acronyms.to_saved(),
            }
            write_file(temporary, "meta.json", lambda w: w.write(meta_bytes(meta)))
            # Once written, a generation's files never change: say so to anyone with an editor.
            for path in temporary.iterdir():
                path.chmod(0o444)
            holds = [hold(temporary / "meta.json"), hold(store_folder / pack["file"])]
            temporary.rename(final)
            staged.write_text(name + "\n")
            os.replace(staged, store_folder / "CURRENT")
            switched = True
            # Just written, with the CRCs of what was written: no start need check them again.
            record_checked(store_folder, name, file_paths(final, files, store_folder, pack))
            clean(store_folder, keep={name, pack["file"]})
    except BaseException:
        if not switched:
            shutil.rmtree(temporary, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            staged.unlink(missing_ok=True)
            if undo_pack is not None:
                with locked(store_folder), contextlib.suppress(OSError):
                    undo_pack()
            for handle in holds:
                handle.close()
            raise
    return final, meta, tuple(holds)


Holds = tuple[BinaryIO, ...]


def hold(path: Path) -> BinaryIO:
    """Open a file with a shared lock: clean() leaves what someone holds."""
    handle = open(path, "rb")  # noqa: SIM115 - kept open for as long as the generation lives
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
    except OSError:
        handle.close()
        raise
    return handle


def _held(path: Path) -> bool:
    """Tell whether someone holds the file (a shared lock), without waiting."""
    try:
        with open(path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def write_pack(
    generation: Generation, store_folder: Path
) -> tuple[dict[str, Any], Callable[[], None]]:
    """Append the generation's new text to its pack (or write a new pack); describe it.

    Call with the store locked. Also returns what takes the write back.
    """
    if generation.pack is not None:
        path = store_folder / generation.pack
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = -1
        if fd >= 0:
            with open(fd, "ab") as handle:
                # Append only where this generation's text ends: another program may
                # have appended to the same pack meanwhile.
                start = os.fstat(handle.fileno()).st_size
                if start == generation.text.size:
                    writer = CrcWriter(handle, generation.pack_crc, generation.text.size)
                    try:
                        writer.write(generation.tail)
                        handle.flush()
                    except BaseException:
                        handle.flush()
                        os.truncate(path, start)
                        raise
                    end = writer.size

                    def undo() -> None:
                        if path.stat().st_size == end:
                            os.truncate(path, start)

                    return {"file": generation.pack, "bytes": end, "crc32": writer.crc}, undo
    name = f"text-{time.time_ns():x}-{os.getpid()}.bin"
    text = memoryview(generation.text.data).cast("B") if generation.text.size else b""

    def write(writer: CrcWriter) -> None:
        writer.write(text)
        writer.write(generation.tail)

    try:
        described = {"file": name, **write_file(store_folder, name, write)}
    except BaseException:
        (store_folder / name).unlink(missing_ok=True)
        raise
    return described, lambda: (store_folder / name).unlink(missing_ok=True)


def write_files(
    generation: Generation, folder: Path, old: Generation | None
) -> dict[str, dict[str, int]]:
    """Write (or link from old) every array file of a generation; return their sizes and CRCs."""
    files: dict[str, dict[str, int]] = {}
    old_files: dict[str, Any] = {}
    if old is not None and old.folder is not None:
        with contextlib.suppress(StoreError):
            old_files = read_meta(old.folder).get("files", {})

    def linked(file_name: str, same: bool) -> bool:
        if not same or file_name not in old_files or old is None or old.folder is None:
            return False
        try:
            os.link(old.folder / file_name, folder / file_name)
        except OSError:
            return False
        files[file_name] = old_files[file_name]
        return True

    same_vocabulary = old is not None and generation.vocabulary is old.vocabulary
    for array_name in ARRAYS:
        file_name = f"{array_name}.npy"
        array = getattr(generation, array_name)
        if array_name == "order":
            if linked(file_name, same_vocabulary):
                continue
            if array is None or array.size != len(generation.vocabulary):
                array = vocabulary_order(generation.vocabulary)
        elif linked(file_name, old is not None and array is getattr(old, array_name)):
            continue
        if array is None:
            files[file_name] = write_contrib(folder, file_name, generation)
        else:
            files[file_name] = write_array(folder, file_name, array)
    if not linked("vocab.txt", same_vocabulary):
        vocabulary = "\n".join(generation.vocabulary).encode()
        files["vocab.txt"] = write_file(folder, "vocab.txt", lambda w: w.write(vocabulary))
    return files


@contextlib.contextmanager
def locked(store_folder: Path) -> Iterator[None]:
    """Hold the store's lock; in a folder this program may not write, a read-only one."""
    handle: BinaryIO | None = None
    for mode in ("a+b", "rb"):
        try:
            handle = open(store_folder / "lock", mode)  # noqa: SIM115
            break
        except OSError:
            continue
    if handle is None:
        # No lock file and no right to make one: no writer of ours can be at work.
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def current_name(store_folder: Path) -> str | None:
    try:
        name = (store_folder / "CURRENT").read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if re.fullmatch(r"gen-[0-9a-f]+-[0-9]+", name) else None


def clean(store_folder: Path, keep: set[str]) -> None:
    """Delete generations and packs no one uses, and temporary folders of crashed writers.

    Call with the store locked. A generation or pack that a process holds (it
    serves it, or just saved it) is left for a later clean.
    """
    now = time.time()
    for entry in store_folder.iterdir():
        if entry.name in keep:
            continue
        with contextlib.suppress(OSError):
            if entry.name.startswith("tmp-"):
                # A writer fills its temporary folder without the lock: leave young ones.
                if now - entry.stat().st_mtime > 3600:
                    shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith("gen-"):
                if not _held(entry / "meta.json"):
                    shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith("text-") and not _held(entry):
                entry.unlink()


PACK = "<pack>"  # the text pack's key among a generation's checked files


def file_paths(
    folder: Path, files: dict[str, Any], store_folder: Path, pack: dict[str, Any]
) -> dict[str, Path]:
    """Name every file a generation is made of: its own, and its text pack."""
    return {**{f: folder / f for f in files}, PACK: store_folder / str(pack["file"])}


def saved_size(store_folder: Path) -> int:
    """Return the bytes the current saved generation takes on disk (0 when there is none)."""
    name = current_name(store_folder)
    if name is None or not (store_folder / name).is_dir():
        return 0
    return sum(p.stat().st_size for p in (store_folder / name).iterdir() if p.is_file())
