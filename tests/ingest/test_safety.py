"""Corpus safety: links out of the folder, hostile file names, huge, binary and special files."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from bot.ingest.loader import MAX_ARTICLE_BYTES, CorpusError, load_corpus

ARTICLE = "Headline\n\nA sentence about the envoy in Seoul.\n"
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
posix_only = pytest.mark.skipif(os.name != "posix", reason="links and FIFOs as on POSIX")


def load_in_time(folder: Path) -> list[str]:
    """Load a corpus in a thread, failing (not hanging) if a file blocks the reader."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(_load(folder)), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "loading the corpus blocked"
    outcome = result[0]
    if isinstance(outcome, BaseException):
        raise outcome
    assert isinstance(outcome, list)
    return outcome


def _load(folder: Path) -> list[str] | BaseException:
    try:
        corpus = load_corpus(folder)
    except CorpusError as exc:
        return exc
    return [a.path for a in corpus.articles] + [f"problem: {p}" for p in corpus.problems]


@posix_only
def test_links_leading_out_of_the_folder_are_not_followed(layout: tuple[Path, Path]) -> None:
    corpus, outside = layout
    (corpus / "absolute.txt").symlink_to(outside / "secret.txt")
    (corpus / "relative.md").symlink_to(Path("..") / "outside" / "secret.txt")
    (corpus / "hop.txt").symlink_to(corpus / "absolute.txt")  # a link to a link out
    (corpus / "folder").symlink_to(outside, target_is_directory=True)
    (corpus / "etc.txt").symlink_to("/etc/passwd")
    (corpus / "zero.txt").symlink_to("/dev/zero")
    found = load_in_time(corpus)
    assert found[0] == "real.txt"
    assert sorted(found[1:]) == [
        f"problem: skipped {name}: it links to a file outside the corpus folder"
        for name in ("absolute.txt", "etc.txt", "hop.txt", "relative.md", "zero.txt")
    ]  # and the linked folder is not entered at all


@posix_only
def test_a_corpus_folder_reached_through_a_link_still_loads(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    corpus, _ = layout
    (corpus / "inside.txt").symlink_to(corpus / "real.txt")  # a second copy: left out
    via = tmp_path / "via"
    via.symlink_to(corpus, target_is_directory=True)
    assert load_in_time(via) == [
        "real.txt",
        "problem: skipped inside.txt: it links to real.txt, which is indexed already",
    ]


@posix_only
def test_special_files_are_not_read(layout: tuple[Path, Path]) -> None:
    corpus, _ = layout
    os.mkfifo(corpus / "pipe.txt")  # reading it would block forever
    (corpus / "dir.txt").mkdir()
    (corpus / "dir.txt" / "inner.txt").write_text(ARTICLE)
    assert load_in_time(corpus) == [
        "dir.txt/inner.txt",
        "real.txt",
        "problem: skipped pipe.txt: the file is a FIFO, not a regular file",
    ]


def test_hostile_file_names_give_slug_keys_inside_the_folder(tmp_path: Path) -> None:
    names = [
        "..x.txt",  # hidden: left out
        "...txt",
        "..\\..\\x.txt",
        "-.txt",
        "_.txt",
        " .txt",
        "CON.txt",
        "new\nline.txt",
        "tab\there.txt",
        "한국어 기사.txt",
        "emoji 😀.md",
        "<@&123> @everyone.txt",
        "%2e%2e%2fpasswd.txt",
        "a" * 200 + ".txt",
    ]
    for name in names:
        (tmp_path / name).write_text(ARTICLE)
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "deeper" / "x.txt").write_text(ARTICLE)
    corpus = load_corpus(tmp_path)
    paths = [a.path for a in corpus.articles]
    hidden = [name for name in names if name.startswith(".")]
    assert not set(hidden) & set(paths)
    assert len(paths) == len(names) - len(hidden) + 1
    keys = [a.key for a in corpus.articles]
    assert len(set(keys)) == len(keys)
    for article in corpus.articles:
        assert SLUG.fullmatch(article.key), article.key
        assert len(article.key) <= 30
        assert (tmp_path / article.path).resolve().is_relative_to(tmp_path.resolve())
        assert all(s.citation.startswith(f"{article.key}:") for s in article.sentences)


def test_a_huge_file_is_refused_by_its_size_without_being_read(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text(ARTICLE)
    with (tmp_path / "huge.txt").open("wb") as handle:
        handle.truncate(MAX_ARTICLE_BYTES + 1)  # sparse: no 20 MiB written to disk
    assert load_in_time(tmp_path) == [
        "real.txt",
        "problem: skipped huge.txt: the file is 21 MB, over the 20 MiB limit",
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the file looks binary, not text"),
        ("UTF-16 text".encode("utf-16"), "the file is UTF-16 text: save it as UTF-8"),
        (b"\xe9\xfe\xfd caf\xe9", "the file is not UTF-8 text (bad byte at offset 0)"),
        (b"\x7fELF\x02\x01\x01\x00", "the file looks binary, not text"),
    ],
)
def test_binary_files_are_refused_with_a_clear_reason(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    (tmp_path / "real.txt").write_text(ARTICLE)
    (tmp_path / "blob.txt").write_bytes(data)
    assert load_in_time(tmp_path) == ["real.txt", f"problem: skipped blob.txt: {reason}"]


def test_a_folder_of_only_unusable_files_says_why(tmp_path: Path) -> None:
    (tmp_path / "blob.md").write_bytes(b"\x00" * 100)
    with pytest.raises(CorpusError, match="1 article file") as info:
        load_corpus(tmp_path)
    assert info.value.problems == ["skipped blob.md: the file looks binary, not text"]
