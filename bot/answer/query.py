"""Turn a question into weighted search terms, expanded with aliases."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from bot.index.aliases import Aliases
from bot.index.tokenize import Token, is_content, is_shouting, stem, words

# An expansion counts for less than the words the user typed.
CANONICAL_WEIGHT = 1.0
ALIAS_WEIGHT = 0.3


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about; matched when any of its terms matches."""

    label: str
    terms: frozenset[str]


@dataclass
class Query:
    """A question ready for the index."""

    text: str
    weights: dict[str, float] = field(default_factory=dict)
    concepts: list[Concept] = field(default_factory=list)
    surface: dict[str, str] = field(default_factory=dict)  # term -> a word the user wrote

    @property
    def empty(self) -> bool:
        """Tell whether the question has no word to search for."""
        return not self.weights


def _content_terms(tokens: list[Token], shouting: bool) -> list[str]:
    return [stem(t.word) for t in tokens if is_content(t, shouting=shouting)]


def _name_terms(name: str) -> list[str]:
    return _content_terms(words(name), is_shouting(name))


def build_query(text: str, aliases: Aliases) -> Query:
    """Tokenise a question and expand every alias it mentions."""
    text = unicodedata.normalize("NFKC", text)
    shouting = is_shouting(text)
    tokens = words(text)
    query = Query(text=text)
    covered: set[int] = set()
    for start, end, group in aliases.find([t.word for t in tokens]):
        typed = _content_terms(tokens[start:end], shouting)
        group_terms: set[str] = set(typed)
        for term in typed:
            query.weights[term] = query.weights.get(term, 0.0) + 1.0
        for name in group.names:
            name_terms = _name_terms(name)
            group_terms.update(name_terms)
            weight = CANONICAL_WEIGHT if name == group.canonical else ALIAS_WEIGHT
            for term in name_terms:
                if term not in typed:
                    query.weights[term] = max(query.weights.get(term, 0.0), weight)
        covered.update(range(start, end))
        label = " ".join(t.word for t in tokens[start:end])
        if group_terms and not any(c.terms == frozenset(group_terms) for c in query.concepts):
            query.concepts.append(Concept(label, frozenset(group_terms)))
        for token in tokens[start:end]:
            query.surface.setdefault(stem(token.word), token.word)
    for index, token in enumerate(tokens):
        if index in covered or not is_content(token, shouting=shouting):
            continue
        term = stem(token.word)
        query.weights[term] = query.weights.get(term, 0.0) + 1.0
        query.surface.setdefault(term, token.word)
        if not any(term in c.terms for c in query.concepts):
            query.concepts.append(Concept(token.word, frozenset({term})))
    return query
