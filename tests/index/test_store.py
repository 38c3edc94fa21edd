"""The saved index: same answers as in memory, incremental, atomic, and safe with bad files."""

from __future__ import annotations

import io
import itertools
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.answer.engine import Engine
from bot.index.aliases import build_aliases
from bot.index.saved import SavedArray
from bot.index.storage import (
    IndexStore,
    ReadError,
    StoreError,
    code_version,
    generations,
    index_folder,
    merging,
    opening,
    parsing,
    saved_size,
)
from bot.index.storage.opening import open_generation
from bot.ingest.loader import CorpusError, load_corpus
from bot.progress import Progress

SEED_ARTICLE = Path(__file__).resolve().parents[2] / "corpus" / "yonhap-nk-asean-sanctions.txt"
QUESTIONS = [
    "What did North Korea do at the ASEAN forum?",
    "Who imposed sanctions?",
    "When does the harbour ferry sail?",
    "Which bridge opens in May?",
    "What is the capital of France?",
]
LONG_AGO = 1_600_000_000  # 2020: older than any racy window


def write(folder: Path, name: str, text: str, *, old: bool = True) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if old:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    os.utime(folder / SEED_ARTICLE.name, (LONG_AGO, LONG_AGO))
    write(folder, "ferry.txt", "Ferry news\n\nThe harbour ferry sails at noon. It is late.\n")
    write(folder, "city/bridge.md", "---\ntitle: Bridge\n---\nThe Zentor bridge opens in May.\n")
    write(folder, "notes/empty.txt", "   \n")
    return folder


def in_memory_engine(folder: Path) -> Engine:
    corpus = load_corpus(folder)
    return Engine(corpus, build_aliases(folder, [s.text for s in corpus.sentences]))


def assert_same_engine(engine: Engine, expected: Engine) -> None:
    assert engine.corpus.problems == expected.corpus.problems
    assert [(a.key, a.path, a.title, a.source, a.content_hash) for a in engine.articles] == [
        (a.key, a.path, a.title, a.source, a.content_hash) for a in expected.articles
    ]
    assert list(engine.sentences) == list(expected.sentences)
    for article, other in zip(engine.articles, expected.articles, strict=True):
        assert list(article.sentences) == list(other.sentences)
        assert article.body_sentence_count == other.body_sentence_count
    for question in QUESTIONS:
        assert engine.answer(question, k=5) == expected.answer(question, k=5)


def postings_by_term(store: IndexStore) -> dict[str, tuple[list[int], list[int]]]:
    generation = store._last
    assert generation is not None
    result = {}
    for i, term in enumerate(generation.vocabulary):
        lo, hi = int(generation.offsets[i]), int(generation.offsets[i + 1])
        result[term] = (generation.docs[lo:hi].tolist(), generation.tf[lo:hi].tolist())
    return result


def test_saved_index_answers_like_the_in_memory_engine(corpus: Path, tmp_path: Path):
    expected = in_memory_engine(corpus)
    built = Engine.from_folder(corpus, index_dir=tmp_path / "index")
    assert_same_engine(built, expected)
    restarted = Engine.from_folder(corpus, index_dir=tmp_path / "index")
    assert_same_engine(restarted, expected)
    assert saved_size(index_folder(corpus, tmp_path / "index")) > 0


def test_the_sentence_table_knows_which_neighbours_share_a_paragraph(corpus: Path):
    sentences = IndexStore(corpus, persist=False).load().corpus.sentences
    expected = [
        a.article_key == b.article_key and a.paragraph == b.paragraph > 0
        for a, b in itertools.pairwise(sentences)
    ]
    assert sentences.same_paragraph().tolist() == expected  # type: ignore[attr-defined]
    part = sentences[3:9]
    assert part.same_paragraph().tolist() == expected[3:8]  # type: ignore[attr-defined]
    assert (
        sentences[::2].same_paragraph().tolist()
        == [  # type: ignore[attr-defined]
            a.article_key == b.article_key and a.paragraph == b.paragraph > 0
            for a, b in zip(sentences[::2], sentences[2::2], strict=False)
        ]
    )


def test_restart_reads_no_file_again(corpus: Path, tmp_path: Path, monkeypatch):
    IndexStore(corpus, tmp_path / "index").load()
    parsed: list[str] = []
    original = parsing.parse_file
    monkeypatch.setattr(
        parsing, "parse_file", lambda rel, *a: parsed.append(rel) or original(rel, *a)
    )
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    assert snapshot.changes.reread == 0
    assert not snapshot.changes.any
    assert parsed == []
    # A saved generation is memory-mapped, not read into memory.
    assert isinstance(snapshot.generation.docs, np.ndarray)
    assert snapshot.generation.folder is not None


def test_a_touched_but_unchanged_file_is_hashed_not_tokenised(corpus: Path, tmp_path: Path):
    IndexStore(corpus, tmp_path / "index").load()
    os.utime(corpus / "ferry.txt", (LONG_AGO + 5, LONG_AGO + 5))
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    assert snapshot.changes.reread == 1
    assert not snapshot.changes.any
    # The new time is saved: the next start trusts it again.
    assert IndexStore(corpus, tmp_path / "index").load().changes.reread == 0


def test_incremental_update_equals_a_fresh_build(corpus: Path, tmp_path: Path, monkeypatch):
    live = IndexStore(corpus, tmp_path / "index")
    live.load()
    write(corpus, "a-first.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
    write(corpus, "ferry.txt", "Ferry news\n\nThe harbour ferry sails at one. It is on time.\n")
    (corpus / "city" / "bridge.md").unlink()
    write(corpus, "zz/last.txt", "Market news\n\nThe fish market moves to the pier in June.\n")
    parsed: list[str] = []
    original = parsing.parse_file
    monkeypatch.setattr(
        parsing, "parse_file", lambda rel, *a: parsed.append(rel) or original(rel, *a)
    )
    snapshot = live.load()
    assert sorted(parsed) == ["a-first.txt", "ferry.txt", "zz/last.txt"]
    assert snapshot.changes.added == ["a-first.txt", "zz/last.txt"]
    assert snapshot.changes.changed == ["ferry.txt"]
    assert snapshot.changes.removed == ["city/bridge.md"]

    fresh = IndexStore(corpus, tmp_path / "fresh")
    fresh_snapshot = fresh.load()
    assert postings_by_term(live) == postings_by_term(fresh)
    new, old = snapshot.generation, fresh_snapshot.generation
    assert np.array_equal(new.lengths, old.lengths)
    # Kept text stays where it was in the pack; new text is appended: compare the sentences.
    assert np.array_equal(new.sentences[:, 2:], old.sentences[:, 2:])
    assert list(snapshot.corpus.sentences) == list(fresh_snapshot.corpus.sentences)
    assert new.text.size > old.text.size
    assert new.avgdl == old.avgdl
    assert new.keys == old.keys and new.prefix == old.prefix
    assert_same_engine(Engine.from_snapshot(snapshot), in_memory_engine(corpus))


def test_a_pack_of_mostly_dead_text_is_compacted(corpus: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(merging, "COMPACT_FROM", 0)
    store = IndexStore(corpus, tmp_path / "index")
    first = store.load().generation
    (corpus / SEED_ARTICLE.name).unlink()  # most of the text
    write(corpus, "ferry.txt", "Ferry news\n\nThe ferry is cancelled.\n")
    snapshot = store.load()
    generation = snapshot.generation
    assert generation.pack != first.pack
    live = int((generation.sentences[:, 1] - generation.sentences[:, 0]).sum())
    assert generation.text.size == live
    assert_same_engine(Engine.from_snapshot(snapshot), in_memory_engine(corpus))
    store_folder = index_folder(corpus, tmp_path / "index")
    packs = sorted(p.name for p in store_folder.glob("text-*.bin"))
    assert generation.pack in packs
    assert_same_engine(
        Engine.from_folder(corpus, index_dir=tmp_path / "index"), in_memory_engine(corpus)
    )


def test_a_reload_serves_at_once_and_saves_in_the_background(corpus: Path, tmp_path: Path):
    store = IndexStore(corpus, tmp_path / "index")
    store.load()
    write(corpus, "tunnel.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
    snapshot = store.load(strict=True)
    engine = Engine.from_snapshot(snapshot)
    before = engine.answer("When does the Plimbo tunnel close?", k=5)
    assert before.answered
    store.wait_saved()
    # The same engine now reads the saved files (by pread, see bot.index.saved): same answers.
    assert isinstance(snapshot.index.contributions, SavedArray)
    assert engine.answer("When does the Plimbo tunnel close?", k=5) == before
    assert list(engine.sentences) == list(in_memory_engine(corpus).sentences)
    restarted = IndexStore(corpus, tmp_path / "index").load()
    assert not restarted.changes.any
    assert_same_engine(Engine.from_snapshot(restarted), in_memory_engine(corpus))


@pytest.mark.parametrize(
    "damage",
    [
        "truncate docs.npy",
        "flip a byte of contrib.npy",
        "flip a byte of the text pack",
        "garbage meta.json",
        "foreign meta.json",
        "delete vocab.txt",
        "garbage CURRENT",
        "another version",
    ],
)
def test_a_damaged_index_is_reported_once_and_rebuilt(
    damage: str, corpus: Path, tmp_path: Path, caplog, monkeypatch
):
    IndexStore(corpus, tmp_path / "index").load()
    store_folder = index_folder(corpus, tmp_path / "index")
    generation = store_folder / (store_folder / "CURRENT").read_text().strip()
    if damage.startswith("truncate"):
        path = generation / "docs.npy"
        path.write_bytes(path.read_bytes()[:-7])
    elif damage == "flip a byte of the text pack":
        path = next(store_folder.glob("text-*.bin"))
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage.startswith("flip"):
        path = generation / damage.split()[-1]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "garbage meta.json":
        (generation / "meta.json").write_bytes(b"\x00\x01 not an index")
    elif damage == "foreign meta.json":
        (generation / "meta.json").write_text('{"some": "other program"}')
    elif damage == "delete vocab.txt":
        (generation / "vocab.txt").unlink()
    elif damage == "garbage CURRENT":
        (store_folder / "CURRENT").write_text("../../etc\n")
    else:
        for module in (generations, opening):  # what saves, and what opens
            monkeypatch.setattr(module, "code_version", lambda: "a-newer-version")
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    engine = Engine.from_folder(corpus, index_dir=tmp_path / "index")
    warnings = [r for r in caplog.records if r.name.startswith("bot.index.storage")]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "rebuilding the index" in warnings[0].getMessage()
    assert_same_engine(engine, in_memory_engine(corpus))
    # The rebuilt index is good again.
    caplog.clear()
    assert IndexStore(corpus, tmp_path / "index").load().changes.reread == 0
    assert not [r for r in caplog.records if r.name.startswith("bot.index.storage")]


def test_an_index_of_another_folder_is_not_used(corpus: Path, tmp_path: Path):
    IndexStore(corpus, tmp_path / "index").load()
    other = tmp_path / "other"
    shutil.copytree(corpus, other)
    store_folder = index_folder(corpus, tmp_path / "index")
    with pytest.raises(StoreError, match="another corpus folder"):
        open_generation(store_folder, other)


def test_a_crash_while_saving_keeps_the_previous_index(corpus: Path, tmp_path: Path, monkeypatch):
    IndexStore(corpus, tmp_path / "index").load()
    store_folder = index_folder(corpus, tmp_path / "index")
    before = (store_folder / "CURRENT").read_text()
    write(corpus, "new.txt", "New\n\nThe Quorvex plan was approved.\n")

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(generations, "write_array", crash)
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    # Answers are still fresh (served from memory), the old generation is intact.
    assert Engine.from_snapshot(snapshot).answer("What about the Quorvex plan?").answered
    assert (store_folder / "CURRENT").read_text() == before
    assert not [p for p in store_folder.iterdir() if p.name.startswith("tmp-")]
    monkeypatch.undo()
    assert open_generation(store_folder, corpus) is not None
    assert IndexStore(corpus, tmp_path / "index").load().changes.added == ["new.txt"]


def test_the_index_folder_is_per_corpus_and_defaults_to_the_cache(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    a = index_folder(tmp_path / "news")
    b = index_folder(tmp_path / "other" / "news")
    assert a.parent == tmp_path / "cache" / "qabot" / "index"
    assert a != b and a.name.startswith("news-")
    assert index_folder(tmp_path / "news", tmp_path / "mine").parent == tmp_path / "mine"
    assert len(code_version()) == 20


# --- bad input --------------------------------------------------------------------------


def test_a_huge_file_is_skipped_without_being_read(corpus: Path, tmp_path: Path, monkeypatch):
    huge = corpus / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB that take no disk
    reads: list[str] = []
    original = parsing.read_article
    monkeypatch.setattr(
        parsing, "read_article", lambda root, rel: reads.append(rel) or original(root, rel)
    )
    engine = Engine.from_folder(corpus, index_dir=tmp_path / "index")
    assert "skipped huge.txt: the file is 105 MB, over the 20 MiB limit" in engine.corpus.problems
    assert not any(r.endswith("huge.txt") for r in reads)
    assert engine.answer("Who imposed sanctions?").answered


def test_a_link_out_of_the_folder_is_not_followed(corpus: Path, tmp_path: Path):
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nThe vault code is Xylophone.\n")
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "inside.txt").symlink_to(corpus / "ferry.txt")
    engine = Engine.from_folder(corpus, index_dir=tmp_path / "index")
    assert "skipped link.txt: it links to a file outside the corpus folder" in (
        engine.corpus.problems
    )
    assert not engine.answer("What is the vault code Xylophone?").answered
    # A link to another article inside the corpus would index the same passages twice.
    assert "inside.txt" not in [a.path for a in engine.articles]
    assert "skipped inside.txt: it links to ferry.txt, which is indexed already" in (
        engine.corpus.problems
    )


def test_binary_and_non_utf8_files_are_skipped_and_remembered(corpus: Path, tmp_path: Path):
    (corpus / "image.txt").write_bytes(b"\x89PNG\x00\x00\x00")
    (corpus / "latin.txt").write_bytes("Caf\xe9 news\n\nThe caf\xe9 opens.\n".encode("latin-1"))
    engine = Engine.from_folder(corpus, index_dir=tmp_path / "index")
    assert engine.corpus.problems == in_memory_engine(corpus).corpus.problems
    assert any("image.txt: the file looks binary" in p for p in engine.corpus.problems)
    for name in ("image.txt", "latin.txt"):
        os.utime(corpus / name, (LONG_AGO, LONG_AGO))
    IndexStore(corpus, tmp_path / "index").load()
    again = IndexStore(corpus, tmp_path / "index").load()
    assert again.changes.reread == 0
    assert any("latin.txt: the file is not UTF-8" in p for p in again.corpus.problems)


def test_a_file_that_vanishes_mid_reload_counts_as_removed(corpus: Path, tmp_path: Path):
    store = IndexStore(corpus, tmp_path / "index")
    store.load()
    write(corpus, "ferry.txt", "Ferry news\n\nThe ferry is cancelled.\n", old=False)
    original = parsing.read_article

    def vanish(root: str, rel: str):
        (Path(root) / rel).unlink()
        return original(root, rel)

    parsing.read_article, saved = vanish, parsing.read_article
    try:
        snapshot = store.load(strict=True)
    finally:
        parsing.read_article = saved
    assert snapshot.changes.removed == ["ferry.txt"]
    assert not (corpus / "ferry.txt").exists()
    assert original is saved


def test_an_unreadable_file_fails_a_reload_but_is_skipped_at_start(
    corpus: Path, tmp_path: Path, monkeypatch
):
    store = IndexStore(corpus, tmp_path / "index")
    store.load()
    write(corpus, "ferry.txt", "Ferry news\n\nThe ferry is cancelled.\n", old=False)
    original = parsing.read_article

    def refuse(root: str, rel: str):
        if rel.endswith("ferry.txt"):
            raise PermissionError(13, "Permission denied")
        return original(root, rel)

    monkeypatch.setattr(parsing, "read_article", refuse)
    with pytest.raises(ReadError, match=r"cannot read ferry.txt \(Permission denied\)"):
        store.load(strict=True)
    # At start there is no last good index: the file is skipped and named.
    snapshot = IndexStore(corpus, tmp_path / "other-index").load()
    assert "skipped ferry.txt: Permission denied" in snapshot.corpus.problems
    monkeypatch.undo()
    assert store.load(strict=True).changes.changed == ["ferry.txt"]


def test_a_folder_of_thousands_of_tiny_files(tmp_path: Path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for i in range(2500):
        (folder / f"note-{i:05d}.txt").write_text(
            f"Note {i}\n\nThe report number {i} mentions code x{i:05d}.\n"
        )
    engine = Engine.from_folder(folder, index_dir=tmp_path / "index", progress=Progress())
    assert len(engine.articles) == 2500
    answer = engine.answer("Which report mentions code x01234?")
    assert answer.answered and "x01234" in answer.passages[0].text
    restarted = Engine.from_folder(folder, index_dir=tmp_path / "index")
    assert (
        restarted.answer("Which report mentions code x02499?")
        .passages[0]
        .citation.startswith("note-02499:")
    )


def test_a_folder_without_articles_is_an_error(tmp_path: Path):
    with pytest.raises(CorpusError, match=r"no \.txt or \.md files"):
        IndexStore(tmp_path, tmp_path / "index").load()
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(CorpusError, match="none usable") as raised:
        IndexStore(tmp_path, tmp_path / "index").load()
    assert raised.value.problems == ["skipped empty.txt: the file is empty"]
    with pytest.raises(CorpusError, match="does not exist"):
        IndexStore(tmp_path / "missing").load()


# --- progress ----------------------------------------------------------------------------


def test_progress_logs_plain_lines_when_not_on_a_terminal(corpus: Path, tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="bot.progress")
    progress = Progress(stream=io.StringIO(), quiet_below=0.0, interval=0.0)
    IndexStore(corpus, tmp_path / "index", progress=progress).load()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.progress"]
    assert any(line.startswith("reading articles: 4 articles in") for line in lines)
    assert any("reading articles: 1/4 articles" in line for line in lines)


def test_progress_draws_a_bar_on_a_terminal(corpus: Path, tmp_path: Path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    IndexStore(corpus, tmp_path / "index", progress=Progress(stream=screen, quiet_below=0)).load()
    # tqdm's bar: phase, count done of total, rate, time left.
    shown = screen.getvalue()
    assert "reading articles:" in shown and "/4 [" in shown and "articles/s" in shown
