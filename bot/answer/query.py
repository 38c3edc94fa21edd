"""Turn a question into concepts to search for, each with its alternative names."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from bot.index.aliases import Aliases, phrase
from bot.index.common_names import common_names
from bot.index.families import relatives
from bot.index.spelling import variants
from bot.index.tokenize import Token, is_content, is_shouting, stem, terms, words
from bot.index.typos import Vocabulary, correction

# An alternative name scores a little below the words the user typed, so that
# a sentence using the user's own words wins a tie.
ALIAS_DISCOUNT = 0.9

# Words that say what kind of answer is wanted rather than what it is about
# ("what is the *name* of...", "what *kind* of...", "how *old*...", "what is the
# *reason*..." - a reason is asked as "why" too; "what *role* does X *play*", "how
# *important* is X", "where was it *held*", "from which *place*"), and the filler of a
# question in conversation ("what *exactly* did they *actually* say"): a corpus that
# never uses them can still answer.
QUESTION_FRAME_TERMS = frozenset(
    terms(
        """name named names kind kinds type types sort sorts else main called term terms
        percentage percent much many old long far big large tall example examples one ones
        usually often primarily primary mainly certain particular specific exactly roughly
        approximately happened happen happens mostly typically generally commonly stand
        beyond besides despite except apart instead else reason reasons purpose purposes
        cause causes motive motives aim aims goal goals role roles part parts play plays
        played playing important importance significant significance matter matters
        actually really basically anything something thing things stuff remind remember
        wondering wonder age now currently presently nowadays since ago ever yet already
        anyway gonna wanna gotta please held place places"""
    )
)


# Frame words that stay in the question though no sentence holds them: "how many
# members does ASEAN have?" of an article without the count must look unanswered,
# and "his old friends" is no frame.
MEASURE_TERMS = frozenset(terms("much many old long far big large tall"))


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about, and the term lists that can name it.

    A sentence scores for the best-matching name only: a long alias such as
    "Association of Southeast Asian Nations" counts like the one word "ASEAN"
    the user typed, instead of adding up four times.
    """

    label: str
    names: tuple[tuple[tuple[str, ...], float], ...]  # (terms, scale); the typed form first
    weight: float = 1.0  # how often the question asks for it

    @property
    def terms(self) -> frozenset[str]:
        """Return every term of every name."""
        return frozenset(t for terms, _ in self.names for t in terms)

    @property
    def typed_terms(self) -> tuple[str, ...]:
        """Return the terms the user typed for this concept."""
        return self.names[0][0]


@dataclass
class Query:
    """A question ready for the index."""

    text: str
    concepts: list[Concept] = field(default_factory=list)
    # Canonical names of the aliases the question used ("NK" -> "North Korea").
    expansions: list[str] = field(default_factory=list)
    # What to embed instead of the text (a follow-up with words of its own: those).
    meaning: str | None = None
    # The text with its misspelt words corrected, when it had some.
    spelt: str | None = None

    @property
    def meaning_text(self) -> str:
        """Return the text to embed: the question spelt right, plus its aliases' full names."""
        if self.meaning is not None:
            return self.meaning
        text = self.spelt or self.text
        if not self.expansions:
            return text
        return f"{text} ({'; '.join(self.expansions)})"

    @property
    def terms(self) -> frozenset[str]:
        """Return every term the query can match."""
        return frozenset(t for c in self.concepts for t in c.terms)

    @property
    def empty(self) -> bool:
        """Tell whether the question has no word to search for."""
        return not self.concepts

    def plain_weights(self) -> dict[str, float]:
        """Return the term weights of the concepts that have a single name."""
        weights: dict[str, float] = {}
        for concept in self.concepts:
            if len(concept.names) == 1:
                for term in concept.typed_terms:
                    weights[term] = weights.get(term, 0.0) + concept.weight
        return weights


def _content_terms(tokens: list[Token], shouting: bool) -> tuple[str, ...]:
    return tuple(stem(t.word) for t in tokens if is_content(t, shouting=shouting))


def build_query(text: str, aliases: Aliases, vocabulary: Vocabulary | None = None) -> Query:
    """Tokenise a question and attach the alternative names of every alias it mentions.

    With the index's vocabulary, a misspelt word that no sentence holds also gets
    the corpus word one edit away as another name, and the text to embed spells it so.
    """
    text = unicodedata.normalize("NFKC", text)
    shouting = is_shouting(text)
    tokens = words(text)
    query = Query(text=text)
    covered: set[int] = set()
    capitals = [t.upper and not shouting for t in tokens]
    for start, end, group in aliases.find([t.word for t in tokens], capitals):
        concept = _named(text, tokens[start:end], group.names, shouting)
        if concept is None:
            continue  # only stop words ("us" of "tell us"): no name was meant
        covered.update(range(start, end))
        query.concepts.append(concept)
        if (
            phrase(group.canonical) != phrase(concept.label)
            and group.canonical not in query.expansions
        ):
            query.expansions.append(group.canonical)
    if vocabulary is not None:
        _add_common_names(query, tokens, capitals, covered, shouting, vocabulary)
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    token_words: dict[str, str] = {}
    for index, token in enumerate(tokens):
        if index in covered or not is_content(token, shouting=shouting):
            continue
        term = stem(token.word)
        counts[term] = counts.get(term, 0) + 1
        labels.setdefault(term, text[token.start : token.end])
        token_words.setdefault(term, token.word)
    spelt: dict[str, str] = {}
    framing = _unknown_frame(counts, len(query.concepts), vocabulary)
    for term, count in counts.items():
        if term in framing:
            continue
        others = _others(term, token_words[term])
        fixed = _corrected(token_words[term], (term, *others), vocabulary)
        if fixed is not None:
            spelt[term] = fixed
            others = (*others, stem(fixed))
        family = tuple(((other,), ALIAS_DISCOUNT) for other in others)
        forms: tuple[tuple[tuple[str, ...], float], ...] = (((term,), 1.0), *family)
        query.concepts.append(Concept(labels[term], forms, weight=float(count)))
    if spelt:
        query.spelt = _respelt(text, tokens, spelt)
    return query


def _named(
    text: str, tokens: list[Token], names: tuple[str, ...], shouting: bool
) -> Concept | None:
    """Return the concept of a name the question typed, with the other names of its group."""
    typed = _content_terms(tokens, shouting)
    if not typed:
        return None
    forms: list[tuple[tuple[str, ...], float]] = [(typed, 1.0)]
    for name in names:
        name_terms = _content_terms(words(name), is_shouting(name))
        if name_terms and name_terms != typed and all(name_terms != n for n, _ in forms):
            forms.append((name_terms, ALIAS_DISCOUNT * len(typed) / len(name_terms)))
    return Concept(text[tokens[0].start : tokens[-1].end], tuple(forms))


def _add_common_names(
    query: Query,
    tokens: list[Token],
    capitals: list[bool],
    covered: set[int],
    shouting: bool,
    vocabulary: Vocabulary,
) -> None:
    """Give a name no sentence holds the general-knowledge names the corpus uses instead.

    "Kiev" asked of an article that says "Ukraine" is about Ukraine; a name some
    sentence holds is searched as typed (bot.index.common_names).
    """
    for start, end, group in common_names().find([t.word for t in tokens], capitals):
        if covered & set(range(start, end)):
            continue
        typed = _content_terms(tokens[start:end], shouting)
        if not typed or all(vocabulary.document_frequency(t) for t in typed):
            continue
        held = tuple(
            n
            for n in group.names
            if (found := _content_terms(words(n), is_shouting(n)))
            and all(vocabulary.document_frequency(t) for t in found)
        )
        concept = _named(query.text, tokens[start:end], held, shouting) if held else None
        if concept is None:
            continue
        covered.update(range(start, end))
        query.concepts.append(concept)
        if held[0] not in query.expansions:
            query.expansions.append(held[0])


def _unknown_frame(counts: dict[str, int], names: int, vocabulary: Vocabulary | None) -> set[str]:
    """Return the frame words of a question that no sentence holds, to leave out.

    They say what kind of answer is wanted ("what role does China play?"), and
    counted as things the corpus lacks they made an answerable question look
    unanswerable. A question of frame words only (names: how many names it holds
    besides) keeps them.
    """
    if vocabulary is None:
        return set()
    framing = {
        t
        for t in counts
        if t in QUESTION_FRAME_TERMS
        and t not in MEASURE_TERMS
        and not vocabulary.document_frequency(t)
    }
    return framing if len(framing) < len(counts) + names else set()


def _corrected(word: str, forms: tuple[str, ...], vocabulary: Vocabulary | None) -> str | None:
    """Return the corpus word a misspelt word meant, when no sentence holds any of its forms."""
    if vocabulary is None or any(vocabulary.document_frequency(f) for f in forms):
        return None
    return correction(word, vocabulary)


def _respelt(text: str, tokens: list[Token], spelt: dict[str, str]) -> str:
    """Return text with every misspelt word replaced by the corpus word it meant."""
    pieces: list[str] = []
    last = 0
    for token in tokens:
        fixed = spelt.get(stem(token.word))
        if fixed is not None:
            pieces += [text[last : token.start], fixed]
            last = token.end
    return "".join(pieces) + text[last:]


def _others(term: str, word: str) -> tuple[str, ...]:
    """Return the terms that name the same thing: its word family, its other spellings."""
    spelt = (stem(v) for v in variants(word))
    return tuple(dict.fromkeys(t for t in (*relatives(term), *spelt) if t != term))


def with_context(query: Query, earlier: Query, weight: float) -> Query:
    """Read a follow-up question with the earlier question's concepts at a lower weight."""
    own_terms = query.terms
    concepts = list(query.concepts)
    for concept in earlier.concepts:
        if not concept.terms & own_terms:
            concepts.append(Concept(concept.label, concept.names, concept.weight * weight))
    expansions = list(dict.fromkeys(earlier.expansions + query.expansions))
    # Meaning compares the whole question with each sentence: with both questions in
    # one text the earlier one, usually longer, decides, and the sentences the previous
    # answer showed win again. A follow-up with words of its own ("what about Russia?")
    # is embedded alone, a bare one ("why?") with the earlier question; the earlier
    # words count in the word match either way.
    meaning = query.meaning_text if query.concepts else None
    return Query(
        text=f"{earlier.text} {query.text}",
        concepts=concepts,
        expansions=expansions,
        meaning=meaning,
    )
