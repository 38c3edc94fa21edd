"""Open the current saved generation of an index folder, checked, over its saved files."""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import StoreError
from bot.index.bm25 import BM25Params
from bot.index.storage.checked import record_checked, unchanged_since_checked
from bot.index.storage.format import code_version, load_array, read_meta, verify
from bot.index.storage.generation import Generation
from bot.index.storage.generations import (
    ARRAYS,
    PACK,
    Holds,
    current_name,
    file_paths,
    hold,
    locked,
)
from bot.index.storage.records import records_from_columns, unpack_column


def open_generation(store_folder: Path, corpus_root: Path) -> Generation | None:
    """Open the current saved generation, checked; None when there is none yet.

    Raises StoreError when the generation is there but unusable (foreign,
    other version, truncated, corrupted).
    """
    with locked(store_folder) if store_folder.is_dir() else contextlib.nullcontext():
        name = current_name(store_folder)
        if name is None:
            if (store_folder / "CURRENT").exists():
                raise StoreError(f"{store_folder / 'CURRENT'} is corrupted")
            return None
        folder = store_folder / name
        meta = read_meta(folder)
        if meta.get("code") != code_version():
            raise StoreError(f"{folder} was built by another version of the program")
        if meta.get("corpus") != str(corpus_root.resolve()):
            raise StoreError(f"{folder} belongs to another corpus folder ({meta.get('corpus')})")
        files, pack = meta.get("files"), meta.get("pack")
        if (
            not isinstance(files, dict)
            or set(files) != {*(f"{a}.npy" for a in ARRAYS), "vocab.txt"}
            or not isinstance(pack, dict)
            or not re.fullmatch(r"text-[0-9a-f]+-[0-9]+\.bin", str(pack.get("file")))
        ):
            raise StoreError(f"{folder}/meta.json lists the wrong files")
        # Held from now on, so that no other process deletes what this one serves.
        holds = (hold(folder / "meta.json"), hold(store_folder / str(pack["file"])))
        # Check every file changed since it was last checked (see .checked), on the
        # other core while this one parses the rest.
        paths = file_paths(folder, files, store_folder, pack)
        same = unchanged_since_checked(store_folder, name, paths)
        to_check = {f: expected for f, expected in files.items() if f not in same}
        pack_to_check = pack if PACK not in same else None
        wrong: list[str] = []
        thread = threading.Thread(
            target=lambda: wrong.extend(verify(folder, to_check, pack_to_check))
        )
        thread.start()
        try:
            generation = open_files(folder, meta, holds=holds)
        finally:
            thread.join()
        if wrong:
            raise StoreError(f"{folder}: {'; '.join(wrong)}")
        if to_check or pack_to_check is not None:
            record_checked(store_folder, name, paths)
        return generation


def open_files(
    folder: Path, meta: dict[str, Any], like: Generation | None = None, holds: Holds = ()
) -> Generation:
    """Open a generation's files; like, a generation just saved there, lends its Python objects.

    holds (see hold()) are kept open as long as the generation is.
    """
    try:
        k1, b, delta = (float(x) for x in meta["params"])
        records = like.records if like is not None else records_from_columns(meta["records"])
        arrays = {name: load_array(folder / f"{name}.npy") for name in ARRAYS}
        if like is not None:
            vocabulary = like.vocabulary
        else:
            vocabulary_bytes = (folder / "vocab.txt").read_bytes()
            vocabulary = vocabulary_bytes.decode().split("\n") if vocabulary_bytes else []
        pack = meta["pack"]
        used = int(pack["bytes"])
        text = (
            np.asarray(np.memmap(folder.parent / pack["file"], np.uint8, "r", shape=(used,)))
            if used
            else np.empty(0, dtype=np.uint8)
        )
        generation = Generation(
            records=records,
            keys=unpack_column(meta["keys"]),
            prefix=bool(meta["prefix"]),
            params=BM25Params(k1, b, delta),
            vocabulary=vocabulary,
            offsets=arrays["offsets"],
            docs=arrays["docs"],
            tf=arrays["tf"],
            lengths=arrays["lengths"],
            avgdl=float(meta["avgdl"]),
            contrib=arrays["contrib"],
            text=text,
            sentences=arrays["sentences"],
            linked=np.array(arrays["linked"]),  # small: read, not mapped
            pack=str(pack["file"]),
            pack_crc=int(pack["crc32"]),
            scanned_ns=int(meta["scanned_ns"]),
            folder=folder,
            holds=holds,
            saved_acronyms=meta.get("acronyms"),
            order=arrays["order"],
        )
    except (OSError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{folder} cannot be opened ({exc})") from None
    check_shapes(generation, folder)
    if like is not None:
        generation.share_terms(like)
    return generation


def check_shapes(g: Generation, folder: Path) -> None:
    """Check that the arrays agree with each other (their content is checked by CRC)."""
    usable = g.articles
    n = sum(r.sentences for r in usable)
    problems = []
    if len(g.keys) != len(usable):
        problems.append("keys")
    if g.offsets.shape != (len(g.vocabulary) + 1,) or (g.offsets.size and g.offsets[0] != 0):
        problems.append("offsets")
    elif g.docs.shape != (int(g.offsets[-1]),) or g.tf.shape != g.docs.shape:
        problems.append("postings")
    if g.contrib is None or g.contrib.shape != g.docs.shape or g.lengths.shape != (n,):
        problems.append("weights")
    if g.sentences.shape != (n, 4) or g.linked.shape != (max(n - 1, 0),):
        problems.append("sentences")
    if g.order is None or g.order.shape != (len(g.vocabulary),):
        problems.append("order")
    if problems:
        raise StoreError(f"{folder} has inconsistent arrays ({', '.join(problems)})")
