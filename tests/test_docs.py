"""The README and docs/ hold together: every relative link resolves, every setting is listed.

The README is the user guide and docs/ holds one page per subject; pages link each other by
heading, so a renamed heading or a moved page breaks a link that only a reader would notice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import SETTINGS

REPO = Path(__file__).parents[1]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])
LINK = re.compile(r"\]\(([^()\s]+)\)")


def _outside_code(text: str) -> list[str]:
    """Return the lines of a Markdown text that are not inside a fenced code block."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    """Return the anchor GitHub gives a heading."""
    words = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return words.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    """Return the anchors of a page's headings."""
    lines = _outside_code(page.read_text())
    headings = (line.lstrip("#") for line in lines if line.startswith("#"))
    return {_slug(heading) for heading in headings}


def _links(page: Path) -> list[str]:
    """Return the relative link targets of a page (web and mail addresses left out)."""
    found = LINK.findall("\n".join(_outside_code(page.read_text())))
    return [target for target in found if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no such heading")
    assert not broken, broken


def test_the_pages_are_found_and_link_somewhere() -> None:
    names = {page.relative_to(REPO).as_posix() for page in PAGES}
    assert {"README.md", "docs/self-hosting.md", "docs/answerability.md"} <= names
    assert all(_links(page) for page in PAGES)


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(REPO / target.partition("#")[0]).resolve() for target in _links(REPO / "README.md")}
    pages = [page for page in PAGES if page != REPO / "README.md"]
    unlinked = [page.relative_to(REPO).as_posix() for page in pages if page not in linked]
    assert not unlinked, unlinked


def test_the_readme_lists_every_setting() -> None:
    text = (REPO / "README.md").read_text()
    section = text[text.index("\n## Settings") :]
    section = section[: section.index("\n## ", 1)]
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in section]
    assert not missing, missing


def test_the_slug_follows_githubs_rule() -> None:
    assert (
        _slug(" How sure: the thresholds and the table") == "how-sure-the-thresholds-and-the-table"
    )
    assert _slug("`make repl` and `make test`") == "make-repl-and-make-test"
    assert _slug("Questions in anyone's words") == "questions-in-anyones-words"
