"""Filters as catalogue arrays: the same articles as testing each one, and answers limited to them."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from bot.answer.catalogue import ArticleSet, Catalogue, article_day, host_of
from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter
from bot.ingest.models import Article

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "yonhap-nk-asean-sanctions.txt"
SOURCES = ["Yonhap", "Reuters", "Korea Herald", "AP", None]
HOSTS = ["en.yna.co.kr", "www.reuters.com", "koreaherald.com", "apnews.com", None]


def naive(options: ArticleFilter, article: Article) -> bool:
    """Tell whether an article passes, testing it alone (the meaning of each option)."""
    if options.article is not None:
        wanted = options.article.strip().casefold()
        path = article.path.casefold()
        name = path.rpartition("/")[2]
        if wanted not in {article.key.casefold(), path, name, name.rpartition(".")[0] or name}:
            return False
    if options.source is not None:
        wanted = options.source.strip().casefold()
        host = host_of(article.url)
        by_source = bool(article.source) and wanted in (article.source or "").casefold()
        by_host = bool(host) and (host == wanted or host.endswith("." + wanted))
        if not (by_source or by_host):
            return False
    if options.since is not None or options.until is not None:
        day = article_day(article)
        if day is None:
            return False
        if options.since is not None and day < options.since:
            return False
        if options.until is not None and day > options.until:
            return False
    return True


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """Forty articles cut from the real Yonhap story, with mixed sources, sites and dates."""
    folder = tmp_path_factory.mktemp("catalogue")
    paragraphs = [p for p in CORPUS.read_text(encoding="utf-8").split("\n\n") if len(p) > 80]
    rng = random.Random(11)
    for n in range(40):
        body = "\n\n".join(rng.sample(paragraphs, 3))
        source, host = rng.choice(SOURCES), rng.choice(HOSTS)
        lines = [f'title: "Story {n}"']
        if source:
            lines.append(f'source: "{source}"')
        if host:
            lines.append(f'url: "https://{host}/news/{n}"')
        if n % 5:  # every fifth article undated
            lines.append(f'date: "{dt.date(2013, 1, 1) + dt.timedelta(days=9 * n)}"')
        sub = folder / ("desk-a" if n % 2 else "desk-b")
        sub.mkdir(exist_ok=True)
        name = {38: "story-38.v2.md", 39: "../notes.md"}.get(n, f"story-{n:02d}.md")
        text = "---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n"
        (sub / name).write_text(text, encoding="utf-8")
    return Engine.from_folder(folder)


def filters() -> list[ArticleFilter]:
    days = [None, dt.date(2013, 3, 1), dt.date(2013, 6, 30), dt.date(2014, 1, 1)]
    options = [ArticleFilter(source=s) for s in ["yonhap", "REUTERS", "co.kr", "korea", "nope"]]
    options += [ArticleFilter(source=s) for s in ["reuters.com", "yna.co.kr", "herald"]]
    options += [ArticleFilter(article=a) for a in ["story-07", "STORY-08.md", "desk-a/story-09.md"]]
    names = ["missing", "story-38.v2", "story-38", "notes", "NOTES.md", "desk-a", "s", "md"]
    options += [ArticleFilter(article=a) for a in names]
    options += [ArticleFilter(since=a, until=b) for a, b in itertools.product(days, days)]
    options += [
        ArticleFilter(source="yonhap", since=dt.date(2013, 4, 1)),
        ArticleFilter(source="apnews.com", until=dt.date(2013, 9, 1)),
        ArticleFilter(article="story-10", source="nope"),
    ]
    return options


def test_filters_choose_what_testing_each_article_chooses(engine: Engine) -> None:
    articles = engine.articles
    assert len(articles) == 40
    chosen_some = 0
    for options in filters():
        found = options.select(engine.catalogue)
        expected = {a.key for a in articles if naive(options, a)}
        if not options:
            assert found is None
            continue
        assert found is not None
        assert set(found) == expected, options
        assert len(found) == len(expected)
        assert all(a.key in found for a in articles if a.key in expected)
        assert not any(a.key in found for a in articles if a.key not in expected)
        assert options.keys(articles) == expected  # a catalogue made on the spot agrees
        chosen_some += 0 < len(expected) < 40
    assert chosen_some >= 10  # the filters above really split the articles


def test_matches_tests_one_article(engine: Engine) -> None:
    for options, article in itertools.product(filters(), engine.articles):
        assert options.matches(article) == naive(options, article)


def test_answers_cite_only_the_chosen_articles(engine: Engine) -> None:
    question = "Why is North Korea courting ASEAN?"
    for options in filters():
        found = options.select(engine.catalogue)
        if found is None:
            continue
        limited = engine.answer(question, k=5, only=found)
        by_keys = engine.answer(question, k=5, only=frozenset(found))
        assert limited == by_keys  # the flags and a plain set of keys are the same limit
        assert all(p.article_key in found for p in limited.passages)
        if not found:
            assert not limited.passages


def test_a_limit_to_every_article_changes_nothing(engine: Engine) -> None:
    question = "What did the unification ministry say about sanctions?"
    every = engine.catalogue.wait().all()
    assert engine.answer(question, only=every) == engine.answer(question)


def test_article_sets_combine_like_sets(engine: Engine) -> None:
    catalogue = engine.catalogue.wait()
    yonhap = ArticleFilter(source="yonhap").select(catalogue)
    dated = ArticleFilter(since=dt.date(2013, 5, 1)).select(catalogue)
    assert isinstance(yonhap, ArticleSet) and isinstance(dated, ArticleSet)
    assert set(yonhap & dated) == set(yonhap) & set(dated)
    assert set(frozenset(dated) & yonhap) == set(yonhap) & set(dated)
    assert hash(yonhap) == hash(frozenset(yonhap))
    assert yonhap == frozenset(yonhap)


def test_a_dense_mask_reads_like_the_lookup(engine: Engine) -> None:
    found = ArticleFilter(source="reuters").select(engine.catalogue)
    mask = engine._allowed(found)
    assert mask is not None
    dense = np.asarray(mask)
    ids = np.arange(len(engine.sentences))
    assert (dense == mask[ids]).all()
    expected = [engine.sentences[i].article_key in found for i in ids.tolist()]
    assert dense.tolist() == expected


def test_an_empty_catalogue() -> None:
    catalogue = Catalogue([])
    assert len(catalogue.dated(None, None)) == 0
    assert len(catalogue.named("x")) == 0
    assert len(catalogue.from_source("x")) == 0
