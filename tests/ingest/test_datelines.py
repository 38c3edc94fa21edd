"""Dates from wire datelines, and how the year is found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.ingest.datelines import dateline_date
from bot.ingest.loader import load_corpus

TODAY = dt.date(2026, 12, 3)


def test_dateline_with_a_year() -> None:
    assert (
        dateline_date("SEOUL, Nov. 28, 2013 (Yonhap) -- The ministry said.", TODAY) == "2013-11-28"
    )


def test_the_year_is_the_latest_the_text_mentions() -> None:
    text = (
        "SEOUL, Nov. 28 (Yonhap) -- North Korea is stepping up efforts, the government said.\n\n"
        "There have been 15 exchanges in 2013 alone, up from 2011."
    )
    assert dateline_date(text, TODAY) == "2013-11-28"


def test_a_weekday_in_the_lead_picks_between_that_year_and_the_one_before() -> None:
    # 28 November was a Thursday in 2013, not in 2014: a story naming talks due in 2014.
    text = (
        "SEOUL, Nov. 28 (Yonhap) -- The government said Thursday that talks are due.\n\n"
        "They are to open in 2014."
    )
    assert dateline_date(text, TODAY) == "2013-11-28"


def test_no_year_anywhere_means_no_date() -> None:
    assert dateline_date("SEOUL, Nov. 28 (Yonhap) -- The ministry said Thursday.", TODAY) is None


def test_years_after_this_one_are_not_publication_years() -> None:
    text = "WASHINGTON, March 3 (AP) -- A plan runs to 2040.\n\nIt began in 2019."
    assert dateline_date(text, TODAY) == "2019-03-03"


def test_no_dateline_no_date() -> None:
    assert dateline_date("The ministry said in 2013 that talks would resume.", TODAY) is None
    assert dateline_date("SEOUL (Yonhap) -- In 2013 the ministry said so.", TODAY) is None


def test_the_loader_dates_an_article_by_its_dateline_unless_front_matter_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.txt").write_text(
        "N. Korea courts ASEAN\n\nSEOUL, Nov. 28 (Yonhap) -- North Korea is stepping up efforts "
        "to forge closer ties with ASEAN, the government said Thursday.\n\n"
        "There have been 15 exchanges in 2013 alone.\n",
        encoding="utf-8",
    )
    (tmp_path / "b.md").write_text(
        '---\ntitle: "Rice aid"\ndate: "2013-11-29"\n---\n\nSEOUL, Nov. 28 (Yonhap) -- '
        "South Korea will send rice in 2013, officials said.\n",
        encoding="utf-8",
    )
    dates = {a.path: a.date for a in load_corpus(tmp_path).articles}
    assert dates == {"a.txt": "2013-11-28", "b.md": "2013-11-29"}
