"""The folder walk: names that are not UTF-8, links that loop, folders nested without end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.ingest import loader
from bot.ingest.loader import MAX_FOLDER_DEPTH, display_name, load_corpus, scan_folder

ARTICLE = "Headline\n\nA sentence about the envoy in Seoul.\n"
posix_only = pytest.mark.skipif(os.name != "posix", reason="byte file names and links as on POSIX")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "real.txt").write_text(ARTICLE)
    return tmp_path


@posix_only
def test_a_latin1_file_name_is_skipped_with_its_name_escaped(corpus: Path) -> None:
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.txt"), "wb") as handle:
        handle.write(ARTICLE.encode())
    os.mkdir(os.path.join(os.fsencode(corpus), b"\xff-folder"))
    loaded = load_corpus(corpus)
    assert [a.path for a in loaded.articles] == ["real.txt"]
    assert loaded.problems == [
        "skipped \\xff-folder/: the folder name is not UTF-8 text (rename it)",
        "skipped caf\\xe9.txt: the file name is not UTF-8 text (rename it)",
    ]


def test_display_name_escapes_raw_bytes_and_controls() -> None:
    assert display_name("caf\udce9/\x1b[2Jx\n.txt") == "caf\\xe9/\\x1b[2Jx\\n.txt"
    assert display_name("북한 café.txt") == "북한 café.txt"


@posix_only
def test_links_that_loop_or_lead_nowhere_cost_one_line_each(corpus: Path) -> None:
    (corpus / "self.txt").symlink_to("self.txt")
    (corpus / "ping.md").symlink_to("pong.md")
    (corpus / "pong.md").symlink_to("ping.md")
    (corpus / "gone.txt").symlink_to("nowhere.txt")
    loaded = load_corpus(corpus)
    assert [a.path for a in loaded.articles] == ["real.txt"]
    assert loaded.problems == [
        "skipped gone.txt: it is a link to a file that does not exist",
        "skipped ping.md: it is a link that loops",
        "skipped pong.md: it is a link that loops",
        "skipped self.txt: it is a link that loops",
    ]


def test_1200_nested_folders_cost_one_line(corpus: Path) -> None:
    # 1,200 levels crashed every start (RecursionError in the recursive walk).
    chain = [corpus / "d"]
    try:
        for _ in range(1200):
            try:
                chain[-1].mkdir()
            except OSError:
                chain.pop()
                break  # the path grew too long for this filesystem: deep enough
            chain.append(chain[-1] / "d")
        chain.pop()
        (chain[-1] / "deep.txt").write_text(ARTICLE)
        (corpus / "d" / "d" / "shallow.txt").write_text(ARTICLE)
        loaded = load_corpus(corpus)
        assert [a.path for a in loaded.articles] == ["d/d/shallow.txt", "real.txt"]
        too_deep = "d/" * (MAX_FOLDER_DEPTH + 1)
        assert loaded.problems == [
            f"skipped {too_deep}: folders nested deeper than {MAX_FOLDER_DEPTH} levels are not read"
        ]
    finally:
        remove_chain(chain)


def remove_chain(chain: list[Path]) -> None:
    """Remove nested folders from the bottom up (shutil.rmtree recurses and cannot)."""
    for folder in reversed(chain):
        for child in folder.glob("*.txt"):
            child.unlink()
        folder.rmdir()


def test_the_walk_order_is_the_sorted_paths(corpus: Path) -> None:
    for rel in ["b/a.txt", "a/z.txt", "a-b.txt", "a/b/c.md", "A.txt"]:
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text(ARTICLE)
    sources, problems = scan_folder(corpus)
    rels = [s.rel for s in sources]
    assert rels == sorted(rels, key=lambda r: r.split("/"))
    assert problems == []


def test_a_folder_that_cannot_be_listed_costs_one_line(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As root in CI a chmod 000 folder is still readable: refuse its listing instead.
    (corpus / "locked").mkdir()
    (corpus / "locked" / "x.txt").write_text(ARTICLE)
    real_scandir = os.scandir

    def scandir(path: str):  # type: ignore[no-untyped-def]
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(loader.os, "scandir", scandir)
    loaded = load_corpus(corpus)
    assert [a.path for a in loaded.articles] == ["real.txt"]
    assert loaded.problems == ["skipped locked/: Permission denied"]
