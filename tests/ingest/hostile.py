"""Run a piece of ingest code on a hostile input in a child process, with a generous cap.

A regex that backtracks holds the GIL, so a thread cannot be timed out; a child
process can. The caps are minutes-generous: the fixed code takes milliseconds,
the old code took minutes or forever.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

CAP_SECONDS = 60


def finishes(code: str, cap: float = CAP_SECONDS) -> str:
    """Run code (which may use split_paragraphs, split_sentences) and return its output.

    Fails the test when the child has not finished within cap seconds.
    """
    prelude = "from bot.ingest.splitting import split_paragraphs, split_sentences\n"
    try:
        done = subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=cap,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running after {cap} s: {code.strip()[:80]}") from None
    assert done.returncode == 0, done.stderr
    return done.stdout


SEED = Path(__file__).parents[2] / "corpus"
ARTICLE = "yonhap-nk-asean-sanctions.txt"
BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    + "title: *i\n"
)


def build_hostile_corpus(folder: Path, scale: int = 1) -> dict[str, str]:
    """Fill folder with the shipped article and every hostile file of issue 14.

    scale multiplies the size of the large files (1: small enough for the test
    suite, yet of the same shape; 100: the sizes the issue reported). Returns, for
    each file that must be skipped, its name as a skipped line shows it and the
    words that say why; the files not listed are read (cut where they must be).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ARTICLE).write_bytes((SEED / ARTICLE).read_bytes())
    # The shipped aliases plus 5,000 groups sharing its names (49-151 s per question).
    shared = [f'"zq group {i}" = ["{("NK", "ASEAN")[i % 2]}", "zq name {i}"]' for i in range(5000)]
    aliases = (SEED / "aliases.toml").read_text(encoding="utf-8")
    (folder / "aliases.toml").write_text(aliases + "\n".join(shared) + "\n", encoding="utf-8")
    # Read, split in linear time (these froze or crawled the old splitter).
    (folder / "mister.txt").write_text("Mr. X Mr. Y " * 10_000 * scale)
    (folder / "one-line.txt").write_text("Officials met in Hanoi on Friday. " * 6_000 * scale)
    (folder / "no-stop.txt").write_text("the envoy waited in Hanoi and " * 6_000 * scale)
    (folder / "terminal.md").write_text(
        '---\ntitle: "Red \\e[31malert\\e[0m \\e]0;owned\\a"\n---\nTerminal escapes in a title.\n'
    )
    skipped: dict[str, str] = {}

    def refuse(name: str, data: bytes | str, why: str) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        skipped[name] = why

    # Split in linear time, then left out: no sentence of them has a letter or digit.
    refuse("dots.txt", "." * 200_000 * scale, "has no sentences (no letters or digits)")
    refuse("bangs.txt", "!?" * 100_000 * scale, "has no sentences (no letters or digits)")
    refuse("laughs.md", f"---\n{BILLION_LAUGHS}---\nLol.\n", "YAML anchor or alias")
    refuse("deep.md", "---\na: " + "[" * 5000 + "]" * 5000 + "\n---\nDeep.\n", "nested deeper")
    refuse("broken.md", "---\ntitle: [unclosed\n---\nBroken.\n", "broken front matter (line")
    refuse("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary")
    refuse("wide.txt", "UTF-16 text".encode("utf-16"), "UTF-16")
    refuse("latin1-text.txt", b"caf\xe9 au lait", "not UTF-8 text")
    refuse("empty.md", "", "empty")
    (folder / "\x1b[31mred.txt").write_text("Red\n\nA file name with a terminal escape.\n")
    with open(folder / "huge.txt", "wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)  # sparse: nothing written
    skipped["huge.txt"] = "over the 20 MiB limit"
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"Cafe\n\nThe cafe is open.\n")
    skipped["caf\\xe9.txt"] = "not UTF-8 text (rename it)"
    if os.name == "posix":
        os.mkfifo(folder / "pipe.txt")
        skipped["pipe.txt"] = "FIFO, not a regular file"
        (folder / "self.txt").symlink_to("self.txt")
        skipped["self.txt"] = "link that loops"
        (folder / "ping.md").symlink_to("pong.md")
        (folder / "pong.md").symlink_to("ping.md")
        skipped["ping.md"] = skipped["pong.md"] = "link that loops"
        (folder / "passwd.txt").symlink_to("/etc/passwd")
        skipped["passwd.txt"] = "outside the corpus folder"
    deep = folder
    for _ in range(1200):
        deep = deep / "d"
        try:
            deep.mkdir()
        except OSError:
            break  # the path grew too long for this filesystem: deep enough
    skipped["d/" * 33] = "nested deeper than 32 levels"
    return skipped


def remove_tree(folder: Path) -> None:
    """Remove a folder with 1,200 levels below it (shutil.rmtree and os.walk recurse)."""
    pending = [os.fsencode(folder)]
    emptied: list[bytes] = []
    while pending:
        here = pending.pop()
        emptied.append(here)
        with os.scandir(here) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    os.unlink(entry.path)
    for here in reversed(emptied):
        os.rmdir(here)
