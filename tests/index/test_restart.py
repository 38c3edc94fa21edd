"""A restart on a saved index: only what the first answer needs, and every change noticed."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from bot.answer.engine import Engine
from bot.index import aliases
from bot.index.aliases import AliasGroup, DefinedAcronyms, build_aliases
from bot.index.storage import IndexStore, generations, index_folder, opening
from bot.index.storage.checked import CHECKED
from bot.index.storage.format import meta_bytes, read_meta_file
from bot.index.storage.generation import TermLookup
from bot.live import LiveEngine
from tests.polling import wait_until

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"

# Modules a one-shot question on a saved index has no use for: YAML front matter and
# worker processes are for indexing, asyncio for watching, dotenv for a .env file.
NOT_NEEDED = ("yaml", "asyncio", "dotenv", "concurrent.futures.process", "platformdirs")


def test_a_restart_imports_nothing_the_first_answer_does_not_need(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CORPUS_", "INDEX_"))},
        "PYTHONPATH": str(REPO),
        "INDEX_DIR": str(tmp_path / "index"),
        "SEMANTIC": "false",
    }
    code = (
        "import sys; from bot.cli.main import main; "
        f"code = main(['ask', '--corpus', {str(CORPUS)!r}, 'why is NK courting ASEAN?']); "
        f"print('loaded:', *[m for m in {NOT_NEEDED!r} if m in sys.modules], file=sys.stderr); "
        "sys.exit(code)"
    )
    for _ in range(2):  # a build, then a restart
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert "ASEAN" in done.stdout
    assert done.stderr.splitlines()[-1] == "loaded:"


def _article(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (LONG_AGO, LONG_AGO))  # older than any racy window
    return path


LONG_AGO = 1_600_000_000


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    _article(folder, "ferry.txt", "Ferry news\n\nThe harbour ferry sails at noon. It is late.\n")
    _article(folder, "bridge.txt", "Bridge news\n\nThe Zentor bridge opens in May.\n")
    _article(folder, "city/museum.md", "---\ntitle: Museum\n---\nThe museum shows Quorvex maps.\n")
    return folder


def _checks(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record, per open of a saved generation, which files get their CRC checked."""
    asked: list[list[str]] = []
    original = opening.verify

    def spy(folder: Path, files: dict[str, Any], pack: dict[str, Any] | None = None) -> list[str]:
        asked.append(sorted(files) + (["<pack>"] if pack is not None else []))
        return original(folder, files, pack)

    monkeypatch.setattr(opening, "verify", spy)
    return asked


def test_a_restart_checks_no_file_that_was_written_or_checked_since(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _checks(monkeypatch)
    IndexStore(corpus, tmp_path / "index").load()  # builds and saves: no open
    IndexStore(corpus, tmp_path / "index").load()
    assert asked == [[]]
    # Without the record (an index saved by an older version): every file, once.
    (index_folder(corpus, tmp_path / "index") / CHECKED).unlink()
    IndexStore(corpus, tmp_path / "index").load()
    IndexStore(corpus, tmp_path / "index").load()
    assert len(asked[1]) == len(generations.ARRAYS) + 2 and asked[2] == []


def test_a_damaged_file_is_checked_even_with_its_old_times_put_back(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    asked = _checks(monkeypatch)
    IndexStore(corpus, tmp_path / "index").load()
    store_folder = index_folder(corpus, tmp_path / "index")
    path = store_folder / (store_folder / "CURRENT").read_text().strip() / "contrib.npy"
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    assert asked == [["contrib.npy"]]
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("bot.index.storage")]
    assert len(warnings) == 1 and "contrib.npy is corrupted" in warnings[0], warnings
    assert "rebuilding the index" in warnings[0]
    assert snapshot.changes.reread == 3


def test_a_restart_takes_the_acronyms_from_the_saved_index(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _article(
        corpus,
        "un.txt",
        "UN news\n\nThe United Nations Security Council (UNSC) met. The Korea Development "
        "Institute (KDI) said so, as did the UNSC and the World Health Organization (WHO).\n",
    )
    built = IndexStore(corpus, tmp_path / "index").load()
    learned = build_aliases(corpus, list(built.acronym_texts))  # a plain list: learned now
    assert [g.names[1] for g in learned.groups if g.origin == "defined in the text"] == [
        "UNSC",
        "KDI",
        "WHO",
    ]

    def never(texts: object) -> list[AliasGroup]:
        raise AssertionError("learned again")

    monkeypatch.setattr(aliases, "defined_acronyms", never)
    restarted = IndexStore(corpus, tmp_path / "index").load()
    saved = build_aliases(corpus, restarted.acronym_texts)
    assert saved.groups == learned.groups
    assert saved._by_phrase == learned._by_phrase and saved._longest == learned._longest
    # Saved groups are used only for the very sentences they were learned from.
    monkeypatch.undo()
    other = DefinedAcronyms(
        ["The Asian Development Bank (ADB) lent."], saved=built.acronym_texts.to_saved()
    )
    assert [g.names for g, _ in other.parsed()] == [("Asian Development Bank", "ADB")]


@pytest.mark.parametrize(
    "change", ["renamed over, same size and times", "written, same size", "added", "removed"]
)
def test_a_restart_notices_every_change_to_the_folder(
    change: str, corpus: Path, tmp_path: Path
) -> None:
    IndexStore(corpus, tmp_path / "index").load()
    bridge = corpus / "bridge.txt"
    before = bridge.stat()
    text = "Bridge news\n\nThe Quaxly bridge opens in May.\n"  # as long as the Zentor one
    expected = {"added": [], "changed": [], "removed": []}
    if change.startswith("renamed over"):
        # What rsync -t and many editors do: another file, the old file's size and times.
        staged = corpus / ".bridge.txt.tmp"
        staged.write_text(text, encoding="utf-8")
        os.utime(staged, ns=(before.st_atime_ns, before.st_mtime_ns))
        os.replace(staged, bridge)
        assert (bridge.stat().st_size, bridge.stat().st_mtime_ns) == (
            before.st_size,
            before.st_mtime_ns,
        )
        expected["changed"] = ["bridge.txt"]
    elif change.startswith("written"):
        bridge.write_text(text, encoding="utf-8")
        os.utime(bridge, (LONG_AGO + 5, LONG_AGO + 5))  # out of the racy window
        expected["changed"] = ["bridge.txt"]
    elif change == "added":
        _article(corpus, "city/quay.txt", "Quay news\n\nThe Quaxly quay opens in June.\n")
        expected["added"] = ["city/quay.txt"]
    else:
        bridge.unlink()
        expected["removed"] = ["bridge.txt"]
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    changes = snapshot.changes
    assert {"added": changes.added, "changed": changes.changed, "removed": changes.removed} == (
        expected
    )
    engine = Engine.from_snapshot(snapshot)
    answer = engine.answer("Where is the Quaxly?")
    assert answer.answered == (change != "removed")
    # And the restart after that one reads nothing again.
    assert IndexStore(corpus, tmp_path / "index").load().changes.reread == 0


def test_a_saved_list_of_files_that_is_broken_means_one_line_and_a_full_read(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    IndexStore(corpus, tmp_path / "index").load()
    store_folder = index_folder(corpus, tmp_path / "index")
    meta_path = store_folder / (store_folder / "CURRENT").read_text().strip() / "meta.json"
    meta = read_meta_file(meta_path)
    del meta["records"]["inode"]  # well-formed JSON with a valid checksum, but not what we wrote
    meta_path.write_bytes(meta_bytes(meta))
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("bot.index.storage")]
    assert len(warnings) == 1 and "rebuilding the index" in warnings[0], warnings
    assert "malformed article rows" in warnings[0]
    assert snapshot.changes.reread == 3 and len(snapshot.corpus.articles) == 3
    assert Engine.from_snapshot(snapshot).answer("Which bridge opens in May?").answered


def test_a_restarted_index_finds_each_term_by_the_saved_order_as_the_term_map_does(
    tmp_path: Path,
) -> None:
    IndexStore(CORPUS, tmp_path / "index").load()
    generation = IndexStore(CORPUS, tmp_path / "index").load().generation
    lookup = generation.term_lookup()
    assert isinstance(lookup, TermLookup)  # the map of every term is not made at a start
    vocabulary = generation.vocabulary
    term_ids = {term: i for i, term in enumerate(vocabulary)}
    assert [lookup.get(term) for term in vocabulary] == list(range(len(vocabulary)))
    absent = [
        "",
        "zzzz",
        "aaaa",
        "korea!",
        vocabulary[0] + "x",
        "\uffff",
        *map(str.upper, term_ids),
    ]
    for term in absent:
        assert lookup.get(term) == term_ids.get(term) and (term in lookup) == (term in term_ids)
    with pytest.raises(KeyError):
        lookup["zzzz"]


def _seen_by_the_collector(thing: object) -> bool:
    return any(o is thing for o in gc.get_objects())


def test_what_a_start_and_each_reload_load_is_kept_out_of_the_collector_s_sight(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    _article(folder, "a.txt", "Harbour news\n\nThe harbour board met on Monday.\n")
    gc.unfreeze()  # what earlier tests froze (the session fixture also does this after)
    live = LiveEngine(folder, index_dir=tmp_path / "index")
    started = live.engine
    assert not _seen_by_the_collector(started)  # frozen: full collections skip it
    _article(folder, "b.txt", "Ferry news\n\nThe Quaxly ferry sails at dawn.\n")
    assert live.reload().changed
    assert live.engine is not started and not _seen_by_the_collector(live.engine)
    assert live.engine.answer("When does the Quaxly ferry sail?").answered


def test_an_engine_a_reload_replaced_is_freed_though_it_was_frozen(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    _article(folder, "a.txt", "Harbour news\n\nThe harbour board met on Monday.\n")
    live = LiveEngine(folder, index_dir=tmp_path / "index")
    assert live.engine.answer("When did the harbour board meet?").answered
    started, its_index = weakref.ref(live.engine), weakref.ref(live.engine.index)
    for n in range(3):
        _article(folder, f"b{n}.txt", f"Ferry news\n\nThe Quaxly ferry {n} sails at dawn.\n")
        assert live.reload().changed
        assert started() is None  # freed at once, cycles and all
        # Its index goes once the thread that opens its sentences' terms has ended.
        assert wait_until(lambda gone=its_index: gone() is None)
        started, its_index = weakref.ref(live.engine), weakref.ref(live.engine.index)
    assert live.engine.answer("When does the Quaxly ferry 2 sail?").answered
    assert gc.get_freeze_count() > 0  # what serves stays out of the collector's sight
