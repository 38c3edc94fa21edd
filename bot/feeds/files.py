"""Write a fetched article into the corpus folder as a .md file with front matter, atomically.

The file is written beside its final name under a hidden temporary name (the
loader and the folder watcher skip hidden files), flushed to disk and renamed
over the final name, so the live reload sees either the old file or the new
one, never half of one. Front-matter values are JSON strings, which YAML reads
as double-quoted scalars: no value can open a YAML tag, alias or block.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

FRONT_MATTER_FIELDS = ("title", "source", "url", "date", "author", "feed")
_NAME_LIMIT = 60


@dataclass(frozen=True)
class SavedArticle:
    """What goes into one article file."""

    title: str
    text: str  # paragraphs separated by blank lines
    url: str
    source: str | None = None
    date: str | None = None
    author: str | None = None
    feed: str | None = None

    def render(self) -> str:
        """Return the file's contents: front matter, then the text."""
        lines = ["---"]
        for name in FRONT_MATTER_FIELDS:
            value = getattr(self, name)
            if value:
                lines.append(f"{name}: {json.dumps(_one_line(value), ensure_ascii=False)}")
        lines.append("---")
        return "\n".join(lines) + "\n\n" + self.text.strip() + "\n"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def slug(text: str, limit: int = _NAME_LIMIT) -> str:
    """Make a file-name-safe slug of text (ASCII letters, digits and dashes)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(value) > limit:
        cut = value[: limit + 1].rfind("-")
        value = value[: cut if cut > limit // 2 else limit].strip("-")
    return value


def choose_path(corpus: Path, article: SavedArticle, taken: set[str]) -> str:
    """Pick a new relative path for an article, never one in use: <site>/<yyyy-mm>/<title>.md.

    The file name starts with the title, not the date, because the article's key
    (the citation prefix, as in "n-korea-striving:3.1") is made from it.
    """
    host = urlsplit(article.url).hostname or "web"
    folder = slug(host.removeprefix("www."), 40) or "web"
    if article.date:
        folder = f"{folder}/{article.date[:7]}"
    stem = slug(article.title) or slug(urlsplit(article.url).path) or "article"
    rel, n = f"{folder}/{stem}.md", 2
    while rel in taken or (corpus / rel).exists():
        rel, n = f"{folder}/{stem}-{n}.md", n + 1
    return rel


def write_atomically(path: Path, text: str) -> None:
    """Write text to path by a hidden temporary file renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_SAVED_URL = re.compile(r'^url: (".*")$', re.MULTILINE)
_SAVED_FEED = re.compile(r'^feed: (".*")$', re.MULTILINE)


def saved_files(corpus: Path) -> Iterator[tuple[str, str, str | None, str]]:
    """Yield (relative path, url, feed, text) of the .md files below corpus that name a url.

    Hidden folders (the state folder among them) are left out.
    """
    for path in sorted(corpus.rglob("*.md")):
        rel = path.relative_to(corpus)
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not text.startswith("---\n"):
            continue
        head, found, body = text[4:].partition("\n---\n")
        url = _quoted(_SAVED_URL, head) if found else None
        if url is not None:
            yield rel.as_posix(), url, _quoted(_SAVED_FEED, head), body


def _quoted(pattern: re.Pattern[str], head: str) -> str | None:
    match = pattern.search(head)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, str) else None
