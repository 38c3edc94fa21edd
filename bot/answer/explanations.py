"""Answer a bare "why?" or "how?" about what was just said: the passage that explains it.

After "is the move likely to fail?" the question "why?" asks for the reason behind the
answer just shown. An article gives it in one of two places: in a clause of a
sentence about the same thing ("...slapped sanctions on the North *for conducting*
its third nuclear test"), or, when the answer shown gives no reason, in the next
sentence carrying on the same speaker's account ("'ASEAN countries are
pragmatic...,' he said."). A bare "how?" asks for the means: the sentence whose
purpose clause is the thing asked about ("...forge closer ties with ASEAN *in a bid
to weaken sanctions*"). A bare "will it work?" asks how the thing just discussed will turn
out: the sentence about it that judges its outcome or its odds ("...the move is *likely to
fail*").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from enum import Enum

from bot.answer.passages import Group
from bot.index.tokenize import terms
from bot.ingest.models import Sentence


class Asks(Enum):
    """What a bare explanation request wants."""

    REASON = "reason"  # "why?", "why not?", "how so?", "what for?"
    MEANS = "means"  # "how?"
    SOURCE = "source"  # "who says so?", "according to whom?"
    OUTCOME = "outcome"  # "will it work?", "is it going to succeed?"


_REQUESTS: tuple[tuple[re.Pattern[str], Asks], ...] = (
    (
        re.compile(
            r"^(?:(?:and|but|so)\s+)?(?:why(?:\s+(?:not|so|is\s+that|was\s+that|is\s+it))?"
            r"|how\s+so|how\s+come|what\s+for|for\s+what\s+reason|on\s+what\s+(?:grounds|basis)"
            r"|based\s+on\s+what|what\s+caused\s+(?:it|that|this)"
            r"|what(?:\s+is|\s+was|['\u2019]s)\s+(?:it|that|this)\s+based\s+on"
            # "what was the reason?", "why did they do that?": the same, in more words.
            r"|what(?:\s+is|\s+was|\s+are|\s+were|['\u2019]s)\s+(?:the|their|its|his|her)\s+"
            r"(?:reasons?|reasoning|rationale|explanation|justification|grounds|basis|motives?"
            r"|purpose|cause)(?:\s+(?:for|behind)\s+(?:it|that|this))?"
            r"|why\s+(?:did|does|do|would)\s+(?:it|that|this|they|he|she)"
            r"(?:\s+(?:do\s+(?:it|that|this|so)|happen))?)\W*$",
            re.IGNORECASE,
        ),
        Asks.REASON,
    ),
    (re.compile(r"^(?:(?:and|but|so)\s+)?how\W*$", re.IGNORECASE), Asks.MEANS),
    (
        re.compile(
            r"^(?:(?:and|but|so)\s+)?(?:who\s+(?:says|said|claims|thinks)(?:\s+(?:so|that|this|it))?"
            r"|says\s+who|according\s+to\s+(?:whom|who)|who\s+(?:is|was)\s+the\s+source"
            r"|what\s+is\s+the\s+source"
            # "who told reporters that?", "whose claim is that?": the same, in more words.
            r"|who\s+(?:told|tells|claimed|reported|announced|stated)(?:\s+\w+)?\s+(?:so|that|this|it)"
            r"|whose\s+(?:claim|view|words|idea|opinion|assessment)\s+(?:is|was|are|were)"
            r"\s+(?:that|this|those|these|it))\W*$",
            re.IGNORECASE,
        ),
        Asks.SOURCE,
    ),
    (
        # "will it work?", "is it likely to succeed?", and in a stance ("do they think it
        # will work?"): the verb is about how the previous topic turns out, not a topic.
        re.compile(
            r"^(?:(?:and|but|so)\s+)?(?:"
            r"(?:will|would|could|can|did|does|do|is|was|are|were)\s+(?:it|that|this|they)"
            r"|(?:do|does|did)\s+(?:they|he|she|you|people|experts|officials)\s+"
            r"(?:think|expect|believe)\s+(?:that\s+)?(?:it|that|this|they)"
            r"\s+(?:will|would|could|can|is|was|are|were))"
            r"\s+(?:be\s+)?(?:(?:likely|going|expected|able)\s+to\s+)?"
            r"(?:work|succeed|fail|pay\s+off|be\s+(?:successful|effective)|help|last)\W*$",
            re.IGNORECASE,
        ),
        Asks.OUTCOME,
    ),
)
# Words that judge how something turns out, or its odds.
_OUTCOME = re.compile(
    r"\b(?:fail(?:s|ed|ure|ing)?|succeed(?:s|ed)?|success(?:ful)?|unsuccessful|(?:un)?likely"
    r"|(?:in)?effective|futile|backfire[sd]?|pay\s+off|work\s+out|chances?|prospects?"
    r"|doubt(?:s|ful)?)\b",
    re.IGNORECASE,
)
# Words that open a clause giving a purpose, and a cause (a gerund after "for": "for
# conducting"). Split from cues.REASON_OPENERS because a bare "how?" wants the one.
_PURPOSE = re.compile(
    r"\b(?:in\s+a\s+bid\s+to|in\s+an?\s+(?:effort|attempt)\s+to|in\s+order\s+to|so\s+as\s+to"
    r"|so\s+that|aimed\s+at|with\s+the\s+aim\s+of|for\s+the\s+purpose\s+of)\b",
    re.IGNORECASE,
)
_CAUSE = re.compile(
    r"\b(?:because(?:\s+of)?|due\s+to|owing\s+to|thanks\s+to|as\s+a\s+result\s+of|since"
    r"|for\s+(?=\w+ing\b))",
    re.IGNORECASE,
)
# A clause ends at a comma, a semicolon, a dash or the end of the sentence.
_CLAUSE_END = re.compile(r"[,;:()\u2013\u2014]|\s-\s")
# A sentence that says whose words it reports.
_ATTRIBUTED = re.compile(
    r"\b(?:said|says|told|stated|noted|added|announced|reported|claimed|speculated|argued"
    r"|pointed\s+out|according\s+to)\b",
    re.IGNORECASE,
)
# A sentence whose speaker is a pronoun carries on the account of the one before it
# ("He pointed out...", '"...," he said.').
_SAME_SPEAKER = re.compile(
    r"^(?:he|she|they)\s+[a-z]+|[\"\u201d\u2019]\s*(?:he|she|they)\s+"
    r"(?:said|added|explained|noted|told)\b",
    re.IGNORECASE,
)

Arrange = Callable[[list[Group]], list[Group]]


# Spoken forms and trailing fillers, read as the words they stand for ("is this gonna
# work tho?" is "is this going to work?").
_SPOKEN = (
    (re.compile(r"\bgonna\b", re.IGNORECASE), "going to"),
    (re.compile(r"\bwanna\b", re.IGNORECASE), "want to"),
    (re.compile(r"\s+(?:tho|though|then|anyway|lol|exactly)(?=\W*$)", re.IGNORECASE), ""),
)


def asks(question: str) -> Asks | None:
    """Return what a bare explanation request wants ("why?": a reason), or None."""
    text = question.strip()
    for spoken, written in _SPOKEN:
        text = spoken.sub(written, text)
    for pattern, kind in _REQUESTS:
        if pattern.match(text):
            return kind
    return None


def carries_on(sentence: str) -> bool:
    """Tell whether a sentence goes on with the account before it: its speaker is a pronoun."""
    return bool(_SAME_SPEAKER.search(sentence))


def _clauses(text: str, opener: re.Pattern[str]) -> list[tuple[str, str]]:
    """Return, for each opener in the text, the words before it and its clause."""
    found = []
    for match in opener.finditer(text):
        rest = text[match.end() :]
        end = _CLAUSE_END.search(rest)
        found.append((text[: match.start()], rest[: end.start()] if end else rest))
    return found


# A clause is about the topic when it holds this share of the question's concepts
# (IDF-weighted, as decline.coverage counts them): more than a word or two of it.
ABOUT = 0.5

Cover = Callable[[AbstractSet[str]], float]


def explains(text: str, cover: Cover, kind: Asks) -> bool:
    """Tell whether a passage gives the reason for the topic, the way to it, or its outcome.

    cover gives the share of the topic a set of terms holds. A reason explains the
    topic when the words before it are about the topic and the reason itself holds
    none of it: "...ties with ASEAN in a bid to weaken sanctions" gives no reason for
    the sanctions. The means to a topic is a sentence whose purpose clause is it; its
    outcome, a sentence about it that judges how it turns out or its odds.
    """
    if kind is Asks.MEANS:
        return any(cover(set(terms(clause))) >= ABOUT for _, clause in _clauses(text, _PURPOSE))
    if kind is Asks.OUTCOME:
        return bool(_OUTCOME.search(text)) and cover(set(terms(text))) > 0.0
    if kind is Asks.SOURCE:
        # The answer shown does not say whose words it reports: a passage about the
        # topic that does ("According to state statistics body INSEE, growth...").
        return bool(_ATTRIBUTED.search(text)) and cover(set(terms(text))) > 0.0
    return any(
        cover(set(terms(before))) >= ABOUT and cover(set(terms(clause))) == 0.0
        for opener in (_CAUSE, _PURPOSE)
        for before, clause in _clauses(text, opener)
    )


def arrange(
    kind: Asks,
    cover: Cover,
    shown: Sequence[int],
    sentences: Sequence[Sentence],
    lift: float,
) -> Arrange:
    """Return how to reorder a follow-up's passages for a bare explanation request.

    shown are the sentences of the answer the request is about; cover gives the share
    of the question that answer was for (the topic) a set of terms holds. Passages
    that explain the topic come first, lift above the best; when the answer gives no
    reason and the next sentence carries on its account, the two are shown first,
    together.
    """
    texts = {i: sentences[i].text for i in shown}
    if kind is Asks.SOURCE and shown and _ATTRIBUTED.search(" ".join(texts.values())):
        # The answer shown says whose words it reports ("..., the government said").
        return lambda groups: lead_with(groups, sorted(shown), lift)
    if kind is Asks.REASON and shown and not explains(" ".join(texts.values()), cover, kind):
        after = max(shown) + 1
        if after < len(sentences):
            following = sentences[after]
            same = following.article_key == sentences[after - 1].article_key
            if same and carries_on(following.text):
                return lambda groups: lead_with(groups, [*sorted(shown), after], lift)

    def explaining_first(groups: list[Group]) -> list[Group]:
        # The passages left are all relevant enough (passages.passages_of cuts the weak):
        # one that explains answers a "why?", however well another matches its words.
        said = [explains(" ".join(sentences[i].text for i in g.ids), cover, kind) for g in groups]
        if not any(said):
            return groups
        # Raised together, so they keep their order and the gaps between them.
        raise_by = (
            max(g.score for g in groups)
            + lift
            - max(g.score for g, s in zip(groups, said, strict=True) if s)
        )
        first = [
            Group(g.ids, g.score + raise_by, g.best) for g, s in zip(groups, said, strict=True) if s
        ]
        return first + [g for g, s in zip(groups, said, strict=True) if not s]

    return explaining_first


def lead_with(groups: list[Group], ids: Sequence[int], lift: float) -> list[Group]:
    """Put the passage of these sentences first, lift above the best passage's score."""
    top = max((g.score for g in groups), default=0.0)
    taken = set(ids)
    rest = [g for g in groups if not taken & set(g.ids)]
    return [Group(list(ids), top + lift, best=ids[-1]), *rest]
