"""Compare today's sentence splitter with the one before issue 14 on real text.

Run: PYTHONPATH=. python bench/splitting_agreement.py [wiki_files]
Loads the old splitter from git (commit e10ddef, before the linear rewrite), splits
squad-dev, the news bench and the first wiki_files (8,000) Wikipedia articles with
both, and counts the paragraphs that split differently other than by the length cap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import types
from pathlib import Path

from bot.ingest import splitting

SHARED = Path("/work/shared")
OLD_COMMIT = "e10ddef"


def old_splitter() -> types.ModuleType:
    """Return the splitter module as it was before issue 14."""
    source = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:bot/ingest/splitting.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("old_splitting")
    exec(compile(source, "old_splitting.py", "exec"), module.__dict__)
    return module


def texts(wiki_files: int) -> list[str]:
    """Return squad-dev's articles, the news bench and some Wikipedia articles."""
    found = [
        "\n\n".join(json.loads(line)["paragraphs"])
        for line in (SHARED / "eval/squad-dev/articles.jsonl").open(encoding="utf-8")
    ]
    for name, limit in (("news-articles.tar.gz", None), ("wiki-articles.tar.gz", wiki_files)):
        with tarfile.open(SHARED / "bench" / name) as archive:
            for count, member in enumerate(m for m in archive if m.isfile()):
                if limit is not None and count >= limit:
                    break
                handle = archive.extractfile(member)
                if handle is not None:
                    found.append(handle.read().decode("utf-8"))
    return found


def main() -> None:
    """Print how many sentences agree."""
    wiki_files = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    old = old_splitter()
    sentences = differ = capped = 0
    for text in texts(wiki_files):
        for paragraph in old.split_paragraphs(text):
            before = old.split_sentences(paragraph)
            sentences += len(before)
            if splitting.split_sentences(paragraph) != before:
                if any(len(s) > splitting.MAX_SENTENCE_CHARS for s in before):
                    capped += 1
                else:
                    differ += 1
    print(f"{sentences:,} sentences; paragraphs split differently: {differ}", end=" ")
    print(f"(plus {capped} cut by the {splitting.MAX_SENTENCE_CHARS}-character cap)")


if __name__ == "__main__":
    main()
