"""Load a corpus folder: every .txt and .md file below it is an article."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from stat import S_ISREG
from typing import NamedTuple

from bot.errors import CorpusError
from bot.ingest.cleaning import clean, normalise, plain_text
from bot.ingest.datelines import dateline_date
from bot.ingest.frontmatter import FrontMatter, read_front_matter, split_front_matter
from bot.ingest.models import Article, Sentence
from bot.ingest.reading import MAX_ARTICLE_BYTES as MAX_ARTICLE_BYTES
from bot.ingest.reading import check_size as check_size
from bot.ingest.reading import read_article, special_kind
from bot.ingest.splitting import split_paragraphs, split_sentences

ARTICLE_SUFFIXES = (".txt", ".md")
# Deeper folders are skipped with a line: no archive needs more, and a walk stays bounded.
MAX_FOLDER_DEPTH = 32
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
_WORD_CHARACTER = re.compile(r"[^\W_]")


@dataclass
class Corpus:
    """The articles of a folder, plus a line for every file that was skipped."""

    root: Path
    articles: Sequence[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_key(self) -> Mapping[str, Article]:
        """Map each article's key to the article."""
        return {a.key: a for a in self.articles}

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
    inode: int = 0  # a file replaced (renamed over) is another file, whatever its times

    @property
    def path(self) -> Path:
        """Return the file's path."""
        return Path(self.location)


def scan_folder(root: Path) -> tuple[list[SourceFile], list[str]]:
    """List the article files below root in a stable order, never leaving root.

    Hidden files and folders are left out, linked folders are not entered, and a
    link to a file outside root is skipped with a line in the returned problems,
    as are links that loop or lead nowhere, folders that cannot be listed, a
    folder seen twice (a loop through a mount) and folders nested deeper than
    MAX_FOLDER_DEPTH. The walk is iterative, so no depth can crash it. The order
    is that of sorting the paths (by their parts).
    """
    resolved_root = Path(os.path.realpath(root))
    found: list[SourceFile] = []
    problems: list[str] = []
    seen: set[tuple[int, int]] = set()

    def listing(folder: str, prefix: str) -> list[os.DirEntry[str]] | None:
        """List a folder's entries sorted by name (None: gone, seen or unreadable)."""
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                problems.append(f"skipped {display_name(prefix)}: the folder is listed already")
                return None
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                listed = list(entries)
        except FileNotFoundError:
            return None  # vanished while listing
        except OSError as exc:
            if prefix:
                problems.append(f"skipped {display_name(prefix)}: {reason(exc)}")
            return None
        listed.sort(key=_NAME)
        return listed

    # Depth first, each folder in name order: the order of sorting the paths by their
    # parts, with no key made per file. One (entries, next one, prefix, depth) per level.
    top = listing(str(root), "")
    pending: list[tuple[list[os.DirEntry[str]], int, str, int]] = (
        [(top, 0, "", 0)] if top is not None else []
    )
    while pending:
        listed, start, prefix, depth = pending.pop()
        for at in range(start, len(listed)):
            entry = listed[at]
            name = entry.name
            if name[0] == ".":
                continue
            try:
                if not name.isascii() and not _is_utf8(name):
                    # Kept out: every later stage (saved index, JSON, Discord) needs text.
                    folder_name = entry.is_dir(follow_symlinks=False)
                    if folder_name or name.lower().endswith(ARTICLE_SUFFIXES):
                        shown = display_name(prefix + name) + ("/" if folder_name else "")
                        kind = "folder" if folder_name else "file"
                        problems.append(
                            f"skipped {shown}: the {kind} name is not UTF-8 text (rename it)"
                        )
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if depth + 1 > MAX_FOLDER_DEPTH:
                        problems.append(
                            f"skipped {display_name(prefix + name)}/: folders nested deeper "
                            f"than {MAX_FOLDER_DEPTH} levels are not read"
                        )
                        continue
                    below = listing(entry.path, f"{prefix}{name}/")
                    if below is None:
                        continue
                    # This folder goes on after the subfolder, which is listed first.
                    pending.append((listed, at + 1, prefix, depth))
                    pending.append((below, 0, f"{prefix}{name}/", depth + 1))
                    break
                if not name.endswith(ARTICLE_SUFFIXES) and not name.lower().endswith(
                    ARTICLE_SUFFIXES
                ):
                    continue
                rel = prefix + name
                if entry.is_symlink():
                    problem = _link_problem(entry.path, rel, resolved_root)
                    if problem:
                        problems.append(problem)
                        continue
                stat = entry.stat()
                if not S_ISREG(stat.st_mode):
                    # A FIFO, socket or device named like an article: never opened.
                    problems.append(f"skipped {display_name(rel)}: the file {special_kind(stat)}")
                    continue
            except OSError:
                continue  # vanished or unreadable while listing: not in this listing
            found.append(SourceFile(entry.path, rel, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return found, sorted(problems)


_NAME = attrgetter("name")


def _is_utf8(name: str) -> bool:
    try:
        name.encode()
    except UnicodeEncodeError:
        return False  # a byte that is not UTF-8, handed over as a lone surrogate
    return True


def _link_problem(location: str, rel: str, resolved_root: Path) -> str | None:
    """Say why a link to a file is skipped, or None when its target may be read."""
    try:
        target = Path(os.path.realpath(location, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"skipped {display_name(rel)}: it is a link that loops"
        return f"skipped {display_name(rel)}: it is a link to a file that does not exist"
    # A link that points outside the corpus must not pull in other files.
    if not target.is_relative_to(resolved_root):
        return f"skipped {display_name(rel)}: it links to a file outside the corpus folder"
    inside = target.relative_to(resolved_root)
    if target.suffix.lower() in ARTICLE_SUFFIXES and not any(
        part.startswith(".") for part in inside.parts
    ):
        # The target is listed in its own right: the same passages twice
        # would crowd out other answers.
        return (
            f"skipped {display_name(rel)}: it links to "
            f"{display_name(inside.as_posix())}, which is indexed already"
        )
    return None


@lru_cache(maxsize=1 << 17)
def _slug(text: str, limit: int = 24) -> str:
    # Fold accents ("café" -> "cafe") so keys stay easy to type back.
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not slug and text.strip():
        # A name with no Latin letters ("북한.txt"): a short stable key from its bytes.
        # surrogateescape: a name that is not UTF-8 keeps its raw bytes.
        raw = text.encode(errors="surrogateescape")
        return "a-" + hashlib.blake2b(raw, digest_size=3).hexdigest()
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


def display_name(rel: str) -> str:
    r"""Return a file name fit for a one-line message, unprintable characters escaped.

    A byte that is not UTF-8 (the OS hands it over as a lone surrogate) shows as
    \xe9, a control character as \x1b or \n.
    """
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in rel)


def _escape(ch: str) -> str:
    if "\udc80" <= ch <= "\udcff":
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return repr(ch)[1:-1]


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
    meta = FrontMatter()
    if rel_path.lower().endswith(".md"):
        block, text = split_front_matter(text)
        if block is not None:
            meta = read_front_matter(block)
        text = "\n".join(_MARKDOWN_HEADING.sub("", line) for line in text.splitlines())
    cleaned = clean(split_paragraphs(text), title=meta.title)
    stem = Path(rel_path).stem.replace("_", " ").replace("-", " ")
    title = cleaned.title or plain_text(stem, 300)
    prefix = f"{key}:" if prefix_citations else ""
    sentences = [Sentence(key, 0, 1, title, f"{prefix}0.1")] if cleaned.title else []
    for p_index, paragraph in enumerate(cleaned.paragraphs, start=1):
        for s_index, sentence in enumerate(split_sentences(paragraph), start=1):
            if not _has_word(sentence):
                # "- - - -", "....": nothing to find or quote. Skipped without renumbering,
                # so the citations of the sentences around it stay what they were.
                continue
            sentences.append(
                Sentence(key, p_index, s_index, sentence, f"{prefix}{p_index}.{s_index}")
            )
    if not any(s.paragraph > 0 for s in sentences):
        raise ValueError("has no sentences (no letters or digits)" if text.strip() else "is empty")
    return Article(
        key=key,
        path=rel_path,
        title=title,
        source=meta.source or cleaned.source,
        url=meta.url,
        date=meta.date or dateline_date(text),
        sentences=tuple(sentences),
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
        author=meta.author,
        feed=meta.feed,
    )


def _has_word(sentence: str) -> bool:
    return _WORD_CHARACTER.search(sentence) is not None


def load_corpus(root: Path | str) -> Corpus:
    """Load every article below root; unreadable files are named in problems."""
    root = Path(root)
    if not root.exists():
        raise CorpusError(f"corpus folder {root} does not exist")
    if not root.is_dir():
        raise CorpusError(f"corpus path {root} is not a folder")
    sources, skipped = scan_folder(root)
    rel_paths = [source.rel for source in sources]
    keys = article_keys(rel_paths)
    corpus = Corpus(root=root, problems=skipped)
    texts: list[tuple[str, str]] = []
    for rel in rel_paths:
        try:
            texts.append((rel, decode_text(read_article(root, rel)[0])))
        except (OSError, ValueError) as exc:
            corpus.problems.append(f"skipped {display_name(rel)}: {reason(exc)}")
    prefix = len(texts) > 1
    articles: list[Article] = []
    for rel, text in texts:
        if not text.strip():
            corpus.problems.append(f"skipped {display_name(rel)}: the file is empty")
            continue
        try:
            articles.append(
                parse_article(text, rel_path=rel, key=keys[rel], prefix_citations=prefix)
            )
        except ValueError as exc:
            corpus.problems.append(f"skipped {display_name(rel)}: the file {exc}")
    corpus.articles = articles
    if not articles:
        found = (
            f"{len(rel_paths)} article file(s), none usable"
            if rel_paths
            else "no .txt or .md files"
        )
        raise CorpusError(f"corpus folder {root} holds {found}", corpus.problems)
    return corpus


def reason(exc: Exception) -> str:
    """Say why a file could not be read, for a "skipped <file>: <reason>" line."""
    if isinstance(exc, ValueError):
        return f"the file {exc}"
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
