"""Answer spans: the stretch in the question word's slot, and the one best candidate marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer.cues import Cue, question_cue
from bot.answer.engine import Engine
from bot.answer.slots import asked_cue, shape_of, stretches
from bot.answer.span_ranker import FEATURES, features, read_words
from bot.answer.span_weights import WEIGHTS
from bot.answer.spans import candidates, spans_for
from bot.index.tokenize import terms, words


def _span(question: str, text: str) -> list[str]:
    return [text[s:e] for s, e in spans_for(question, text, frozenset(terms(question)))]


def test_the_shape_says_where_the_question_word_stands() -> None:
    subject = shape_of("What caused the delay?")
    assert subject.subject and not subject.object
    definition = shape_of("What is the name of the latest epoch?")
    assert definition.object and not definition.subject
    assert definition.head == frozenset({"name"})
    assert shape_of("What did Kenya unveil?").head == frozenset()
    assert shape_of("They were licensed by what church?").preposition == "by"
    assert shape_of("What does the council consist of?").preposition == "of"
    assert shape_of("What did Kenya unveil in 2030?").preposition == ""
    headed = shape_of("What theorem did Manuel Blum prove?")
    assert headed.head == frozenset({"theorem"}) and not headed.subject
    middle = shape_of("The church prohibits the celebration of what type of unions?")
    assert middle.left == frozenset({"church", "prohibit", "celebr"})
    assert middle.head == frozenset({"union"})
    assert shape_of("Tell me about the bridge.") == shape_of("")


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # what + noun, answer named after "called"
        (
            "What is the name of the latest epoch?",
            "The latest epoch is called the Holocene.",
            "Holocene",
        ),
        # the wh-word mid-question: the slot after "celebration of", a hyphenated word kept whole
        (
            "The church prohibits the celebration of what type of unions?",
            "In addition, the church prohibits the celebration of same-sex unions.",
            "same-sex",
        ),
        # to what + noun
        (
            "To what level would the hierarchy collapse?",
            "If graph isomorphism is NP-complete, the polynomial time hierarchy collapses to its "
            "second level.",
            "second",
        ),
        # the wh-word is the subject: the answer comes before the question's words
        ("What caused the delay?", "Heavy rain caused the delay of the opening.", "Heavy rain"),
        # which + noun, a name
        (
            "Which rail line operates in Melbourne?",
            "Metro Trains Melbourne operates the city's rail network.",
            "Metro Trains",
        ),
        # what + auxiliary: the object after the verb
        (
            "What would the bridge cut?",
            "The mayor said the bridge would cut traffic in the old town.",
            "traffic in the old town",
        ),
        # how + verb: the manner
        (
            "How did the war start?",
            "The war started with a border clash in the disputed valley.",
            "border clash in the disputed valley",
        ),
        # what kind of
        (
            "What kind of economy does Victoria have?",
            "The economy of Victoria is highly diversified: service sectors employ most people.",
            "highly diversified",
        ),
    ],
)
def test_untyped_questions_get_the_stretch_in_their_slot(
    question: str, text: str, expected: str
) -> None:
    assert _span(question, text) == [expected]


def test_no_slot_without_the_questions_words() -> None:
    text = "Kim Jong-un met Xi Jinping in Beijing in March 2018."
    assert spans_for("what did they discuss?", text, frozenset()) == ()
    assert spans_for("what did the council build?", "", frozenset({"council"})) == ()
    # Only stretches in a sentence holding some of the question's words are candidates.
    two = "The council met on Monday. Rain fell all week in the hills."
    _, found = candidates("what did the council do?", two, frozenset({"council"}), None)
    spans = [two[c.span[0] : c.span[1]] for c in found]
    assert spans and all(two.index(s) < two.index("Rain") for s in spans)


def test_a_keyword_query_has_no_slot_to_fill() -> None:
    text = "The mayor said the bridge would cut traffic in the old town."
    assert _span("bridge traffic", text) == []  # the renderers bold the matched words instead
    assert _span("bridge traffic?", text) != []


def test_a_yes_no_question_has_no_slot_unless_it_names_the_alternatives() -> None:
    # The statement answers "would the bridge cut traffic?"; no phrase beside its words does.
    text = "The mayor said the bridge would cut traffic in the old town."
    assert _span("would the bridge cut traffic", text) == []
    assert _span("is the bridge likely to cut traffic?", text) == []
    choice = "The council chose steel rather than stone for the bridge."
    assert _span("did the council choose stone or steel?", choice) != []


def test_a_typed_question_whose_type_is_missing_falls_back_to_the_slot() -> None:
    # "who" asks for a name, and the sentence has none: the slot still marks the answer.
    assert _span(
        "Who repaired the old bridge?", "The old bridge was repaired by local volunteers."
    ) == ["local volunteers"]


def test_a_reason_given_in_so_many_words_answers_why_alone() -> None:
    question = "Why is the North courting ASEAN?"
    text = "The North is forging closer ties with ASEAN in a bid to weaken sanctions, it said."
    cue = asked_cue(question, question_cue(question))
    found = candidates(question, text, frozenset(terms(question)), cue)[1]
    assert [text[c.span[0] : c.span[1]] for c in found] == ["weaken sanctions"]
    # Without such words, a stretch in the slot may say why ("to" + verb is no stated reason).
    text = "The North is forging closer ties with ASEAN to weaken sanctions, it said."
    found = candidates(question, text, frozenset(terms(question)), cue)[1]
    assert any(not c.typed for c in found)


def test_a_date_or_number_question_is_never_answered_by_a_slot() -> None:
    text = "The old bridge was repaired by local volunteers."
    assert _span("How old is the bridge?", text) == []
    assert _span("When was the old bridge repaired?", text) == []


def test_every_feature_has_a_weight_for_every_question_type() -> None:
    assert set(WEIGHTS) == {"none", "date", "number", "name", "place", "reason"}
    assert all(len(vector) == len(FEATURES) for vector in WEIGHTS.values())
    question, text = "Who caused the delay?", "Heavy rain caused the delay, Ana Lopes said."
    passage, found = candidates(question, text, frozenset({"caus", "delay"}), None)
    rows = features(passage, found, shape_of(question))
    assert len(rows) == len(found) > 1 and all(len(row) == len(FEATURES) for row in rows)


def _feature_of(question: str, text: str, phrase: str, feature: str) -> float:
    """Return one feature of the candidate marking phrase, the question's words as searched."""
    cue = asked_cue(question, question_cue(question))
    passage, found = candidates(question, text, frozenset(terms(question)), cue)
    rows = features(passage, found, shape_of(question))
    row = next(r for c, r in zip(found, rows, strict=True) if text[c.span[0] : c.span[1]] == phrase)
    return row[FEATURES.index(feature)]


def test_an_apposition_beside_the_questions_words_is_told() -> None:
    text = "The plan was noticed by the governor, the Marquis de Vaudreuil, in May."
    question = "Who was the governor?"
    assert _feature_of(question, text, "Marquis de Vaudreuil", "apposition") == 1.0
    assert _feature_of(question, text, "plan was noticed", "apposition") == 0.0


def test_a_modifier_of_the_questions_head_noun_is_told() -> None:
    text = "A universal Ku band LNB is fitted at the end of the dish."
    question = "What band is the LNB fitted for?"
    assert _feature_of(question, text, "universal Ku", "head_follows") == 1.0
    assert _feature_of(question, text, "end of the dish", "head_follows") == 0.0


def test_a_candidate_after_the_preposition_governing_the_wh_word_is_told() -> None:
    text = "Allen was ordained by the Methodist Church. He was licensed by St. George's Church."
    question = "Allen was licensed by what church?"
    assert _feature_of(question, text, "St. George's", "same_preposition") == 1.0
    assert _feature_of(question, text, "ordained by the Methodist", "same_preposition") == 0.0


def test_the_engine_marks_a_span_for_a_what_question(tmp_path: Path) -> None:
    (tmp_path / "bridge.txt").write_text(
        "Harbour town gets a new bridge\n\n"
        "The mayor said the bridge would cut traffic in the old town.\n\n"
        "The bridge cost 12 million euros.\n",
        encoding="utf-8",
    )
    answer = Engine.from_folder(tmp_path).answer("what would the bridge cut?")
    top = answer.passages[0]
    assert [top.text[s:e] for s, e in top.answer_spans] == ["traffic in the old town"]


@pytest.mark.parametrize(
    ("question", "cue"),
    [
        # "when" sets the scene; the question asks for a name, or for no type at all
        ("Who was the chief executive when the service began?", Cue.NAME),
        ("When rock folds upwards, what does it create?", None),
        ("What did the delegates hope for when meeting the minister?", None),
        # "when" asks
        ("When did the bridge open?", Cue.DATE),
        ("when Kim visited China?", Cue.DATE),
        ("The rocks have been in place since when?", Cue.DATE),
    ],
)
def test_a_when_clause_that_sets_the_scene_does_not_ask_for_a_date(
    question: str, cue: Cue | None
) -> None:
    assert asked_cue(question, question_cue(question)) is cue


def test_the_scene_when_clause_leaves_the_name_to_be_marked() -> None:
    text = "The service began in 1993, and Sam Chisholm was its chief executive."
    assert _span("Who was the chief executive when the service began?", text) == ["Sam Chisholm"]


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        (
            "How long ago did primates live in the valley?",
            "Primates lived in the valley more than 20 million years ago, fossils show.",
            "more than 20 million years ago",
        ),
        (
            "When were the rocks laid down?",
            "The rocks were laid down in the Cambrian period by a shallow sea.",
            "the Cambrian period",
        ),
        (
            "When was the long episode shown?",
            "The long episode was shown on Christmas Day to ten million viewers.",
            "Christmas Day",
        ),
        (
            "When did the farmers reach the coast?",
            "The farmers reached the coast by the first millennium AD.",
            "the first millennium AD",
        ),
        (
            "How many channels could the service carry?",
            "The new service could carry hundreds of channels.",
            "hundreds",
        ),
    ],
)
def test_dates_and_numbers_in_words(question: str, text: str, expected: str) -> None:
    assert _span(question, text) == [expected]


def test_a_name_made_of_the_questions_words_is_no_answer() -> None:
    # "Who" is no search term, yet "Doctor Who" only repeats the question's words.
    question = "Who published the Doctor Who magazine?"
    text = "The Doctor Who magazine was published by Panini."
    _, found = candidates(question, text, frozenset(terms(question)), Cue.NAME)
    assert [text[c.span[0] : c.span[1]] for c in found if c.typed] == ["Panini"]


def test_an_abbreviations_full_stop_ends_no_sentence() -> None:
    text = "About 3.6% of the U.S. population are members. Mt. Kenya is 5,199 m high."
    tokens = words(text)
    passage = read_words(text, tokens, [False] * len(tokens))
    sentence = {t.word: passage.sentence[i] for i, t in enumerate(tokens)}
    assert sentence["about"] == sentence["population"] == sentence["members"] == 0
    assert sentence["mt"] == sentence["kenya"] == sentence["high"] == 1


def test_an_abbreviations_full_stop_parts_no_stretch() -> None:
    text = "They were licensed by St. George's Church in 1784."
    assert _span("By what church were they licensed?", text) == ["St. George's"]
    text = "The council slapped sanctions on the North on Feb. 12, despite warnings."
    stretches_of = stretches(text, words(text), [False] * len(words(text)))
    assert [text[words(text)[a].start : words(text)[b].end] for a, b in stretches_of][:1] == [
        "council slapped sanctions on the North on Feb. 12"
    ]


def test_a_name_keeps_its_initials_and_particles() -> None:
    question = "Who measured the speed of light?"
    text = "The speed of light was measured by A. A. Michelson, and later by Abu al-Qasim."
    _, found = candidates(question, text, frozenset(terms(question)), Cue.NAME)
    names = [text[c.span[0] : c.span[1]] for c in found if c.typed]
    assert names == ["A. A. Michelson", "Abu al-Qasim"]
