"""Article filters (--article/--source/--since/--until) and time cues in questions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.answer.engine import Engine
from bot.answer.filters import ArticleFilter, filtered_answer, parse_day
from bot.answer.timecues import time_cue
from bot.errors import FilterError

TODAY = dt.date(2013, 12, 4)  # a Wednesday


def write(folder: Path, name: str, title: str, date: str | None, source: str, body: str) -> None:
    dated = f'date: "{date}"\n' if date else ""
    (folder / name).write_text(
        f'---\ntitle: "{title}"\nsource: "{source}"\nurl: "https://{source.lower()}.example/{name}"\n'
        f"{dated}---\n\n{body}\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("dated")
    write(
        folder,
        "talks-2012.md",
        "Talks stall",
        "2012-05-10",
        "Yonhap",
        "The six-party talks on the nuclear programme stalled again in May, diplomats said. "
        "Envoys blamed a missile launch for the delay.",
    )
    write(
        folder,
        "talks-2013.md",
        "Talks resume",
        "2013-11-28",
        "Yonhap",
        "The six-party talks on the nuclear programme resumed in Beijing, diplomats said. "
        "Envoys met for three hours on the first day.",
    )
    write(
        folder,
        "talks-today.md",
        "Talks end",
        "2013-12-03",
        "Reuters",
        "The six-party talks on the nuclear programme ended without agreement, diplomats said. "
        "Envoys will meet again in the spring.",
    )
    write(
        folder,
        "rice.md",
        "Rice aid",
        None,
        "Reuters",
        "South Korea will send 50,000 tons of rice to the Philippines, officials said. "
        "The first ship leaves Busan next week.",
    )
    return Engine.from_folder(folder)


def keys(engine: Engine, options: ArticleFilter) -> set[str]:
    found = options.keys(engine.articles)
    assert found is not None
    return set(found)


def test_filter_options_select_article_keys(engine: Engine) -> None:
    assert ArticleFilter().keys(engine.articles) is None
    assert keys(engine, ArticleFilter(source="reuters")) == {"talks-today", "rice"}
    assert keys(engine, ArticleFilter(source="yonhap.example")) == {"talks-2012", "talks-2013"}
    assert keys(engine, ArticleFilter(article="rice.md")) == {"rice"}
    assert keys(engine, ArticleFilter(article="talks-2013")) == {"talks-2013"}
    assert keys(engine, ArticleFilter(since=dt.date(2013, 1, 1))) == {"talks-2013", "talks-today"}
    day = dt.date(2013, 11, 28)  # both bounds are inclusive
    assert keys(engine, ArticleFilter(since=day, until=day)) == {"talks-2013"}
    assert keys(engine, ArticleFilter(article="TALKS-2012")) == {"talks-2012"}
    assert keys(engine, ArticleFilter(source="example")) == {
        "talks-2012",
        "talks-2013",
        "talks-today",
        "rice",
    }
    assert keys(engine, ArticleFilter(source="ters.example")) == set()  # whole host names
    assert keys(engine, ArticleFilter(until=dt.date(2013, 11, 30), source="Yonhap")) == {
        "talks-2012",
        "talks-2013",
    }


def test_parse_day_reads_whole_and_partial_dates() -> None:
    assert parse_day("2013", end=False, today=TODAY) == dt.date(2013, 1, 1)
    assert parse_day("2013", end=True, today=TODAY) == dt.date(2013, 12, 31)
    assert parse_day("2012-02", end=True, today=TODAY) == dt.date(2012, 2, 29)
    assert parse_day("2013-11-28", end=True, today=TODAY) == dt.date(2013, 11, 28)
    assert parse_day("yesterday", end=False, today=TODAY) == dt.date(2013, 12, 3)
    assert parse_day("7d", end=False, today=TODAY) == dt.date(2013, 11, 27)
    with pytest.raises(FilterError, match=r"--until must be a date such as 2013-11-28.*not 'soon'"):
        parse_day("soon", end=True, today=TODAY, option="--until")


def test_time_cues_are_date_ranges_or_a_recency_preference() -> None:
    cue = time_cue("What happened in 2013?", TODAY)
    assert cue is not None and (cue.since, cue.until) == (
        dt.date(2013, 1, 1),
        dt.date(2013, 12, 31),
    )
    assert cue.question == "What happened?"
    cue = time_cue("What did the envoys say yesterday?", TODAY)
    assert cue is not None and (cue.since, cue.until) == (
        dt.date(2013, 12, 3),
        dt.date(2013, 12, 3),
    )
    assert cue.question == "What did the envoys say?"
    cue = time_cue("Any news on the talks this week?", TODAY)
    assert cue is not None and (cue.since, cue.until) == (dt.date(2013, 12, 2), TODAY)
    cue = time_cue("What about last month?", TODAY)
    assert cue is not None and (cue.since, cue.until) == (
        dt.date(2013, 11, 1),
        dt.date(2013, 11, 30),
    )
    cue = time_cue("in November 2013, what did envoys do?", TODAY)
    assert cue is not None and (cue.since, cue.until) == (
        dt.date(2013, 11, 1),
        dt.date(2013, 11, 30),
    )
    cue = time_cue("What is the latest on the six-party talks?", TODAY)
    assert cue is not None and cue.recent and cue.question == "What is on the six-party talks?"
    assert time_cue("Why is North Korea courting ASEAN?", TODAY) is None


def test_explicit_filters_limit_what_is_cited(engine: Engine) -> None:
    answer = filtered_answer(
        engine, "What happened to the six-party talks?", k=3, options=ArticleFilter(source="Yonhap")
    )
    assert answer.answered
    assert {p.article_key for p in answer.passages} <= {"talks-2012", "talks-2013"}
    none = filtered_answer(
        engine,
        "What happened to the six-party talks?",
        k=3,
        options=ArticleFilter(source="Nobody"),
    )
    assert not none.answered
    assert none.message == "No article matches: there are no articles from Nobody."


def test_latest_prefers_the_newest_of_equally_good_passages(engine: Engine) -> None:
    plain = filtered_answer(engine, "What happened at the six-party talks?", k=3, today=TODAY)
    latest = filtered_answer(engine, "What is the latest on the six-party talks?", k=3, today=TODAY)
    assert {p.article_key for p in plain.passages} == {"talks-2012", "talks-2013", "talks-today"}
    assert [p.article_key for p in latest.passages] == ["talks-today", "talks-2013", "talks-2012"]
    assert latest.question == "What is the latest on the six-party talks?"


def test_latest_never_hides_the_only_sentence_that_answers(engine: Engine) -> None:
    # The only article about rice is undated and not the newest: it still answers first.
    answer = filtered_answer(
        engine, "What is the latest on the rice for the Philippines?", k=1, today=TODAY
    )
    assert answer.answered and answer.passages[0].article_key == "rice"


def test_a_year_cue_prefers_that_years_articles(engine: Engine) -> None:
    answer = filtered_answer(
        engine, "What happened to the six-party talks in 2012?", k=1, today=TODAY
    )
    assert [p.article_key for p in answer.passages] == ["talks-2012"]
    assert any("dated 2012-01-01 to 2012-12-31" in note for note in answer.notes)
    # A year no article is dated in leaves the question as it was.
    rice = filtered_answer(
        engine, "How much rice went to the Philippines in 2013?", k=1, today=TODAY
    )
    assert rice.answered and rice.passages[0].article_key == "rice"
