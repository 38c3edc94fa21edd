"""Words the stemmer cannot join: a verb and its noun, irregular forms, months, numbers."""

from __future__ import annotations

from bot.index.tokenize import stem

# Word families the stemmer cannot join: the verb a question uses and the noun or
# adjective an article writes ("when did he die?" - "after his death").
WORD_FAMILIES = (
    "die died dies dying death dead",
    "born birth",
    "marry married marriage",
    "win won victory",
    "lose lost loss defeat",
    "sell sold sale",
    "buy bought purchase",
    "begin began begun beginning start",
    "invade invasion",
    "decide decision",
    "succeed success successful",
    "fail failure",
    "grow growth",
    "live life",
    "high height",
    "long length",
    "wide width",
    "deep depth",
    "strong strength",
    "weigh weight",
    "old age",
    "elect election",
    "arrive arrival",
    "destroy destruction",
    "produce production",
    "explain explanation",
    "describe description",
    "pay payment",
    "fight fought battle",
    # Irregular verbs, whose past forms the stemmer leaves apart.
    "take took taken",
    "give gave given",
    "go went gone",
    "make made",
    "see seen",
    "come came",
    "know knew known",
    "get got gotten",
    "run ran",
    "write wrote written",
    "speak spoke spoken",
    "hold held",
    "lead led",
    "meet met",
    "send sent",
    "spend spent",
    "build built",
    "think thought",
    "bring brought",
    "grow grew grown",
    "fall fell fallen",
    "drive drove driven",
    "fly flew flown",
    "choose chose chosen",
    "break broke broken",
    "steal stole stolen",
    "eat ate eaten",
    "teach taught",
    "catch caught",
    "keep kept",
    "become became",
    "forget forgot forgotten",
    "rise risen",
    "begin began begun",
    # Months and their abbreviations ("12 February" - "Feb. 12"); "may" is a stop word.
    "january jan",
    "february feb",
    "march mar",
    "april apr",
    "june jun",
    "july jul",
    "august aug",
    "september sept sep",
    "october oct",
    "november nov",
    "december dec",
    # Numbers in words and in digits ("fifteen exchanges" - "15 exchanges").
    "two 2",
    "three 3",
    "four 4",
    "five 5",
    "six 6",
    "seven 7",
    "eight 8",
    "nine 9",
    "ten 10",
    "eleven 11",
    "twelve 12",
    "thirteen 13",
    "fourteen 14",
    "fifteen 15",
    "sixteen 16",
    "seventeen 17",
    "eighteen 18",
    "nineteen 19",
    "twenty 20",
    "thirty 30 thirties 30s",
    "forty 40 forties 40s",
    "fifty 50 fifties 50s",
    "sixty 60 sixties 60s",
    "seventy 70 seventies 70s",
    "eighty 80 eighties 80s",
    "ninety 90 nineties 90s",
    "hundred 100",
    "first 1st",
    "second 2nd",
    "third 3rd",
    "fourth 4th",
    "fifth 5th",
    "sixth 6th",
    "seventh 7th",
    "eighth 8th",
    "ninth 9th",
    "tenth 10th",
    "eleventh 11th",
    "twelfth 12th",
)


def _families() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for family in WORD_FAMILIES:
        stems = tuple(dict.fromkeys(stem(w) for w in family.split()))
        for term in stems:
            table[term] = tuple(t for t in stems if t != term)
    return table


_FAMILY = _families()


def relatives(term: str) -> tuple[str, ...]:
    """Return the terms of the other words of a term's family."""
    return _FAMILY.get(term, ())
