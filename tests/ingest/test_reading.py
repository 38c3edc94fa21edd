"""Opening article files: what the folder holds when it is read, not when it was listed."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ingest import loader
from bot.ingest.loader import load_corpus, scan_folder
from bot.ingest.reading import MAX_ARTICLE_BYTES, read_article
from tests.ingest.conftest import ARTICLE, SECRET

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and links as on POSIX")


def in_time(work: Callable[[], object]) -> object:
    """Run work in a thread (a blocked open releases the GIL) and fail if it hangs."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # handed to the test below
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "reading the file blocked"
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def swap_after_listing(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """Make load_corpus list the folder, then change it before the files are read."""
    listed = scan_folder

    def scan_then_change(root: Path) -> tuple[list[loader.SourceFile], list[str]]:
        found = listed(root)
        change()
        return found

    monkeypatch.setattr(loader, "scan_folder", scan_then_change)


def sentences_of(folder: Path) -> tuple[list[str], list[str]]:
    corpus = in_time(lambda: load_corpus(folder))
    assert isinstance(corpus, loader.Corpus)
    return [s.text for s in corpus.sentences], corpus.problems


@posix_only
def test_a_fifo_swapped_in_after_listing_does_not_hang(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, _ = layout
    (corpus / "swapped.txt").write_text(ARTICLE)

    def swap() -> None:
        (corpus / "swapped.txt").unlink()
        os.mkfifo(corpus / "swapped.txt")  # a plain open() would wait for a writer for ever

    swap_after_listing(monkeypatch, swap)
    texts, problems = sentences_of(corpus)
    assert texts == ["Headline", "A sentence about the envoy in Seoul."]
    assert problems == ["skipped swapped.txt: the file is a FIFO, not a regular file"]


@posix_only
def test_a_link_re_pointed_after_listing_is_not_followed_out(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, outside = layout
    (corpus / "data").mkdir()
    (corpus / "data" / "notes.dat").write_text(ARTICLE)
    (corpus / "link.txt").symlink_to(Path("data") / "notes.dat")  # allowed: inside

    def repoint() -> None:
        (corpus / "link.txt").unlink()
        (corpus / "link.txt").symlink_to(outside / "secret.txt")

    swap_after_listing(monkeypatch, repoint)
    texts, problems = sentences_of(corpus)
    assert not any("hunter2" in text for text in texts)
    assert problems == ["skipped link.txt: the file is a link that leads outside the corpus folder"]


@posix_only
def test_a_folder_replaced_by_a_link_after_listing_is_not_entered(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, outside = layout
    (corpus / "sub").mkdir()
    (corpus / "sub" / "secret.txt").write_text(ARTICLE)

    def replace() -> None:
        (corpus / "sub").rename(corpus / "sub.old")
        (corpus / "sub").symlink_to(outside, target_is_directory=True)

    swap_after_listing(monkeypatch, replace)
    texts, problems = sentences_of(corpus)
    assert not any("hunter2" in text for text in texts)
    assert problems == [
        "skipped sub/secret.txt: the file is a link that leads outside the corpus folder"
    ]


@posix_only
def test_a_link_inside_the_folder_is_read(layout: tuple[Path, Path]) -> None:
    corpus, _ = layout
    (corpus / ".store").mkdir()
    (corpus / ".store" / "kept.dat").write_text(SECRET)
    (corpus / "kept.txt").symlink_to(Path(".store") / "kept.dat")
    data, info = read_article(corpus, "kept.txt")
    assert data == SECRET.encode() and info.st_size == len(data)


@posix_only
def test_special_and_oversized_files_are_refused_by_their_descriptor(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "dir.txt").mkdir()
    with (tmp_path / "huge.txt").open("wb") as handle:
        handle.truncate(MAX_ARTICLE_BYTES + 1)  # sparse
    with pytest.raises(ValueError, match="is a FIFO, not a regular file"):
        in_time(lambda: read_article(tmp_path, "pipe.txt"))
    with pytest.raises(ValueError, match="is a folder, not a regular file"):
        read_article(tmp_path, "dir.txt")
    with pytest.raises(ValueError, match="over the 20 MiB limit"):
        read_article(tmp_path, "huge.txt")
    with pytest.raises(FileNotFoundError):
        read_article(tmp_path, "gone.txt")
    with pytest.raises(ValueError, match="leaves the corpus folder"):
        read_article(tmp_path, "../x.txt")


@posix_only
def test_the_saved_index_store_reads_through_the_same_checks(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The store (what the CLI and the bot use) hung on a FIFO swapped in after its listing
    # and indexed a re-pointed link's outside target.
    from bot.index.storage import loading
    from bot.live import LiveEngine

    corpus, outside = layout
    (corpus / "swapped.txt").write_text(ARTICLE)
    (corpus / "data").mkdir()
    (corpus / "data" / "notes.dat").write_text(ARTICLE)
    (corpus / "link.txt").symlink_to(Path("data") / "notes.dat")
    listed = loading.scan_folder

    def scan_then_change(root: Path) -> tuple[list[loader.SourceFile], list[str]]:
        found = listed(root)
        (corpus / "swapped.txt").unlink()
        os.mkfifo(corpus / "swapped.txt")
        (corpus / "link.txt").unlink()
        (corpus / "link.txt").symlink_to(outside / "secret.txt")
        return found

    monkeypatch.setattr(loading, "scan_folder", scan_then_change)
    live = in_time(lambda: LiveEngine(corpus, index_dir=tmp_path / "index"))
    assert isinstance(live, LiveEngine)
    texts = [s.text for s in live.engine.corpus.sentences]
    assert not any("hunter2" in text for text in texts)
    assert sorted(live.engine.corpus.problems) == [
        "skipped link.txt: the file is a link that leads outside the corpus folder",
        "skipped swapped.txt: the file is a FIFO, not a regular file",
    ]
    live.wait_saved(60)
