"""Other names for the same thing: an alias file plus acronyms the text defines."""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import AliasFileError
from bot.index.tokenize import words
from bot.ingest.loader import reason
from bot.ingest.reading import read_article

ALIAS_FILE = "aliases.toml"
MAX_ALIAS_FILE_BYTES = 1 << 20
# A question expands one phrase into at most this many groups, the first ones in the
# file: groups sharing a name beyond this made one question take 49-151 s.
MAX_GROUPS_PER_PHRASE = 4
MAX_NAMES_PER_GROUP = 64
MAX_NAME_CHARS = 200
DEFINED = "defined in the text"
_DEFINITION = re.compile(r"\(([A-Z][A-Za-z0-9&.-]{1,11})\)")


@dataclass(frozen=True)
class AliasGroup:
    """Names that mean the same thing; the first is the canonical one."""

    names: tuple[str, ...]
    origin: str  # "alias file" or DEFINED

    @property
    def canonical(self) -> str:
        """Return the name the group is known by."""
        return self.names[0]


def _is_acronym(name: str) -> bool:
    """Tell whether a name is one word written in capitals ("UNSC", "H.O.W.")."""
    letters = name.replace(".", "").replace("&", "").replace("-", "")
    return (
        " " not in name
        and sum(c.isupper() for c in letters) >= 2
        and not any(c.islower() for c in letters[1:])
    )


def phrase(name: str) -> tuple[str, ...]:
    """Return the normalised word sequence of a name, as matched in questions."""
    return tuple(t.word for t in words(name))


@dataclass
class Aliases:
    """All alias groups, indexed by the word sequences that trigger them."""

    groups: list[AliasGroup] = field(default_factory=list)
    _by_phrase: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    _longest: int = 0
    # (phrase, group) pairs that match only words written in capitals: an acronym the
    # text defines ("TIME", "H.O.W.") must not turn the word "time" or "how" into a name.
    _capitals: set[tuple[tuple[str, ...], int]] = field(default_factory=set)

    def add(self, group: AliasGroup, phrases: Sequence[tuple[str, ...]] | None = None) -> None:
        """Add a group of names; a name already in MAX_GROUPS_PER_PHRASE groups is not added.

        phrases, when known, are those of the group's first MAX_NAMES_PER_GROUP names.
        """
        index = len(self.groups)
        self.groups.append(group)
        names = group.names[:MAX_NAMES_PER_GROUP]
        keys = phrases if phrases is not None else [phrase(n) for n in names]
        for name, key in zip(names, keys, strict=False):
            indexes = self._by_phrase.setdefault(key, []) if key else []
            if key and index not in indexes and len(indexes) < MAX_GROUPS_PER_PHRASE:
                indexes.append(index)
                self._longest = max(self._longest, len(key))
                if group.origin == DEFINED and _is_acronym(name):
                    self._capitals.add((key, index))

    def _merged(self, indexes: list[int]) -> AliasGroup:
        """Return the one group some groups sharing a phrase stand for: their names joined.

        A phrase in several groups is one concept of the question, not one per
        group (each would count the words typed again).
        """
        if len(indexes) == 1:
            return self.groups[indexes[0]]
        names = dict.fromkeys(n for g in indexes for n in self.groups[g].names)
        return AliasGroup(tuple(names), self.groups[indexes[0]].origin)

    def find(
        self, question_words: list[str], capitals: Sequence[bool] | None = None
    ) -> list[tuple[int, int, AliasGroup]]:
        """Find alias names in a word sequence, longest match first, without overlaps.

        capitals, when given, tells per word whether it was written in capitals; an
        acronym the text defines matches only words that were.
        """
        found: list[tuple[int, int, AliasGroup]] = []
        i = 0
        while i < len(question_words):
            for size in range(min(self._longest, len(question_words) - i), 0, -1):
                key = tuple(question_words[i : i + size])
                indexes = self._by_phrase.get(key)
                if indexes and capitals is not None and not all(capitals[i : i + size]):
                    indexes = [g for g in indexes if (key, g) not in self._capitals]
                if indexes:
                    found.append((i, i + size, self._merged(indexes)))
                    i += size
                    break
            else:
                i += 1
        return found


def load_alias_file(path: Path) -> list[AliasGroup]:
    """Read an alias file: each key is a canonical name, its value a list of other names.

    Anything else (a value that is not a list of names, an "aliases" that is not a
    table, a name too long, a group too large, a file too large) raises
    AliasFileError naming the file and the line.
    """
    try:
        data, _ = read_article(path.parent, path.name)
    except (OSError, ValueError) as exc:
        raise AliasFileError(f"{path}: {reason(exc)}") from None
    if len(data) > MAX_ALIAS_FILE_BYTES:
        raise AliasFileError(f"{path}: over the {MAX_ALIAS_FILE_BYTES >> 20} MiB limit")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AliasFileError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        parsed = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = where.group(1) if where else str(len(raw.splitlines()) or 1)
        problem = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
        raise AliasFileError(f"{path}, line {line}: {problem}") from None
    table = parsed.get("aliases", parsed)
    if not isinstance(table, dict):
        line = _line_of(raw, "aliases")
        raise AliasFileError(
            f'{path}, line {line}: "aliases" must be a table of names, '
            f"not {_kind(table)} (write [aliases] and then one line per name)"
        )
    groups: list[AliasGroup] = []
    for canonical, others in table.items():
        # The line is looked for only for a message: a large valid file stays linear.
        if isinstance(others, str):
            others = [others]
        if not isinstance(others, list) or not all(isinstance(o, str) for o in others):
            raise AliasFileError(
                f"{path}, line {_line_of(raw, canonical)}: the value of {canonical!r} "
                f"must be a list of names, not {_kind(others)}"
            )
        names = (canonical, *others)
        if len(names) > MAX_NAMES_PER_GROUP:
            raise AliasFileError(
                f"{path}, line {_line_of(raw, canonical)}: {canonical!r} has {len(names):,} names, "
                f"over the {MAX_NAMES_PER_GROUP} limit"
            )
        for name in names:
            if len(name) > MAX_NAME_CHARS:
                raise AliasFileError(
                    f"{path}, line {_line_of(raw, canonical)}: a name of {canonical!r} is "
                    f"{len(name):,} characters long, over the {MAX_NAME_CHARS} limit"
                )
        groups.append(AliasGroup(names, "alias file"))
    return groups


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list with something other than names in it"
    return f"the {type(value).__name__} {value!r}"[:80]


def _line_of(raw: str, key: str) -> int:
    """Return the line that defines key (bare or quoted), else the first that mentions it."""
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    lines = raw.splitlines()
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    for number, line in enumerate(lines, start=1):
        if key in line:
            return number
    return 1


def _long_form(short: str, candidate: str) -> str | None:
    """Find the long form that short abbreviates at the end of candidate (Schwartz-Hearst)."""
    s = len(short) - 1
    c = len(candidate) - 1
    while s >= 0:
        ch = short[s].lower()
        if not ch.isalnum():
            s -= 1
            continue
        while c >= 0 and (
            candidate[c].lower() != ch or (s == 0 and c > 0 and candidate[c - 1].isalnum())
        ):
            c -= 1
        if c < 0:
            return None
        c -= 1
        s -= 1
    start = candidate.rfind(" ", 0, c + 1) + 1
    long_form = candidate[start:].strip()
    if len(long_form.split()) < 2 or not long_form[:1].isupper():
        return None
    return long_form


def defined_acronyms(sentences: Iterable[str]) -> list[AliasGroup]:
    """Learn acronyms defined in the text, as in 'United Nations Security Council (UNSC)'."""
    seen: dict[str, str] = {}
    for text in sentences:
        for match in _DEFINITION.finditer(text):
            short = match.group(1)
            letters = sum(ch.isupper() for ch in short)
            if letters < 2 or short in seen:
                continue
            before = text[: match.start()].split()
            window = before[-min(len(short) + 5, len(short) * 2) :]
            long_form = _long_form(short, " ".join(window))
            if long_form:
                seen[short] = long_form
    return [AliasGroup((long, short), DEFINED) for short, long in seen.items()]


class DefinedAcronyms(list[str]):
    """The sentences that define acronyms, with the groups they define and their phrases.

    A saved index keeps the groups and phrases (see to_saved), so that a
    restart does not learn them again from every defining sentence.
    """

    def __init__(self, texts: Iterable[str], saved: object = None) -> None:
        super().__init__(texts)
        self._parsed: list[tuple[AliasGroup, list[tuple[str, ...]]]] | None = None
        if isinstance(saved, dict) and saved.get("digest") == self._digest():
            self._parsed = _from_saved(saved.get("groups"))

    def _digest(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for text in self:
            digest.update(text.encode())
            digest.update(b"\x1e")
        return digest.hexdigest()

    def parsed(self) -> list[tuple[AliasGroup, list[tuple[str, ...]]]]:
        """Return each group defined, with the phrases of its names, learning them once."""
        if self._parsed is None:
            groups = defined_acronyms(self)
            self._parsed = [(g, [phrase(n) for n in g.names[:MAX_NAMES_PER_GROUP]]) for g in groups]
        return self._parsed

    def to_saved(self) -> dict[str, object]:
        """Return the groups and phrases, JSON-ready, for DefinedAcronyms(same texts, saved)."""
        groups = [[list(group.names), *map(list, phrases)] for group, phrases in self.parsed()]
        return {"digest": self._digest(), "groups": groups}


def _from_saved(saved: object) -> list[tuple[AliasGroup, list[tuple[str, ...]]]] | None:
    """Read the groups to_saved wrote; None (learn them again) when it is not that."""
    if not isinstance(saved, list):
        return None
    parsed = []
    for item in saved:
        if not (isinstance(item, list) and item and all(isinstance(p, list) for p in item)):
            return None
        names, *phrases = item
        group = AliasGroup(tuple(map(str, names)), DEFINED)
        parsed.append((group, [tuple(map(str, p)) for p in phrases]))
    return parsed


def build_aliases(corpus_dir: Path | None, sentences: Iterable[str]) -> Aliases:
    """Combine the corpus folder's alias file (if any) with acronyms defined in the text.

    sentences may be DefinedAcronyms, whose groups are then not learned again.
    """
    aliases = Aliases()
    if corpus_dir is not None and os.path.lexists(corpus_dir / ALIAS_FILE):
        for group in load_alias_file(corpus_dir / ALIAS_FILE):
            aliases.add(group)
    if not isinstance(sentences, DefinedAcronyms):
        sentences = DefinedAcronyms(sentences)
    for group, phrases in sentences.parsed():
        aliases.add(group, phrases)
    return aliases
