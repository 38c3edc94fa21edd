"""Bare "why?", "how?" and "who says so?" after an answer: the passage that explains it."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path

import pytest

from bot.answer.engine import Engine
from bot.answer.explanations import Asks, asks, carries_on, explains
from bot.answer.followup import FollowUp
from bot.answer.models import Answer, Status
from bot.cli.repl import Repl


def after(engine: Engine, previous: str, question: str) -> tuple[FollowUp, Answer]:
    """Ask previous, then question as its follow-up; return the context and the answer."""
    context = FollowUp.from_answer(engine.answer(previous))
    return context, engine.answer(question, previous=context)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("why?", Asks.REASON),
        ("Why not?", Asks.REASON),
        ("and why is that?", Asks.REASON),
        ("how so?", Asks.REASON),
        ("how come?", Asks.REASON),
        ("what for?", Asks.REASON),
        ("based on what?", Asks.REASON),
        ("on what grounds?", Asks.REASON),
        ("what was the reason?", Asks.REASON),
        ("why did they do that?", Asks.REASON),
        ("what caused it?", Asks.REASON),
        ("what's their rationale?", Asks.REASON),
        ("what is it based on?", Asks.REASON),
        ("what were his reasons behind it?", Asks.REASON),
        ("what was the reason for the sanctions?", None),
        ("how?", Asks.MEANS),
        ("who says so?", Asks.SOURCE),
        ("says who?", Asks.SOURCE),
        ("according to whom?", Asks.SOURCE),
        ("who told you that?", Asks.SOURCE),
        ("whose view is this?", Asks.SOURCE),
        ("who told Seoul about the trip?", None),
        ("why did he die?", None),
        ("how old is he?", None),
        ("who says the move will fail?", None),
        ("will it work?", Asks.OUTCOME),
        ("is it going to succeed?", Asks.OUTCOME),
        ("and is it likely to fail?", Asks.OUTCOME),
        ("do you think it will work?", Asks.OUTCOME),
        ("is it gonna fail tho?", Asks.OUTCOME),
        ("will Kim visit China?", None),
        ("will it rain?", None),
        ("does the plan work for Seoul?", None),
    ],
)
def test_only_a_bare_request_asks_for_an_explanation(question: str, kind: Asks | None) -> None:
    assert asks(question) is kind


def test_a_pronoun_speaker_carries_on_the_account() -> None:
    assert carries_on('"We see no evidence of it," he said.')
    assert carries_on("She pointed out that the talks had stalled.")
    # A quotation given to someone new starts another account.
    assert not carries_on('"The move can be seen as an effort," said an official.')
    assert not carries_on("There have been 15 exchanges in 2013 alone.")


def share(topic: AbstractSet[str]) -> Callable[[AbstractSet[str]], float]:
    """Return a cover function: the share of the topic's terms a set of terms holds."""
    return lambda found: len(topic & found) / len(topic)


def test_a_reason_explains_the_topic_only_when_it_is_not_about_it() -> None:
    cover = share({"sanction", "impos"})
    assert explains("The council imposed sanctions for conducting a test.", cover, Asks.REASON)
    # The sanctions are what this effort is for, not what the reason explains.
    assert not explains(
        "The North courts its neighbours in a bid to weaken sanctions imposed on it.",
        cover,
        Asks.REASON,
    )
    assert explains(
        "The North courts its neighbours in a bid to weaken sanctions imposed on it.",
        cover,
        Asks.MEANS,
    )
    assert not explains("The council imposed sanctions on Monday.", cover, Asks.REASON)


def test_an_outcome_is_a_sentence_about_the_topic_that_judges_it() -> None:
    cover = share({"move", "weaken"})
    assert explains("The move to weaken the sanctions is likely to fail.", cover, Asks.OUTCOME)
    # An outcome word about something else, or the topic without an outcome, is not one.
    assert not explains("The talks are likely to fail.", cover, Asks.OUTCOME)
    assert not explains("The move aims to weaken the sanctions.", cover, Asks.OUTCOME)
    # "hard at work" is no verdict on how the effort turns out.
    assert not explains("The North is hard at work on the move.", cover, Asks.OUTCOME)


@pytest.mark.parametrize(
    ("previous", "question"),
    [
        ("what is North Korea trying to achieve with ASEAN?", "will it work?"),
        (
            "who said that Pyongyang wants to weaken the sanctions?",
            "did they think it would succeed?",
        ),
    ],
)
def test_will_it_work_is_answered_by_the_verdict_on_the_topic(
    engine: Engine, previous: str, question: str
) -> None:
    # Alone, "will it work?" finds "hard at work" (11.1) and the other is declined;
    # about the previous topic each asks how it turns out: 8.1, "...likely to fail".
    _, answer = after(engine, previous, question)
    assert answer.passages[0].citation == "8.1"
    assert answer.read_with == previous
    alone = engine.answer(question)
    assert [p.citation for p in alone.passages[:1]] != ["8.1"]


def test_why_after_a_claim_without_a_reason_shows_it_with_the_next_sentence(
    engine: Engine,
) -> None:
    assert engine.answer("why not?").status is Status.USAGE
    previous = "does Seoul expect Kim Jong-un to visit China?"
    context, answer = after(engine, previous, "why not?")
    assert context.citations == ("12.1",)
    # 13.1 ('"...no real evidence indicating a trip will take place...," he said.')
    # shares no word with either question: the official's next words give the reason.
    assert answer.passages[0].citation == "12.1-13.1"
    assert answer.read_with == previous


def test_why_keeps_an_answer_whose_next_sentence_starts_another_account(
    engine: Engine,
) -> None:
    # 3.1 says why ("which all share similar political systems") without a reason word;
    # 3.2 ("There have been 15 senior-level exchanges...") does not carry it on.
    _, answer = after(engine, "which countries has North Korea had cordial ties with?", "why?")
    assert answer.passages[0].citations[0] == "3.1"


@pytest.mark.parametrize(
    ("previous", "question", "citation", "shown"),
    [
        # 1.1 was shown, but its "in a bid to weaken sanctions imposed..." is no reason
        # for the sanctions; 5.1 gives it: "...sanctions on the North for conducting...".
        ("who imposed sanctions on North Korea?", "why?", "5.1", "1.1"),
        ("who sanctioned North Korea?", "what for?", "5.1", "1.1"),
        ("who imposed sanctions on North Korea?", "what was the reason?", "5.1", "1.1"),
        # 8.1 (the source: Pyongyang "wants to weaken the global sanctions") was shown;
        # 1.1 says how: "...forge closer ties with ASEAN in a bid to weaken sanctions".
        ("who wants to weaken the sanctions?", "how?", "1.1", "8.1"),
    ],
)
def test_the_passage_that_explains_the_topic_comes_first(
    engine: Engine, previous: str, question: str, citation: str, shown: str
) -> None:
    context, answer = after(engine, previous, question)
    assert context.citations == (shown,)
    assert answer.passages[0].citation == citation


def test_a_request_in_words_the_article_never_uses_is_still_read_with_the_answer(
    engine: Engine,
) -> None:
    # No sentence says "come"; "how come?" asks only why.
    _, answer = after(engine, "does Seoul expect Kim Jong-un to visit China?", "how come?")
    assert answer.passages[0].citation == "12.1-13.1"


def test_why_in_the_previous_questions_words_asks_the_reason(engine: Engine) -> None:
    # "fail" is the previous question's word, so "why will it fail?" is a bare "why?":
    # 8.1 gives no reason, and 9.1 carries on the same speaker's account with it.
    previous = "who says the move is likely to fail?"
    _, answer = after(engine, previous, "why will it fail?")
    assert answer.read_with == previous
    assert answer.passages[0].citation == "8.1-9.1"
    assert [p.citation for p in engine.answer("why will it fail?").passages[:1]] == ["8.1"]


def test_who_says_so_shows_the_answer_that_names_its_source(engine: Engine) -> None:
    context, answer = after(engine, "why is NK courting ASEAN?", "who says so?")
    assert context.citations == ("1.1",)  # "..., the government said Thursday."
    assert answer.passages[0].citation == "1.1"
    assert answer.read_with == "why is NK courting ASEAN?"


def test_the_repl_shows_the_reading_and_the_claim_with_its_reason(engine: Engine) -> None:
    lines = iter(["does Seoul expect Kim Jong-un to visit China?", "why not?", ":quit"])
    out: list[str] = []
    assert Repl(engine, lambda _prompt: next(lines), out.append, k=1).run() == 0
    assert out[-1].splitlines()[:6] == [
        "(read with your previous question: \u201cdoes Seoul expect Kim Jong-un to visit China?\u201d)",
        "[12.1-13.1] The official, meanwhile, said that despite a media report hinting that the",
        "            North Korean leader will visit China in December, Seoul does not think that",
        '            such a development will occur. "In our view based on examination of overall',
        "            conditions and the timing, that there is no real evidence indicating a trip",
        '            will take place as reported," he said.',
    ]


def test_who_says_so_after_an_unattributed_answer_finds_the_passage_that_says() -> None:
    # 1.1 says "official figures show"; 2.1 names them: "According to ... INSEE, growth...".
    news = Engine.from_folder(Path(__file__).parents[2] / "eval" / "followup2")
    context, answer = after(
        news, "how fast did the French economy grow at the end of 2004?", "according to whom?"
    )
    assert context.citations == ("bbc-french-economy:1.1",)
    assert answer.passages[0].citations[0] == "bbc-french-economy:2.1"
