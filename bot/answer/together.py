"""Read a follow-up with the previous question when it refers back and that answers better."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.answer.answerability import Model
from bot.answer.cues import Cue, answers_cue, question_cue, sentence_cues
from bot.answer.decline import coverage, known
from bot.answer.explanations import Arrange, Asks, arrange, asks, lead_with
from bot.answer.followup import (
    FollowUp,
    as_written,
    besides,
    continues,
    counts_unknown,
    describes_back,
    in_other_words,
    is_follow_up,
    new_unknowns,
    own_topic,
    restates,
)
from bot.answer.passages import Group
from bot.answer.query import Query, build_query, with_context
from bot.answer.reading import Reading
from bot.answer.sentences import CorpusSentences
from bot.answer.usage import tidy
from bot.index.aliases import Aliases
from bot.index.bm25 import BM25Index

# The kinds of answer that a previous answer holding them is evidence for.
_TELLING_CUES = frozenset({Cue.DATE, Cue.NUMBER, Cue.PLACE})
# The kinds of answer a bare follow-up takes from the answer shown when it holds one
# ("when exactly?"); a place is only a capitalised word after "in", too loose to tell.
_SHOWN_CUES = frozenset({Cue.DATE, Cue.NUMBER})
# A question asking yes or no opens with an auxiliary verb ("did they beat it?").
_YES_NO = re.compile(
    r"^(?:(?:and|but|so)\s+)?(?:is|are|was|were|do|does|did|has|have|had|will|would|can"
    r"|could|should)\b",
    re.IGNORECASE,
)
# Rank a query, lifting these sentences (the previous answer's), in this order (None: as ranked).
Read = Callable[[Query, Sequence[int], Arrange | None], Reading]


@dataclass(frozen=True)
class FollowUpConfig:
    """How a question that refers back is read with the previous one."""

    # The weight of the previous question's words...
    weight: float = 0.5
    # ...and the lift of the sentences the previous answer showed, and their neighbours.
    bonus: float = 0.1


@dataclass(frozen=True)
class Conversation:
    """What reading a follow-up with its previous question needs from the engine."""

    aliases: Aliases
    index: BM25Index
    sentences: CorpusSentences
    config: FollowUpConfig
    lift: float  # how far an explaining passage is raised above the best (the cue bonus)
    model: Model  # the answerability model, which declines a question about something else

    def choose(
        self, text: str, own: Query, alone: Reading | None, context: FollowUp | None, read: Read
    ) -> tuple[Reading | None, str | None]:
        """Return the reading to answer text from, and the previous question it was read with.

        own is text's query, alone its reading by itself (None: it has no words).

        A bare reference ("why?", "based on what?", "in what year?") or a continuation
        ("same for China?") means the previous topic even when a word of it matches
        elsewhere; another question with words of its own ("who was his father?") is
        read together only when that is more confident.
        """
        if context is None or not (is_follow_up(text) or describes_back(own, self.index)):
            return alone, None
        earlier = self.earlier(context)
        together = self.read_with(own, earlier, context, read)
        if together is not None and (
            alone is None
            or not own_topic(own)
            or self.request(own, earlier) is not None
            or continues(text)
            or besides(text)
            or together.probability > self.standing(alone)
        ):
            return together, context.question
        return alone, None

    def standing(self, alone: Reading) -> float:
        """Return a reading alone's probability, 0 when it is declined as about something else.

        The model keeps a question far from every sentence when its passage's words
        answer it well enough ("12 february" for "Feb. 12"); only one it declines for
        that distance stands at nothing.
        """
        probability = alone.probability
        off_topic = (
            self.model.label(probability, alone.scored.nearest) is None
            and self.model.label(probability) is not None
        )
        return 0.0 if off_topic else probability

    def previous_holds(self, own: Query, earlier: Query, context: FollowUp) -> bool:
        """Tell whether the previous answer holds the kind of thing a question asks for.

        "how old is he supposed to be?" after an answer giving "around 30" can be read
        with it; "where was he educated?" after one that names no place cannot. A
        question whose wording names no kind of answer is not given the benefit, nor one
        asking "who": nearly every sentence of the news names someone, so a name in the
        previous answer says nothing ("who will succeed him?").
        """
        cue = question_cue(own.text)
        if cue is None:
            # "did they beat it?": a yes-or-no question asks whether the answer shown
            # holds, and names nothing new to find.
            return bool(_YES_NO.match(own.text))
        if cue not in _TELLING_CUES or counts_unknown(own, self.index):
            return False
        asked = own.terms | earlier.terms
        shown = self.sentences.positions(context.citations)
        texts = (self.sentences.sentences[i].text for i in shown)
        return any(answers_cue(cue, sentence_cues(text), asked) for text in texts)

    def earlier(self, context: FollowUp) -> Query:
        """Return the query of the earlier question(s) a follow-up is read with."""
        return build_query(tidy(context.text), self.aliases, self.index)

    def request(self, own: Query, earlier: Query) -> Asks | None:
        """Return what a follow-up asks about the previous answer, if it is a bare request.

        "why?" in any wording explanations knows, or a "why" whose other words all
        repeat the previous question's ("why would it fail?" after "who thinks the
        move is likely to fail?"): both ask the reason for what was just said.
        """
        kind = asks(own.text)
        if kind is not None or question_cue(own.text) is not Cue.REASON:
            return kind
        topic = own_topic(own)
        return Asks.REASON if topic and all(c.terms & earlier.terms for c in topic) else None

    def read_with(
        self, own: Query, earlier: Query, context: FollowUp, read: Read
    ) -> Reading | None:
        """Read a question with the previous one, unless that cannot help.

        The previous question's words cannot supply what the corpus never mentions:
        a question naming such a thing ("what about Japan?") is read alone, and so is
        one that asks the previous question again about something else.
        """
        kind = self.request(own, earlier)
        # "how come?" holds a word the corpus never uses, and asks only why.
        unknowns = kind is None and new_unknowns(own, self.index)
        if unknowns and in_other_words(own, self.index):
            unknowns = not self.previous_holds(own, earlier, context)
        if earlier.empty or unknowns or restates(own.text, context.question):
            return None
        # The earlier question's words no sentence holds were excused when it was
        # answered; they match nothing and must not count against the follow-up.
        topic = replace(earlier, concepts=[c for c in earlier.concepts if known(c, self.index)])
        query = with_context(as_written(own, self.index), topic, self.config.weight)
        near = self.sentences.positions(context.citations)
        if kind is None and besides(own.text):
            # "were other refineries hit too?" asks for what the answer shown does not say.
            return read(query, (), lambda groups: after_these(groups, near))
        if kind is None:
            if question_cue(own.text) in _SHOWN_CUES:
                if not self.previous_holds(own, earlier, context):
                    # "since when?" after an answer that gives no date: the answer shown
                    # cannot hold it, so it is not lifted above the passages that may.
                    return read(query, (), None)
                if near and not own_topic(own):
                    # "when exactly?" after an answer that gives a date asks for that date.
                    return read(
                        query, near, lambda groups: lead_with(groups, sorted(near), self.lift)
                    )
            return read(query, near, None)
        order = arrange(
            kind,
            lambda found: coverage(topic, found, self.index),
            near,
            self.sentences.sentences,
            self.lift,
        )
        return read(query, near, order)


def after_these(groups: list[Group], ids: Sequence[int]) -> list[Group]:
    """Put the passages holding these sentences after the others."""
    taken = set(ids)
    return [g for g in groups if not taken & set(g.ids)] + [g for g in groups if taken & set(g.ids)]
