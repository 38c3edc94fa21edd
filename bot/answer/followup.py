"""Follow-up questions: read "and when was that?" in the context of the question before.

A front end keeps a :class:`FollowUp` for the last answer it showed (the REPL for
the session, the Discord bot for the message a user replies to) and passes it to
``Engine.answer(question, previous=follow_up)``. The engine decides whether the new
question leans on the previous one (it is short, starts with "and"/"what about",
or says "it", "that", "he"...) and, if so, searches with both: the new question's
words at full weight, the previous question's at a lower weight, and a small lift
for the sentences the previous answer showed and their neighbours. The reading
together is kept only when it answers with more confidence than the question alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.answer.decline import QUESTION_FRAME_TERMS, _content, known
from bot.answer.models import Answer
from bot.answer.query import Concept, Query
from bot.index.bm25 import BM25Index
from bot.index.tokenize import STOP_WORDS, terms

# Openings that continue the conversation rather than start a new topic.
_CONTINUATION = re.compile(
    r"^(?:and|but|so|also|then|or|plus|what\s+about|how\s+about|what\s+else|anything\s+else"
    r"|why\s+not|and\s+then|same\s+for)\b",
    re.IGNORECASE,
)
# Words that point back at something said before.
_ANAPHORA = frozenset(
    """it its it's itself that that's this these those they them their theirs themselves
    he him his himself she her hers herself such former latter then""".split()
)
# A reaction with nothing to react to ("how did the world react?", "does Seoul agree?"):
# to what was said.
_REACTION = re.compile(
    r"\b(?:react|reacted|respond|responded|reply|replied|retaliate|retaliated|agree|agreed"
    r"|disagree|disagreed|object|objected|approve|approved)\W*$",
    re.IGNORECASE,
)
# Something besides what was just said ("were other refineries hit too?").
_BESIDES = re.compile(
    r"\b(?:other|others|another|else|elsewhere)\b.*\b(?:too|also|as\s+well|either)\W*$",
    re.IGNORECASE,
)
_DEICTIC = frozenset("this that these those".split())
_TIMES = frozenset("year years month months week weeks day days time morning evening".split())
# Words before a noun that pick out a thing already in view ("which group", "this man").
_DETERMINERS = frozenset("which what whose this that these those the such other another".split())
# Determiners that ask for a thing of a kind ("what colour", "which group").
_INTERROGATIVES = frozenset("which what whose".split())
# The words of a kind asked for at most ("which football club", "what genre of music").
_KIND_PHRASE = 3
# Verbs that open the clause asking about it ("what colour *is* it?").
_AUXILIARIES = frozenset(
    "is are was were do does did has have had will would can could should".split()
)
# Words naming the kind of answer wanted, not a topic ("its reason", "her age").
_ANSWER_KINDS = frozenset(
    terms("reason reasons purpose cause causes motive age year date time place location")
)
# Question words that carry no topic of their own.
_QUESTION_WORDS = frozenset("what when where who whom whose which why how".split())
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Words that rank what they describe, so that it needs no earlier mention ("the first").
_RANKS = re.compile(
    r"^(?:first|second|third|fourth|fifth|last|next|previous|latest|\w+est)$", re.IGNORECASE
)
# At most this many topic words and a question is too short to stand on its own
# ("when?", "who says so?"); "what is the capital of Laos?" has two and stands alone.
SHORT_QUESTION_WORDS = 1


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up question is read against: the previous question and its answer.

    ``question`` is the previous question as asked, ``citations`` the citations of
    the best passage shown for it, and ``context`` what that question was itself read
    with when it was a follow-up too (one level is kept, so chains stay short).
    """

    question: str
    citations: tuple[str, ...] = ()
    context: str = ""

    @classmethod
    def from_answer(cls, answer: Answer, previous: FollowUp | None = None) -> FollowUp:
        """Build the context for the next question from the answer just shown."""
        top = answer.passages[:1]
        citations = tuple(c for p in top for c in (p.citations or (p.citation,)))
        context = ""
        if previous is not None and (answer.read_with is not None or is_follow_up(answer.question)):
            context = previous.question
        return cls(question=answer.question, citations=citations, context=context)

    @property
    def text(self) -> str:
        """Return the earlier words this context brings to a follow-up."""
        return f"{self.context} {self.question}".strip()


def as_follow_up(previous: FollowUp | str | None) -> FollowUp | None:
    """Accept a FollowUp, a bare previous question, or nothing."""
    if previous is None or isinstance(previous, FollowUp):
        return previous
    text = previous.strip()
    return FollowUp(question=text) if text else None


def continues(question: str) -> bool:
    """Tell whether a question opens as a continuation ("and ...", "what about ...")."""
    return bool(_CONTINUATION.match(question.strip()))


def is_follow_up(question: str) -> bool:
    """Tell whether a question refers back to the one before it (a pronoun, an ellipsis)."""
    text = question.strip()
    if continues(text):
        return True
    words = [w.casefold().replace("’", "'") for w in _WORD.findall(text)]
    if not words:
        return False
    if _pointers(words) or _REACTION.search(text) or besides(text):
        return True
    topic = [w for w in words if w not in STOP_WORDS and w not in _QUESTION_WORDS]
    # "by how much exactly?": words that only frame a question name no topic of their
    # own; "what role does China play" names China.
    framing = all(set(terms(w)) <= QUESTION_FRAME_TERMS for w in topic)
    return (framing or len(topic) <= SHORT_QUESTION_WORDS) and len(words) <= 5


def besides(question: str) -> bool:
    """Tell whether a question asks for more of the same besides what was shown ("... too?")."""
    return bool(_BESIDES.search(question))


def describes_back(query: Query, index: BM25Index) -> bool:
    """Tell whether a question says "the X" with a word the corpus never uses for it.

    "how old is the new leader?": the article says "Kim" and "the young leader", so
    "the new leader" is someone the conversation brought up. A description that
    picks its thing out by itself is no reference back: a capitalised name ("the
    World Cup"), one with a complement ("the speed of light") or a rank ("the first
    nuclear test"). Nor is a question whose other words the corpus never uses.
    """
    words = _WORD.findall(query.text)
    # A word of an alias the corpus knows by another name ("nuke test") is known too.
    aliased = {
        w.casefold() for c in query.concepts if known(c, index) for w in _WORD.findall(c.label)
    }
    described: list[str] = []
    for at, word in enumerate(words):
        if word.casefold() != "the":
            continue
        phrase = []
        for following in words[at + 1 : at + 3]:  # an adjective and its noun at most
            if following[:1].isupper() or following.casefold() in STOP_WORDS:
                break
            phrase.append(following.casefold())
        end = at + 1 + len(phrase)
        if not phrase or _RANKS.match(phrase[0]) or words[end : end + 1] == ["of"]:
            continue
        # Part of it is the corpus's ("leader"): a description in the user's words of
        # something the articles name; all of it new ("the sky") is a new thing.
        known_words = [w in aliased or _known_word(w, index) for w in phrase]
        if any(known_words) and not all(known_words):
            described.extend(phrase)
    if not described:
        return False
    # What else it asks about must be there; words that frame a question ("how old")
    # need not be.
    rest = [w for w in words if w.casefold() not in described and w.casefold() != "the"]
    return all(_known_word(w, index) or set(terms(w)) <= QUESTION_FRAME_TERMS for w in rest)


def _known_word(word: str, index: BM25Index) -> bool:
    """Tell whether the corpus uses a word (or has no term for it: a stop word)."""
    found = terms(word)
    return not found or any(_mentioned(t, index) for t in found)


def restates(question: str, earlier: str) -> bool:
    """Tell whether a question asks the earlier one again, about something else.

    "and what did the insider say?" after "what did the anonymous official say?": the
    same frame (every word that is not content, the opening "and" aside) around
    content of its own, which replaces the earlier question's instead of adding to it.
    """
    own_frame, own_content = _frame(question)
    their_frame, their_content = _frame(earlier)
    return bool(own_content) and own_frame == their_frame and own_content != their_content


def _frame(question: str) -> tuple[list[str], list[str]]:
    """Split a question's words into its frame (stop and question words) and its content."""
    words = [w.casefold().replace("’", "'") for w in _WORD.findall(question)]
    while words and continues(words[0]):
        words.pop(0)
    framing = [w in STOP_WORDS or w in _QUESTION_WORDS for w in words]
    return (
        [w for w, f in zip(words, framing, strict=True) if f],
        [w for w, f in zip(words, framing, strict=True) if not f],
    )


def own_topic(query: Query) -> list[Concept]:
    """Return what a question names of its own, beyond the kind of thing it points at.

    "who was his father?" names a father; "in what year?" and "how old is this man?"
    only say what kind of thing they want about the previous topic.
    """
    return [c for c in _content(query) if not _introduced(c, query)]


def new_unknowns(query: Query, index: BM25Index) -> bool:
    """Tell whether a question brings something the corpus never mentions.

    A name no sentence holds ("what about Japan?"), or a question that names its own
    subject without pointing back and asks for what no sentence holds ("and what is
    China's population?"): the previous question cannot make the corpus answer that.
    A plain word the corpus lacks in a question that points back ("who punished the
    North for it?") is only the user's wording.
    """
    content = _content(query)
    unknown = [c for c in content if not any(_mentioned(t, index) for t in c.terms)]
    if not unknown:
        return False
    if any(_named(c, query) or _asked_for(c, query) for c in unknown):
        return True
    # All it asks of its own is what no sentence holds ("who will succeed him?", "how
    # much did they cost?"); a noun after "which" or "this" only names a kind of thing
    # the previous answer holds ("with which group?", "how old is this man?"), but a
    # rank picks out a thing of its own ("and the fourth?" after "the third"), and so
    # does a word beside it that is neither a kind nor a reaction ("what sports does he
    # enjoy?": "sports" is a kind of thing, "enjoy" asks what no sentence holds).
    kinds = [c for c in unknown if _introduced(c, query) and not _RANKS.match(c.label)]
    asked = [c for c in unknown if c not in kinds and not _reacts(c)]
    if len(unknown) == len(content) and (not kinds or asked):
        return True
    return not points_back(query) and any(_named(c, query) for c in content if c not in unknown)


def points_back(query: Query) -> bool:
    """Tell whether a question points back with a pronoun or a reaction.

    A pronoun after a name the question gives ("...North Korea spend on its military?")
    points at that name, not back.
    """
    raw = _WORD.findall(query.text)
    named_at = next((at for at, w in enumerate(raw) if at and w[:1].isupper()), len(raw))
    return bool(_pointers([w.casefold() for w in raw[:named_at]])) or bool(
        _REACTION.search(query.text)
    )


def in_other_words(query: Query, index: BM25Index) -> bool:
    """Tell whether a question points back and only its own wording is new to the corpus.

    "since when has he been in charge?", "how old is he supposed to be?": no name the
    corpus lacks, every word of its own unknown, and a pronoun for the thing asked about.
    Such a question may ask what the previous answer says in other words, or what the
    article never says ("who will succeed him?"); the words alone cannot tell which.
    """
    content = _content(query)
    unknown = [c for c in content if not any(_mentioned(t, index) for t in c.terms)]
    return (
        bool(unknown)
        and len(unknown) == len(content)
        and not any(_named(c, query) for c in unknown)
        and points_back(query)
    )


def _pointers(words: list[str]) -> list[str]:
    """Return the words that point back; "this year", "that day" only name a time."""
    after = [*words[1:], ""]
    return [
        w
        for w, next_word in zip(words, after, strict=True)
        if w in _ANAPHORA and not (w in _DEICTIC and next_word in _TIMES)
    ]


def _introduced(concept: Concept, query: Query) -> bool:
    """Tell whether a concept only says what kind of thing is wanted about the topic.

    A noun after a word that picks a thing out ("which group", "this man") or a word
    naming an answer type ("what was its reason?").
    """
    if set(concept.typed_terms) <= _ANSWER_KINDS:
        return True
    at = query.text.find(concept.label)
    before = _WORD.findall(query.text[:at]) if at > 0 else []
    return bool(before) and before[-1].casefold() in _DETERMINERS


def _asked_for(concept: Concept, query: Query) -> bool:
    """Tell whether a question asks what thing of a kind something has ("what colour is it?").

    "what X" or "which X of Y" followed by a clause about what was said asks for an
    X, so a sentence must name one as such; a bare "with which group?" only says what
    kind of thing the previous answer gave.
    """
    words = [w.casefold() for w in _WORD.findall(query.text)]
    label = [w.casefold() for w in _WORD.findall(concept.label)]
    for at, word in enumerate(words):
        if word not in _INTERROGATIVES:
            continue
        clause = next(
            (end for end in range(at + 1, len(words)) if words[end] in _AUXILIARIES), None
        )
        phrase = words[at + 1 : clause] if clause is not None else []
        if len(phrase) <= _KIND_PHRASE and any(
            phrase[start : start + len(label)] == label for start in range(len(phrase))
        ):
            return True
    return False


def counts_unknown(query: Query, index: BM25Index) -> bool:
    """Tell whether a question counts a thing no sentence holds ("how many children...?").

    No number of the corpus can count it, whatever number the answer shown gives.
    """
    words = [w.casefold() for w in _WORD.findall(query.text)]
    counted = {
        words[at + 2]
        for at in range(len(words) - 2)
        if words[at] == "how" and words[at + 1] in ("many", "much")
    }
    return any(
        c.label.casefold() in counted and not any(_mentioned(t, index) for t in c.terms)
        for c in _content(query)
    )


def _reacts(concept: Concept) -> bool:
    """Tell whether a concept is a reaction ("react", "respond"): to what was said."""
    return bool(_REACTION.search(concept.label))


def _named(concept: Concept, query: Query) -> bool:
    """Tell whether the question writes a concept capitalised, not as its first word."""
    return concept.label[:1].isupper() and query.text.find(concept.label) > 0


def _mentioned(term: str, index: BM25Index) -> bool:
    """Tell whether the corpus mentions a term, or its demonym ("Africa": "African")."""
    return any(form in index for form in _forms(term))


def _forms(term: str) -> tuple[str, ...]:
    """Return a term and the demonyms the corpus may write it as."""
    return (term, f"{term}n", f"{term}an", f"{term}ese")


def as_written(query: Query, index: BM25Index) -> Query:
    """Search a term the corpus writes only as its demonym in that form ("and Africa?").

    Deciding the question refers back let "Africa" stand for "African"; the search
    must match the word the sentence holds, or the previous answer wins again.
    """
    concepts = []
    for concept in query.concepts:
        if any(t in index for t in concept.terms):
            concepts.append(concept)
            continue
        written = tuple(f for t in sorted(concept.terms) for f in _forms(t)[1:] if f in index)
        names = concept.names + tuple(((f,), 1.0) for f in written)
        concepts.append(replace(concept, names=names))
    return replace(query, concepts=concepts)
