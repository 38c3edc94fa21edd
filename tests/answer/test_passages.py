"""Passages worth reading: no padding, no headline twice, article metadata, answer spans, only=."""

from __future__ import annotations

from pathlib import Path

from bot.answer.cues import Cue
from bot.answer.engine import Engine
from bot.answer.models import Answer, Passage, Status
from bot.answer.spans import find_spans, spans_for
from bot.cli.output import BOLD, RESET
from bot.cli.text import format_answer

ARTICLES = {
    "bridge.md": """---
title: Harbour town gets a new bridge
url: https://example.org/bridge
date: 2024-05-06
---
Harbour town gets a new bridge

The council of Harbour Town opened a new bridge over the river on Monday.

The bridge cost 12 million euros and took three years to build.

The mayor, Ana Lopes, said the bridge would cut traffic in the old town.

Critics said the money should have gone to schools because the old ones are failing.
""",
    "ferry.txt": """Ferry service resumes in Harbour Town

The ferry service between Harbour Town and Port Ellis resumed on Friday after repairs.

Tickets cost four euros, the operator said.
""",
}


def _engine(tmp_path: Path) -> Engine:
    for name, text in ARTICLES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return Engine.from_folder(tmp_path)


def test_no_padding_and_no_headline_beside_its_sentence(engine: Engine) -> None:
    answer = engine.answer("why is NK courting ASEAN?", k=5)
    citations = [p.citation for p in answer.passages]
    assert citations[0] == "1.1"
    # The headline says what 1.1 says: it is not shown as a second passage.
    assert "0.1" not in citations
    # Passages that share a word with the question are not shown to fill k.
    died = engine.answer("when did Kim Jong-il die?", k=5)
    assert [p.citation for p in died.passages] == ["7.1"]
    assert not died.has_more


def test_passages_carry_the_articles_date_and_url(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    answer = engine.answer("how much did the bridge cost?")
    top = answer.passages[0]
    assert top.citations[0].endswith("2.1")
    assert top.url == "https://example.org/bridge" and top.date == "2024-05-06"


def test_answer_spans_mark_the_phrase_that_answers(tmp_path: Path) -> None:
    engine = _engine(tmp_path)

    def span(question: str) -> list[str]:
        top = engine.answer(question).passages[0]
        return [top.text[s:e] for s, e in top.answer_spans]

    assert span("how much did the bridge cost?")[0] == "12 million euros"
    assert "Monday" in span("when did the new bridge open?")
    assert "Ana Lopes" in span("who is the mayor?")
    assert span("why did critics say the money should have gone to schools?") == [
        "the old ones are failing"
    ]
    assert any("Port Ellis" in s for s in span("where does the ferry go from Harbour Town?"))


def test_spans_leave_out_the_questions_own_words() -> None:
    text = "Kim Jong-un met Xi Jinping in Beijing in March 2018."
    names = [text[s:e] for s, e in find_spans(Cue.NAME, text, frozenset({"kim", "jong", "un"}))]
    assert "Xi Jinping" in names and not any(n.startswith("Kim") for n in names)
    assert spans_for("what did they discuss?", text, frozenset()) == ()  # no question word in it
    dates = [text[s:e] for s, e in find_spans(Cue.DATE, text, frozenset())]
    assert dates == ["March 2018"]


def test_the_terminal_bolds_the_answer_span(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    text = format_answer(engine.answer("how much did the bridge cost?"), color=True)
    assert f"{BOLD}12 million euros" in text


def test_the_terminal_bolds_the_span_where_it_stands_only() -> None:
    text = "China said Monday that it backs the talks, and China will host them next spring."
    at = text.index("China will")
    passage = Passage(
        citation="1.1",
        text=text,
        article_key="talks",
        article_title="Talks",
        source="",
        score=1.0,
        matched=("China",),
        highlights=((0, 5), (at, at + 5)),
        context_before="",
        context_after="",
        citations=("1.1",),
        answer_spans=((text.index("Monday"), text.index(" the talks")), (at, at + 5)),
    )
    shown = format_answer(Answer("who hosts?", Status.ANSWERED, passages=(passage,)), 30, True)
    assert shown.count(BOLD) == 2 and shown.count(RESET) == 2
    # The first "China" stays plain; a phrase broken over lines is bold across the break.
    assert shown.startswith(f"[1.1] China said {BOLD}Monday that\n      it backs{RESET} the")
    assert f"{BOLD}China{RESET} will host" in shown


def test_only_limits_the_articles_an_answer_may_cite(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    everywhere = engine.answer("what does it cost?", k=5)
    keys = {p.article_key for p in everywhere.passages}
    assert keys == {"bridge", "ferry"}
    ferry = engine.answer("what does it cost?", k=5, only=frozenset({"ferry"}))
    assert {p.article_key for p in ferry.passages} == {"ferry"}
    assert ferry.passages[0].text.startswith("Tickets cost four euros")
    nothing = engine.answer("what does it cost?", only=frozenset())
    assert nothing.status is Status.NOT_FOUND
    unknown = engine.answer("what does it cost?", only=frozenset({"no-such-article"}))
    assert unknown.status is Status.NOT_FOUND
