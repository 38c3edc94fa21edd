"""Follow-up questions read in the context of the previous question and answer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.answer.engine import Engine
from bot.answer.followup import FollowUp, as_follow_up, is_follow_up, restates
from bot.answer.models import Status

CORPUS = Path(__file__).parents[2] / "corpus"


@pytest.mark.parametrize(
    "question",
    [
        "and when was that?",
        "what about China?",
        "why?",
        "when did he die?",
        "is it likely to work?",
        "between whom?",
        "How about Russia",
        "how did the world react?",
        "does Seoul agree?",
        "how old was the new ruler then?",
        "were other plants hit as well?",
    ],
)
def test_short_or_pronoun_laden_questions_are_follow_ups(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "who imposed sanctions after the nuke test?",
        "which countries share similar political systems with Pyongyang?",
        "what did ASEAN defense ministers say about nuclear weapons?",
        "how did China respond to the sanctions?",
        "what did the North do this year?",
    ],
)
def test_full_questions_stand_on_their_own(question: str) -> None:
    assert not is_follow_up(question)


def test_a_pronoun_is_resolved_by_the_previous_question(engine: Engine) -> None:
    previous = "when did Kim take control of North Korea?"
    assert engine.answer("how old is he?").status is Status.NOT_FOUND
    after = engine.answer("how old is he?", previous=previous)
    assert after.status is Status.ANSWERED
    assert after.passages[0].citations[0] == "7.1"
    assert after.read_with == previous
    assert after.notes and previous in after.notes[0]


def test_a_continuation_is_read_with_the_previous_question_even_when_less_sure(
    engine: Engine,
) -> None:
    # Alone, "same for China?" finds the leader's planned visit to China (12.1), and more
    # confidently; it asks whether the North courts China too (2.1: "mend fences with
    # neighbors such as China").
    previous = FollowUp.from_answer(engine.answer("why is the North courting ASEAN?"))
    alone = engine.answer("same for China?")
    assert alone.passages[0].citations == ("12.1",)
    after = engine.answer("same for China?", previous=previous)
    assert after.read_with == "why is the North courting ASEAN?"
    assert after.passages[0].citations == ("2.1",)
    assert after.confidence < alone.confidence
    # A continuation naming what the article never mentions is still read alone.
    assert engine.answer("what about Japan?", previous=previous).status is Status.NOT_FOUND


def test_a_question_with_words_of_its_own_is_read_together_only_when_that_is_surer(
    engine: Engine,
) -> None:
    # The previous answer (12.1, the leader's visit to China) does not hold the father;
    # "father" alone finds him, more confidently than read with the previous question.
    previous = "who is North Korea's leader?"
    shown = engine.answer(previous)
    after = engine.answer("who was his father?", previous=FollowUp.from_answer(shown))
    alone = engine.answer("who was his father?")
    assert after.read_with is None and after.confidence == alone.confidence
    assert after.passages[0].citations[0] == "7.1"
    # Where the question says only what kind of thing it wants, the previous topic holds.
    year = engine.answer("in what year?", previous="how many senior-level exchanges were there?")
    assert year.read_with == "how many senior-level exchanges were there?"
    assert year.passages[0].citations[0] == "3.2"


def test_a_reading_alone_far_from_every_sentence_stands_as_the_model_labels_it(
    engine: Engine,
) -> None:
    # Far from every sentence, a reading alone stands at nothing only when the model
    # declines it for that distance; one whose words answer it well keeps its probability.
    reading = engine.assess("who took control of North Korea in 2011?")[1]
    assert reading is not None
    far = replace(reading, scored=replace(reading.scored, nearest=0.1))
    model = engine.answerability
    kept = replace(model.thresholds, on_topic=0.3, low=far.probability - 0.01)
    dropped = replace(kept, low=far.probability + 0.01, decline=far.probability - 0.02)
    conversation = engine._conversation()
    standing = [
        replace(conversation, model=replace(model, thresholds=t)).standing(far)
        for t in (kept, dropped)
    ]
    assert standing == [far.probability, 0.0]


def test_a_bare_why_is_read_with_the_previous_question(engine: Engine) -> None:
    assert engine.answer("why?").status is Status.USAGE
    answer = engine.answer("why?", previous="who slapped sanctions on the North?")
    assert answer.passages[0].citations[0] == "5.1"


def test_follow_up_from_the_previous_answer(engine: Engine) -> None:
    first = engine.answer("what did ASEAN defense ministers say?")
    context = FollowUp.from_answer(first)
    assert context.question == "what did ASEAN defense ministers say?"
    assert context.citations == first.passages[0].citations
    answer = engine.answer("when was that?", previous=context)
    assert answer.passages[0].citations[0] == "10.1"


def test_chains_keep_one_level_of_context(engine: Engine) -> None:
    first = engine.answer("who was Kim Jong-un's father?")
    one = FollowUp.from_answer(first)
    second = engine.answer("when did he die?", previous=one)
    two = FollowUp.from_answer(second, previous=one)
    assert two.context == "who was Kim Jong-un's father?"
    assert two.text.startswith("who was Kim Jong-un's father? when did he die?")
    third = engine.answer("and how old was he then?", previous=two)
    assert third.passages[0].citations[0] == "7.1"


def test_a_standalone_question_ignores_the_previous_one(engine: Engine) -> None:
    plain = engine.answer("who imposed sanctions after the nuke test?")
    after = engine.answer(
        "who imposed sanctions after the nuke test?", previous="is the move likely to fail?"
    )
    assert [p.citation for p in after.passages] == [p.citation for p in plain.passages]
    assert after.notes == ()


def test_a_follow_up_about_something_the_article_never_names_is_declined(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "what about Japan?", previous="who are North Korea's traditional supporters?"
    )
    assert answer.status is Status.NOT_FOUND
    known = engine.answer(
        "what about Russia?", previous="who is Pyongyang trying to mend fences with?"
    )
    assert known.status is Status.ANSWERED
    assert "11.1" in known.passages[0].citations


def test_previous_may_be_empty_or_a_string() -> None:
    assert as_follow_up(None) is None
    assert as_follow_up("  ") is None
    assert as_follow_up("why?") == FollowUp(question="why?")
    context = FollowUp("a", ("1.1",))
    assert as_follow_up(context) is context


def test_the_repl_reads_follow_ups_in_context(engine: Engine) -> None:
    from bot.cli.repl import Repl

    lines = iter(["when did Kim take control of North Korea?", "how old is he?", ":quit"])
    out: list[str] = []
    repl = Repl(engine, lambda _prompt: next(lines), out.append, k=1)
    assert repl.run() == 0
    previous = "when did Kim take control of North Korea?"
    assert repl.context is not None and repl.context.context == previous
    shown = out[-1].splitlines()
    assert shown[0] == f"(read with your previous question: \u201c{previous}\u201d)"
    assert shown[1].startswith("[7.1]")


def test_new_in_the_repl_forgets_the_previous_question(engine: Engine) -> None:
    from bot.cli.repl import Repl

    lines = iter(["who was Kim Jong-un's father?", ":new", "when did he die?", ":quit"])
    out: list[str] = []
    repl = Repl(engine, lambda _prompt: next(lines), out.append, k=1)
    assert repl.run() == 0
    assert out[-2] == "(new conversation: the next question is read on its own)"
    assert "read with your previous question" not in out[-1]
    assert repl.context is None or repl.context.question == "when did he die?"


def test_a_switch_to_an_unanswerable_question_is_declined_as_alone(engine: Engine) -> None:
    alone = engine.answer("what is the capital of Laos?")
    after = engine.answer("what is the capital of Laos?", previous="will Kim visit China?")
    assert alone.status is after.status is Status.NOT_FOUND
    assert after.read_with is None and after.confidence == alone.confidence


def test_a_named_subject_asking_what_the_corpus_lacks_is_read_alone(engine: Engine) -> None:
    # "and" makes it look like a follow-up, but it names its own subject (China) and
    # asks for something no sentence mentions: read alone, it is declined as alone.
    question = "and what is China's population?"
    alone = engine.answer(question)
    after = engine.answer(question, previous="will Kim visit China?")
    assert alone.status is after.status is Status.NOT_FOUND
    assert after.read_with is None and after.confidence == alone.confidence
    # A word the corpus lacks in a question that points back is only the user's wording.
    punished = engine.answer(
        "who punished the North for it?", previous="when was the third nuclear test?"
    )
    assert punished.read_with == "when was the third nuclear test?"
    assert punished.passages[0].citations[0] == "5.1"


def test_a_follow_up_with_words_of_its_own_is_embedded_alone() -> None:
    from bot.answer.query import build_query, with_context
    from bot.index.aliases import build_aliases

    aliases = build_aliases(None, [])
    earlier = build_query("who is Pyongyang trying to mend fences with?", aliases)
    russia = with_context(build_query("what about Russia?", aliases), earlier, 0.5)
    assert russia.meaning_text == "what about Russia?"
    assert russia.text == "who is Pyongyang trying to mend fences with? what about Russia?"
    assert {"pyongyang", "russia"} <= russia.terms
    why = with_context(build_query("why?", aliases), earlier, 0.5)
    assert why.meaning_text == why.text == "who is Pyongyang trying to mend fences with? why?"


@pytest.mark.parametrize(
    ("previous", "question"),
    [
        ("when did Kim take control of North Korea?", "who will succeed him?"),
        ("who imposed sanctions on the North?", "how much did they cost?"),
        # A rank the article never uses picks out a test it never mentions.
        ("when did the North carry out its third nuclear test?", "and the fifth?"),
        # "sports" only names a kind of thing, but "enjoy" asks what no sentence holds.
        ("who took control of North Korea in 2011?", "what sports does he enjoy?"),
        ("who imposed sanctions on the North?", "what penalties did they dislike?"),
        # "what X is it?" asks for an X, which no sentence names ("support" is there).
        ("will Kim visit China?", "what colour is it?"),
        ("who was Kim Jong-un's father?", "what team does he support?"),
        ("who imposed sanctions on the North?", "what breed of dog do they keep?"),
        # No number of the article counts children, whatever the answer shown gives.
        ("who was Kim Jong-un's father?", "how many children does he have?"),
    ],
)
def test_a_follow_up_asking_only_what_no_sentence_holds_is_declined(
    engine: Engine, previous: str, question: str
) -> None:
    after = engine.answer(question, previous=FollowUp.from_answer(engine.answer(previous)))
    assert after.status is Status.NOT_FOUND and after.read_with is None


@pytest.mark.parametrize(
    ("question", "read_with"),
    [
        # "reckoned" is nowhere in the article; the answer shown gives an age.
        ("how old is he reckoned to be?", True),
        # The answer shown names no place: where he was schooled is not there.
        ("where was he schooled?", False),
    ],
)
def test_other_words_are_read_with_an_answer_holding_what_they_ask(
    engine: Engine, question: str, read_with: bool
) -> None:
    previous = "who took control of North Korea in 2011?"
    after = engine.answer(question, previous=FollowUp.from_answer(engine.answer(previous)))
    if read_with:
        assert after.read_with == previous and after.passages[0].citations[0] == "7.1"
    else:
        assert after.read_with is None and after.status is Status.NOT_FOUND


@pytest.mark.parametrize(
    ("previous", "question", "citation"),
    [
        ("how many senior-level exchanges were there in 2013?", "with which group?", "3.2"),
        ("who took control of North Korea in 2011?", "how old is this man?", "7.1"),
    ],
)
def test_a_noun_that_only_names_a_kind_of_thing_keeps_the_previous_topic(
    engine: Engine, previous: str, question: str, citation: str
) -> None:
    # "group" and "man" are nowhere in the article; "which" and "this" point back.
    after = engine.answer(question, previous=FollowUp.from_answer(engine.answer(previous)))
    assert after.read_with == previous
    assert citation in after.passages[0].citations[0]


def test_a_definite_description_the_article_never_uses_refers_back(engine: Engine) -> None:
    # The article says "Kim" and "the young leader", never "the new leader".
    previous = "who took control of North Korea after Kim Jong-il died?"
    assert engine.answer("how old is the new leader?").status is Status.NOT_FOUND
    context = FollowUp.from_answer(engine.answer(previous))
    answer = engine.answer("how old is the new leader?", previous=context)
    assert answer.read_with == previous
    assert answer.passages[0].citations[0] == "7.1"
    # Read together, it keeps the question it was read with for the next one.
    assert FollowUp.from_answer(answer, previous=context).context == previous
    # A capitalised name is a thing of its own: "the World Cup" is declined as alone.
    cup = engine.answer("who won the World Cup?", previous=previous)
    assert cup.status is Status.NOT_FOUND and cup.read_with is None


@pytest.mark.parametrize(
    ("question", "earlier", "again"),
    [
        ("and what did the insider say?", "what did the anonymous official say?", True),
        ("what did the insider say?", "what did the anonymous official say?", True),
        ("and what did he say?", "what did the anonymous official say?", False),
        ("what about Russia?", "who is Pyongyang trying to mend fences with?", False),
        ("and in 2010?", "how many senior-level exchanges were there in 2013?", False),
    ],
)
def test_restating_the_previous_question_about_something_else(
    question: str, earlier: str, again: bool
) -> None:
    assert restates(question, earlier) is again


def test_a_question_asked_again_about_something_else_is_read_alone(engine: Engine) -> None:
    previous = FollowUp.from_answer(engine.answer("what did the anonymous official say?"))
    assert previous.citations == ("4.1",)
    alone = engine.answer("and what did the insider say?")
    again = engine.answer("and what did the insider say?", previous=previous)
    assert again.read_with is None
    assert [p.citation for p in again.passages] == [p.citation for p in alone.passages]
    assert again.passages[0].citation == "9.2"


@pytest.mark.parametrize(
    ("previous", "question"),
    [
        # "its" points at the North Korea the question names itself.
        ("will Kim visit China?", "How much money does North Korea spend on its military?"),
        # "this year" names a time, not something said before.
        ("why is NK courting ASEAN?", "How much aid did China give North Korea this year?"),
        # "the sky" is all new words: a new thing, not the conversation's.
        ("what did the anonymous official say?", "Why is the sky blue?"),
        # A description that picks its thing out by itself.
        ("what did the media report say about a trip?", "What is the speed of light?"),
        ("who was Kim Jong-un's father?", "When was the first nuclear test?"),
    ],
)
def test_a_question_that_does_not_refer_back_is_answered_as_alone(
    engine: Engine, previous: str, question: str
) -> None:
    alone = engine.answer(question)
    after = engine.answer(question, previous=FollowUp.from_answer(engine.answer(previous)))
    assert after.read_with is None
    assert (after.status, after.confidence, after.passages) == (
        alone.status,
        alone.confidence,
        alone.passages,
    )


def test_a_place_the_article_writes_as_its_demonym_is_searched_as_written(
    engine: Engine,
) -> None:
    # The article says "African countries", never "Africa".
    previous = "which countries does the North have cordial ties with?"
    after = engine.answer(
        "what about Africa?", previous=FollowUp.from_answer(engine.answer(previous))
    )
    assert after.read_with == previous
    assert after.passages[0].citation == "11.1"


NEWS = Path(__file__).parents[2] / "eval" / "followup2"  # two BBC business articles


@pytest.mark.parametrize(
    ("previous", "shown", "question"),
    [
        # "exceed" is nowhere in the articles: the question asks whether the growth
        # just shown beat its forecast.
        (
            "what growth was forecast for France in the three months to December?",
            "bbc-french-economy:2.1",
            "did they exceed it?",
        ),
        # "exactly" frames the question; the answer shown gives the figure ("45% higher").
        (
            "how much higher are oil prices than a year ago?",
            "bbc-us-crude-prices:3.5",
            "by how much exactly?",
        ),
    ],
)
def test_a_bare_question_about_the_answer_shown_is_answered_by_it(
    previous: str, shown: str, question: str
) -> None:
    engine = Engine.from_folder(NEWS)
    context = FollowUp.from_answer(engine.answer(previous))
    assert context.citations == (shown,)
    asked = engine.answer(question, previous=context)
    assert asked.read_with == previous
    assert asked.passages[0].citation == shown


def test_more_of_the_same_besides_the_answer_shown_is_read_with_it() -> None:
    # "other ... too" asks past the Western Refining fire shown: the Houston refinery.
    engine = Engine.from_folder(NEWS)
    previous = "why did the Western Refining refinery stop production?"
    context = FollowUp.from_answer(engine.answer(previous))
    assert context.citations == ("bbc-us-crude-prices:2.3",)
    asked = engine.answer("did other plants have problems too?", previous=context)
    assert asked.read_with == previous
    assert asked.passages[0].text.startswith("Elsewhere, a refinery in Houston was closed")


def test_a_wh_question_in_other_words_needs_the_answer_shown_to_hold_it() -> None:
    # "what did they exceed?" asks for a thing, and "exceed" names nothing shown.
    engine = Engine.from_folder(NEWS)
    previous = "what growth was forecast for France in the three months to December?"
    named = engine.answer(
        "what did they exceed?", previous=FollowUp.from_answer(engine.answer(previous))
    )
    assert named.read_with is None and named.status is Status.NOT_FOUND


def test_a_date_asked_after_an_answer_without_one_is_not_sought_beside_it(
    engine: Engine,
) -> None:
    # The answer shown (3.1) names no date, so it and its neighbours are not lifted
    # above the sentence that dates the takeover.
    previous = "who took control of North Korea?"
    shown = FollowUp(question=previous, citations=("3.1",))
    asked = engine.answer("in what year?", previous=shown)
    assert asked.read_with == previous
    assert asked.passages[0].citations[0] == "7.1"
