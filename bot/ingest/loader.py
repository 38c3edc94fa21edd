"""Load a corpus folder: every .txt and .md file below it is an article."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import yaml

from bot.errors import CorpusError
from bot.ingest.cleaning import clean, normalise
from bot.ingest.models import Article, Sentence
from bot.ingest.splitting import split_paragraphs, split_sentences

ARTICLE_SUFFIXES = (".txt", ".md")
MAX_ARTICLE_BYTES = 20 * 1024 * 1024
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.DOTALL)
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")


@dataclass
class Corpus:
    """The articles of a folder, plus a line for every file that was skipped."""

    root: Path
    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def sentences(self) -> Sequence[Sentence]:
        """List every sentence of every article, in corpus order."""
        return [s for a in self.articles for s in a.sentences]


class SourceFile(NamedTuple):
    """An article file found below the corpus folder, with what stat said of it."""

    location: str  # the path as the operating system takes it
    rel: str  # relative to the corpus folder, with forward slashes
    size: int
    mtime_ns: int

    @property
    def path(self) -> Path:
        """Return the file's path."""
        return Path(self.location)


def scan_folder(root: Path) -> tuple[list[SourceFile], list[str]]:
    """List the article files below root in a stable order, never leaving root.

    Hidden files and folders are left out, linked folders are not entered, and a
    link to a file outside root is skipped with a line in the returned problems.
    The order is that of sorting the paths (by their parts).
    """
    resolved_root = root.resolve()
    found: list[tuple[str, SourceFile]] = []
    problems: list[str] = []

    # Paths sort by their parts: as strings joined by NUL, which sorts before any character.
    def walk(folder: str, key: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            return
        for entry in listed:
            if entry.name[0] == ".":
                continue
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, f"{key}{name}\0", f"{prefix}{name}/")
                    continue
                if not name.lower().endswith(ARTICLE_SUFFIXES):
                    continue
                rel = prefix + name
                # A link that points outside the corpus must not pull in other files.
                if entry.is_symlink():
                    target = Path(entry.path).resolve()
                    if not target.is_relative_to(resolved_root):
                        problems.append(
                            f"skipped {display_name(rel)}: "
                            "it links to a file outside the corpus folder"
                        )
                        continue
                    inside = target.relative_to(resolved_root)
                    if target.suffix.lower() in ARTICLE_SUFFIXES and not any(
                        part.startswith(".") for part in inside.parts
                    ):
                        # The target is listed in its own right: the same passages twice
                        # would crowd out other answers.
                        problems.append(
                            f"skipped {display_name(rel)}: it links to "
                            f"{display_name(inside.as_posix())}, which is indexed already"
                        )
                        continue
                if not entry.is_file():
                    continue
                stat = entry.stat()
            except OSError:
                continue  # vanished or unreadable while listing: not in this listing
            found.append((key + name, SourceFile(entry.path, rel, stat.st_size, stat.st_mtime_ns)))

    walk(str(root), "", "")
    found.sort(key=itemgetter(0))
    return [source for _, source in found], sorted(problems)


def article_files(root: Path) -> list[Path]:
    """List the article files below root in a stable order, never leaving root."""
    return [source.path for source in scan_folder(root)[0]]


@lru_cache(maxsize=1 << 17)
def _slug(text: str, limit: int = 24) -> str:
    # Fold accents ("café" -> "cafe") so keys stay easy to type back.
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not slug and text.strip():
        # A name with no Latin letters ("북한.txt"): a short stable key from its bytes.
        return "a-" + hashlib.blake2b(text.encode(), digest_size=3).hexdigest()
    if len(slug) > limit:
        # Cut at a word boundary so keys stay readable.
        cut = slug[: limit + 1].rfind("-")
        slug = slug[: cut if cut > limit // 2 else limit]
    return slug.strip("-") or "article"


def article_keys(relative_paths: list[str]) -> dict[str, str]:
    """Give each article a short key from its file name, unique and stable."""
    keys: dict[str, str] = {}
    used: set[str] = set()
    for rel in sorted(relative_paths):
        name = rel.rpartition("/")[2]
        base = _slug(name.rpartition(".")[0] or name)
        key, n = base, 2
        while key in used:
            key, n = f"{base}-{n}", n + 1
        used.add(key)
        keys[rel] = key
    return keys


def read_text(path: Path) -> str:
    """Read a file as UTF-8 text, refusing binary files with a clear reason."""
    with path.open("rb") as handle:
        check_size(os.fstat(handle.fileno()).st_size)
        # Bounded: the file may have grown since it was listed.
        data = handle.read(MAX_ARTICLE_BYTES + 1)
    check_size(len(data))
    return decode_text(data)


def display_name(rel: str) -> str:
    """Return a file name fit for a one-line message: control characters shown escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in rel)


def check_size(size: int) -> None:
    """Refuse a file larger than MAX_ARTICLE_BYTES, saying how large it is."""
    if size > MAX_ARTICLE_BYTES:
        raise ValueError(f"is {size / 1e6:.0f} MB, over the {MAX_ARTICLE_BYTES // 2**20} MiB limit")


def decode_text(data: bytes) -> str:
    """Decode the bytes of an article file, refusing binary data with a clear reason."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        wide = data[:8192].decode("utf-16", errors="replace")
        # Almost any even number of bytes decodes as UTF-16: only call it text when it
        # reads as mostly plain letters, else judge the bytes like any others below.
        plain = sum(ch.isascii() and (ch.isalnum() or ch.isspace()) for ch in wide)
        if wide and plain >= 0.6 * len(wide):
            raise ValueError("is UTF-16 text: save it as UTF-8")
    if b"\x00" in data[:8192]:
        raise ValueError("looks binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"is not UTF-8 text (bad byte at offset {exc.start})") from None


def parse_article(text: str, *, rel_path: str, key: str, prefix_citations: bool) -> Article:
    """Turn the text of one file into an article with cited sentences."""
    text = normalise(text)
    meta: dict[str, object] = {}
    if rel_path.lower().endswith(".md"):
        match = _FRONT_MATTER.match(text)
        if match:
            try:
                loaded = yaml.safe_load(match.group(1))
            except yaml.YAMLError as exc:
                raise ValueError(f"has broken front matter: {exc}") from None
            if isinstance(loaded, dict):
                meta = loaded
            text = text[match.end() :]
        text = "\n".join(_MARKDOWN_HEADING.sub("", line) for line in text.splitlines())
    title_meta = meta.get("title")
    cleaned = clean(
        split_paragraphs(text), title=str(title_meta) if title_meta is not None else None
    )
    title = cleaned.title or Path(rel_path).stem.replace("_", " ").replace("-", " ")
    source_meta = meta.get("source")
    source = str(source_meta) if source_meta is not None else cleaned.source
    prefix = f"{key}:" if prefix_citations else ""
    sentences = [Sentence(key, 0, 1, title, f"{prefix}0.1")] if cleaned.title or title_meta else []
    for p_index, paragraph in enumerate(cleaned.paragraphs, start=1):
        for s_index, sentence in enumerate(split_sentences(paragraph), start=1):
            sentences.append(
                Sentence(key, p_index, s_index, sentence, f"{prefix}{p_index}.{s_index}")
            )
    if not any(s.paragraph > 0 for s in sentences):
        raise ValueError("has no sentences")
    return Article(
        key=key,
        path=rel_path,
        title=title,
        source=source,
        url=str(meta["url"]) if meta.get("url") is not None else None,
        date=str(meta["date"]) if meta.get("date") is not None else None,
        sentences=tuple(sentences),
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def load_corpus(root: Path | str) -> Corpus:
    """Load every article below root; unreadable files are named in problems."""
    root = Path(root)
    if not root.exists():
        raise CorpusError(f"corpus folder {root} does not exist")
    if not root.is_dir():
        raise CorpusError(f"corpus path {root} is not a folder")
    sources, skipped = scan_folder(root)
    files = [source.path for source in sources]
    rel_paths = [source.rel for source in sources]
    keys = article_keys(rel_paths)
    corpus = Corpus(root=root, problems=skipped)
    texts: list[tuple[str, str]] = []
    for path, rel in zip(files, rel_paths, strict=True):
        try:
            texts.append((rel, read_text(path)))
        except (OSError, ValueError) as exc:
            corpus.problems.append(f"skipped {display_name(rel)}: {reason(exc)}")
    prefix = len(texts) > 1
    for rel, text in texts:
        if not text.strip():
            corpus.problems.append(f"skipped {display_name(rel)}: the file is empty")
            continue
        try:
            corpus.articles.append(
                parse_article(text, rel_path=rel, key=keys[rel], prefix_citations=prefix)
            )
        except ValueError as exc:
            corpus.problems.append(f"skipped {display_name(rel)}: the file {exc}")
    if not corpus.articles:
        found = f"{len(files)} article file(s), none usable" if files else "no .txt or .md files"
        raise CorpusError(f"corpus folder {root} holds {found}", corpus.problems)
    return corpus


def reason(exc: Exception) -> str:
    """Say why a file could not be read, for a "skipped <file>: <reason>" line."""
    if isinstance(exc, ValueError):
        return f"the file {exc}"
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
