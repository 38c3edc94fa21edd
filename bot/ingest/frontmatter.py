"""Read a Markdown file's YAML front matter with bounded work: plain values, no aliases.

YAML's full loader is recursive (a deeply nested document raises RecursionError)
and expands aliases (a 447-byte "billion laughs" took 52 s and 2.8 GB). This
reads the parser's event stream instead, which is iterative, and refuses what a
front matter block never needs: more than MAX_FRONT_MATTER_CHARS, nesting deeper
than MAX_DEPTH, anchors, aliases and explicit tags. Values stay strings (no
dates or numbers are resolved), so what a field holds is what was written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.ingest.cleaning import plain_text

if TYPE_CHECKING:
    import yaml

MAX_FRONT_MATTER_CHARS = 16 * 1024
MAX_DEPTH = 4
MAX_EVENTS = 4096
MAX_BRACKETS = 512
MAX_FIELD_CHARS = 300
MAX_URL_CHARS = 2000

Value = str | list[str]


class FrontMatterError(ValueError):
    """The front matter cannot be used; the message completes "the file ..." in one line."""


@dataclass(frozen=True)
class FrontMatter:
    """The fields of a front matter block that an article uses, cleaned."""

    title: str | None = None
    source: str | None = None
    url: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    author: str | None = None
    feed: str | None = None


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Return (the front matter block or None, the rest of the text).

    A block opens with a line "---" at the very start and closes with the next
    line "---" (or "..."); without a closing line the whole text is the body.
    """
    first = text.find("\n")
    if first < 0 or text[:first].rstrip(" \t") != "---":
        return None, text
    at = first
    while True:
        end = text.find("\n", at + 1)
        line = text[at + 1 : end if end >= 0 else len(text)]
        if line.rstrip(" \t") in ("---", "..."):
            block = text[first + 1 : at]
            rest = text[end + 1 :] if end >= 0 else ""
            if len(block) > MAX_FRONT_MATTER_CHARS:
                raise FrontMatterError(
                    f"has front matter of {len(block):,} characters, "
                    f"over the {MAX_FRONT_MATTER_CHARS:,} limit"
                )
            return block, rest
        if end < 0:
            return None, text
        at = end


def parse_front_matter(block: str) -> dict[str, Value]:
    """Parse a front matter block into its top-level fields: strings and lists of strings.

    Nested mappings are read (up to MAX_DEPTH) but not kept. Raises
    FrontMatterError, in one line, for broken YAML or anything unbounded.
    """
    import yaml  # front matter is read while indexing only: a restart never loads YAML

    _check_brackets(block)
    fields: dict[str, Value] = {}
    depth = 0
    top_mapping = False  # only a mapping at the top has fields
    next_is_key = True  # whether the next top-level node is a key or a value
    key: str | None = None  # the top-level key whose value comes next
    items: list[str] | None = None  # the top-level list being read
    try:
        for count, event in enumerate(yaml.parse(block, Loader=yaml.SafeLoader)):
            if count > MAX_EVENTS:
                raise FrontMatterError(f"has front matter with over {MAX_EVENTS:,} parts")
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise FrontMatterError("has front matter with a YAML anchor or alias")
            if isinstance(event, yaml.NodeEvent) and _explicit_tag(event):
                raise FrontMatterError("has front matter with a YAML tag")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FrontMatterError(
                        f"has front matter nested deeper than {MAX_DEPTH} levels"
                    )
                if depth == 1:
                    top_mapping = isinstance(event, yaml.MappingStartEvent)
                elif depth == 2 and top_mapping and not next_is_key:
                    is_list = isinstance(event, yaml.SequenceStartEvent)
                    items = [] if is_list and key is not None else None
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                if depth == 1 and top_mapping:
                    if next_is_key:
                        next_is_key = False  # a key that is a collection: ignored with its value
                        key = None
                        continue
                    if items is not None and key is not None:
                        fields[key] = items
                    items, key, next_is_key = None, None, True
            elif isinstance(event, yaml.ScalarEvent) and depth == 1 and top_mapping:
                if next_is_key:
                    key, next_is_key = event.value.strip().lower(), False
                else:
                    if key is not None:
                        fields[key] = event.value
                    key, next_is_key = None, True
            elif isinstance(event, yaml.ScalarEvent) and depth == 2 and items is not None:
                items.append(event.value)
    except yaml.MarkedYAMLError as exc:
        where = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        problem = exc.problem or exc.context or "it is not YAML"
        raise FrontMatterError(f"has broken front matter ({where}{problem})") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"has broken front matter ({plain_text(str(exc), 200)})") from None
    return fields


def _check_brackets(block: str) -> None:
    """Refuse flow collections nested deeper than MAX_DEPTH, in one linear pass.

    YAML's scanner reads a run of opening brackets ahead before it yields a single
    event, in time quadratic in the run (10 KB of "[" took a second), so the
    depth of brackets outside quotes and comments is checked first.
    """
    depth = 0
    quote = ""
    previous = "\n"
    at = 0
    while at < len(block):
        ch = block[at]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'" and previous in " \t\n[{,:":
            quote = ch  # a quoted scalar starts here (a quote inside a word does not)
        elif ch == "#" and previous in " \t\n":
            end = block.find("\n", at)
            at = len(block) if end < 0 else end
            continue
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise FrontMatterError(f"has front matter nested deeper than {MAX_DEPTH} levels")
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif ch == "\n":
            quote = ""  # a quote never spans lines in front matter worth reading
        previous = ch
        at += 1
    brackets = block.count("[") + block.count("{")
    if brackets > MAX_BRACKETS:
        raise FrontMatterError(f"has front matter with over {MAX_BRACKETS} brackets")


def _explicit_tag(event: yaml.NodeEvent) -> bool:
    tag = getattr(event, "tag", None)
    # "!" is what a quoted scalar's implicit tag looks like in some emitters.
    return tag is not None and tag != "!"


def read_front_matter(block: str) -> FrontMatter:
    """Parse a block and pick the fields an article uses, cleaned for display."""
    fields = parse_front_matter(block)

    def text(*names: str) -> str | None:
        for name in names:
            value = fields.get(name)
            if isinstance(value, list):
                value = ", ".join(v for v in value if v.strip())
            if value is not None and (cleaned := plain_text(value, MAX_FIELD_CHARS)):
                return cleaned
        return None

    return FrontMatter(
        title=text("title", "headline"),
        source=text("source", "publisher", "site"),
        url=web_address(text_field(fields, "url", "link", "canonical_url")),
        date=iso_date(text_field(fields, "date", "published", "pubdate")),
        author=text("author", "authors", "byline"),
        feed=text("feed"),
    )


def text_field(fields: dict[str, Value], *names: str) -> str | None:
    """Return the first of the named fields that holds a single value."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def web_address(value: str | None) -> str | None:
    """Return value when it is an http(s) address a link can use, else None."""
    if value is None or len(value) > MAX_URL_CHARS or not value.isprintable() or " " in value:
        return None
    return value if value.lower().startswith(("http://", "https://")) else None


def iso_date(value: str | None) -> str | None:
    """Return the yyyy-mm-dd date a value starts with ("2013-11-28T09:00:00Z"), else None."""
    if value is None or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None
