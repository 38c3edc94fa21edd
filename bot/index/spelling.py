"""British and American spellings of one word, so "defence" finds an article's "defense".

Only the regular patterns are rewritten (-our/-or, -ence/-ense, -tre/-ter, -ise/-ize,
-yse/-yze, -ogue/-og, -mme/-m, ae/oe/e) plus a short list of irregular pairs. A form
made by a pattern that is no word ("actour") costs nothing: no sentence holds it.
Both directions are made, as an article may be written either way (ae and oe become
e one way only: which e was once ae no pattern can tell).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Words of these endings that have no other spelling ("hour", "four", "tour", "yours").
_NOT_OUR = frozenset(
    """hour hours four fours tour tours pour pours your yours our ours flour sour dour
    detour detours devour devours contour contours amour velour scour paramour troubadour""".split()
)
_NOT_ENCE = frozenset("hence thence whence fence fences pence".split())

# (British, American) pairs that no pattern makes.
_PAIRS = (
    ("grey", "gray"),
    ("plough", "plow"),
    ("aluminium", "aluminum"),
    ("jewellery", "jewelry"),
    ("mould", "mold"),
    ("sceptic", "skeptic"),
    ("sceptical", "skeptical"),
    ("manoeuvre", "maneuver"),
    ("judgement", "judgment"),
    ("ageing", "aging"),
    ("enrol", "enroll"),
    ("fulfil", "fulfill"),
    ("storey", "story"),
    ("kerb", "curb"),
    ("pyjamas", "pajamas"),
    ("moustache", "mustache"),
    ("cosy", "cozy"),
    ("draught", "draft"),
    ("whilst", "while"),
    ("amongst", "among"),
)
_PAIRED = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}

# (pattern, replacement) pairs, each applied where the word ends so (a suffix may follow).
_SUFFIX = "(s|ed|ing|ite|ites|able|ably|ful|less|er|ers|ist|ists|al|ally|ation|ations)?"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (rf"(?<=[^o])our{_SUFFIX}$", r"or\1"),  # colour, neighbours, favourite
        (rf"(?<=[^o])or{_SUFFIX}$", r"our\1"),
        (r"ence(s)?$", r"ense\1"),  # defence, licence, offences
        (r"ense(s)?$", r"ence\1"),
        (r"tre(s)?$", r"ter\1"),  # centre, theatres, metre
        (r"tred$", "tered"),  # centred
        (r"(?<=[^t])ter(s)?$", r"tre\1"),
        (r"(?<=[^t])tered$", "tred"),
        (r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations|er|ers)$", r"iz\1"),  # organise, realised
        (r"(?<=[a-z]{3})iz(e|ed|es|ing|ation|ations|er|ers)$", r"is\1"),
        (r"ys(e|ed|es|ing)$", r"yz\1"),  # analyse, paralysed
        (r"yz(e|ed|es|ing)$", r"ys\1"),
        (r"ogue(s)?$", r"og\1"),  # catalogue, dialogues
        (r"(?<=[a-z]{3})og(s)?$", r"ogue\1"),
        (r"mme(s)?$", r"m\1"),  # programme
        (r"(?<=gra)m(s)?$", r"mme\1"),  # program -> programme, not every word in -m
        (r"(?<=[a-z])ae(?=[dmnso])", "e"),  # paediatric, anaemia, archaeology (not "michael")
        (r"^oe(?=s)|(?<=^f)oe(?=t)", "e"),  # oestrogen, oesophagus, foetus (not "poets")
    )
)
_MIN_LENGTH = 5


@lru_cache(maxsize=50_000)
def variants(word: str) -> tuple[str, ...]:
    """Return the other spellings of a normalised lower-case word, not the word itself."""
    if len(word) < _MIN_LENGTH or not word.isalpha() or not word.isascii():
        found = [_PAIRED[word]] if word in _PAIRED else []
        return tuple(found)
    found = []
    if word in _PAIRED:
        found.append(_PAIRED[word])
    for pattern, replacement in _RULES:
        if (word in _NOT_OUR and "our" in pattern.pattern) or (
            word in _NOT_ENCE and pattern.pattern.startswith("ence")
        ):
            continue
        other = pattern.sub(replacement, word, count=1)
        if other != word and other not in found:
            found.append(other)
    return tuple(found)
