"""Front matter: bounded parsing, one line per refused file, fields filled and cleaned."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest.frontmatter import (
    MAX_FRONT_MATTER_CHARS,
    FrontMatterError,
    parse_front_matter,
    read_front_matter,
    split_front_matter,
)
from bot.ingest.loader import load_corpus, parse_article

BODY = "# A headline\n\nThe envoy met officials in Seoul on Thursday.\n"
BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    + "title: *i\n"
)


def article(front: str, body: str = BODY) -> str:
    return f"---\n{front}\n---\n{body}"


def parse(text: str) -> object:
    return parse_article(text, rel_path="a.md", key="a", prefix_citations=False)


def test_the_billion_laughs_is_refused_at_once() -> None:
    assert len(BILLION_LAUGHS.encode()) < 600  # the 447-byte attack took 52 s and 2.8 GB
    with pytest.raises(FrontMatterError, match="anchor or alias"):
        parse(article(BILLION_LAUGHS))


@pytest.mark.parametrize(
    "front",
    [
        "a:\n" + "".join("  " * i + " a:\n" for i in range(1, 3000)) + "  " * 3000 + " x",
        "a: " + "[" * 5000 + "]" * 5000,
        "a: " + "{b: " * 5000 + "c" + "}" * 5000,
    ],
    ids=["block", "flow lists", "flow mappings"],
)
def test_deep_nesting_is_refused_without_recursion(front: str) -> None:
    block = front[:MAX_FRONT_MATTER_CHARS]  # the shape of the attack, under the size cap
    with pytest.raises(FrontMatterError, match="nested deeper than"):
        parse_front_matter(block)


def test_front_matter_over_the_size_cap_is_refused() -> None:
    with pytest.raises(FrontMatterError, match="over the"):
        split_front_matter(article("title: x\n" + "#" * MAX_FRONT_MATTER_CHARS))


def test_tags_are_refused_and_values_stay_as_written() -> None:
    with pytest.raises(FrontMatterError, match="tag"):
        parse_front_matter("title: !!python/object:os.system x")
    fields = parse_front_matter("date: 2013-11-28\ncount: 12\ntags: [a, 'b']\nnested: {x: {y: 1}}")
    assert fields == {"date": "2013-11-28", "count": "12", "tags": ["a", "b"]}


@pytest.mark.parametrize(
    "front",
    ["title: [unclosed", "title: a: b", "title: x\n- y", "key: 'open quote", "- a\nb: c"],
)
def test_broken_front_matter_costs_one_line(front: str, tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text(article(front))
    (tmp_path / "good.md").write_text(article("title: Good"))
    corpus = load_corpus(tmp_path)
    assert [a.path for a in corpus.articles] == ["good.md"]
    (problem,) = corpus.problems
    assert "\n" not in problem
    assert problem.startswith("skipped bad.md: the file has broken front matter (line ")


def test_hostile_front_matter_files_are_skipped_with_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "laughs.md").write_text(article(BILLION_LAUGHS))
    (tmp_path / "deep.md").write_text(article("a: " + "[" * 5_000 + "]" * 5_000))
    (tmp_path / "huge.md").write_text(article("title: x\n" + "#" * 100_000))
    (tmp_path / "real.md").write_text(article("title: Real"))
    corpus = load_corpus(tmp_path)
    assert [a.path for a in corpus.articles] == ["real.md"]
    assert sorted(corpus.problems) == [
        "skipped deep.md: the file has front matter nested deeper than 4 levels",
        "skipped huge.md: the file has front matter of 100,009 characters, over the 16,384 limit",
        "skipped laughs.md: the file has front matter with a YAML anchor or alias",
    ]


def test_fields_fill_the_article_cleaned_of_control_characters() -> None:
    front = (
        'title: "North \\e[31mKorea\\e[0m courts \\u202eASEAN\\x9b"\n'
        "url: https://en.yna.co.kr/view/AEN20131128\n"
        "date: 2013-11-28T09:12:00+09:00\n"
        "author: [Kim Eun-jung, '  Yonhap  ']\n"
        "feed: Yonhap\\x07 English\n"
        "source: Yonhap\n"
    )
    parsed = parse(article(front))
    assert parsed.title == "North [31mKorea[0m courts ASEAN"  # type: ignore[attr-defined]
    assert parsed.url == "https://en.yna.co.kr/view/AEN20131128"  # type: ignore[attr-defined]
    assert parsed.date == "2013-11-28"  # type: ignore[attr-defined]
    assert parsed.author == "Kim Eun-jung, Yonhap"  # type: ignore[attr-defined]
    assert parsed.feed == "Yonhap\\x07 English"  # type: ignore[attr-defined]  # plain: no escapes
    assert parsed.source == "Yonhap"  # type: ignore[attr-defined]


def test_unusable_urls_and_dates_are_left_out() -> None:
    meta = read_front_matter("url: javascript:alert(1)\ndate: last Thursday")
    assert meta.url is None and meta.date is None
    meta = read_front_matter('url: "https://a.example/x y"\ndate: 2013-02-30')
    assert meta.url is None and meta.date is None


def test_front_matter_without_closing_line_is_body_text() -> None:
    assert split_front_matter("---\ntitle: x\nno end") == (None, "---\ntitle: x\nno end")
    assert split_front_matter("---\ntitle: x\n...\nbody") == ("title: x", "body")
    assert split_front_matter("---\ntitle: x\n---") == ("title: x", "")


@pytest.mark.parametrize(
    "front",
    ["a: [x'" + "[" * 8000, "a: " + "[]" * 600, "a: " + "[" * 4 + "x'" + "[" * 8000],
)
def test_runs_of_brackets_are_refused_before_yaml_reads_them(front: str) -> None:
    # YAML's scanner reads a run of brackets ahead in quadratic time (10 KB took a second).
    with pytest.raises(FrontMatterError, match=r"nested deeper than|over 512 brackets"):
        parse_front_matter(front)


def test_brackets_inside_quotes_and_comments_do_not_count_as_nesting() -> None:
    fields = parse_front_matter('title: "[[[[[[["\ntags: [a, b]  # [[[[[[[[\nnote: it\'s [x]')
    assert fields == {"title": "[[[[[[[", "tags": ["a", "b"], "note": "it's [x]"}
