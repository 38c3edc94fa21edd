"""Hostile input, property-based: arbitrary Unicode through ingest, the engine and rendering.

No exception escapes, every Discord payload passes the fake Discord's own validation of the
limits, nothing rendered can ping anyone, and markdown in questions or articles cannot
restyle, link or hide text. Last, the bot's per-user and per-answer maps stay bounded.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from pathlib import Path

import discord
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.answer.engine import Engine
from bot.answer.models import Answer, Passage, Status
from bot.discordbot import embeds, notices, safetext
from bot.discordbot.answer_buttons import answer_view
from bot.discordbot.answers_store import AnswerStore, StoredAnswer
from bot.discordbot.cooldown import Cooldown
from bot.discordbot.sending import NO_MENTIONS
from bot.ingest import splitting
from bot.ingest.frontmatter import FrontMatterError, read_front_matter
from bot.ingest.loader import CorpusError, article_keys, load_corpus, parse_article
from tests.discordbot.helpers import assert_inert, visible
from tests.fakediscord.validation import validate_message

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that attack Discord's parser, the splitter or the renderer, mixed with real words so
# the engine matches some of them.
TOKENS = [
    "@everyone", "@here", "@", "everyone", "here", "<@123456789012345678>",
    "<@!123456789012345678>", "<@&123456789012345678>", "<#123456789012345678>",
    "</ask:123456789012345678>", "<t:1700000000:R>", "<:blob:123456789012345678>",
    "[x](https://evil.example)", "](", "```", "```py\n", "`", "||", "**", "__", "~~", "*", "_",
    "> ", ">>> ", "# ", "-# ", "- ", "1. ", "\\", "\n", "\n\n", "\r\n", "\u2028", " ", "  ",
    ".", "?", "!", '"', "'", "(", ")", "\u200b", "\u200d", "\u200d" * 300, "\u00ad", "\u2060",
    "\u202e", "\ufeff", "\x00", "\x1b[31m", "\u0301" * 30, "😀", "👩\u200d👩\u200d👧",
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "ﷺ",
    "ASEAN", "North Korea", "sanctions", "envoy", "Mr.", "U.N.", "Feb. 12", "gov't", "3.5",
    "Seoul", "said", "the", "why", "who", "when", "how many", "what",
]  # fmt: skip
hostile = st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=50).map("".join)
unicode_text = st.text(max_size=600)
with_surrogates = st.lists(st.characters() | st.integers(0xD800, 0xDFFF).map(chr), max_size=80).map(
    "".join
)
# The parts of a mention, with characters the renderer drops or keeps but cannot be seen.
MENTION_PARTS = ["@", "everyone", "here", "EVERYONE", "<", ">", "@&", "#", "!", "12345678901234567"]
INVISIBLE = ["\u200b", "\u200d", "\u00ad", "\u2060", "\ufeff", "\x00", "\x7f", "\u0301", " "]
mention_soup = st.lists(st.sampled_from(MENTION_PARTS + INVISIBLE), max_size=40).map("".join)
file_text = hostile | unicode_text  # what a UTF-8 file can hold
# JSON from Discord can hold more: lone surrogates arrive as "\ud800" escapes.
question_text = hostile | mention_soup | unicode_text | with_surrogates
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


# Ingest


@FAST
@given(text=file_text, markdown=st.booleans(), prefix=st.booleans())
def test_parse_article_gives_cited_sentences_or_a_reason(
    text: str, markdown: bool, prefix: bool
) -> None:
    rel = "dir/a.md" if markdown else "dir/a.txt"
    try:
        article = parse_article(text, rel_path=rel, key="a", prefix_citations=prefix)
    except ValueError as exc:
        assert str(exc)
        return
    citations = [s.citation for s in article.sentences]
    assert len(set(citations)) == len(citations)
    for sentence in article.sentences:
        assert re.fullmatch(r"(a:)?\d+\.\d+", sentence.citation), sentence.citation
        assert sentence.text.strip()
    assert any(s.paragraph > 0 for s in article.sentences)


# Alphabets that attack a sentence splitter: runs of terminal punctuation, closing quotes,
# abbreviations, initials and dotted acronyms, without or with spaces between them.
SPLITTER_PIECES = [
    ".", "!", "?", "…", "!?", "...", '"', "'", "”", "’", ")", "]", "(", "“", " ", "  ", "\n",
    "Mr", "Mr.", "Dr.", "No.", "Feb.", "Nov", "U.S.", "U.N", "e.g.", "A.", "X", "a", "a.",
    "The", "12", "said", ";", ",", ":", " — ",
]  # fmt: skip
splitter_text = st.lists(st.sampled_from(SPLITTER_PIECES), max_size=400).map("".join) | st.lists(
    st.sampled_from(SPLITTER_PIECES), min_size=1, max_size=4
).flatmap(lambda pieces: st.integers(1, 3000).map(lambda n: ("".join(pieces) * n)[:6000]))


class _CountingPattern:
    """A compiled pattern that adds up the characters each call may read."""

    def __init__(self, pattern: re.Pattern[str], counter: list[int]) -> None:
        self.pattern = pattern
        self.counter = counter

    def _span(self, text: str, pos: int = 0, endpos: int | None = None) -> None:
        end = len(text) if endpos is None else min(endpos, len(text))
        self.counter[0] += max(end - pos, 0) + 1

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None):  # type: ignore[no-untyped-def]
        self._span(text, pos, endpos)
        return self.pattern.finditer(text, pos, *(() if endpos is None else (endpos,)))

    def match(self, text: str, pos: int = 0, endpos: int | None = None):  # type: ignore[no-untyped-def]
        self._span(text, pos, endpos)
        return self.pattern.match(text, pos, *(() if endpos is None else (endpos,)))

    def search(self, text: str, pos: int = 0, endpos: int | None = None):  # type: ignore[no-untyped-def]
        self._span(text, pos, endpos)
        return self.pattern.search(text, pos, *(() if endpos is None else (endpos,)))

    def split(self, text: str):  # type: ignore[no-untyped-def]
        self._span(text)
        return self.pattern.split(text)


@FAST
@example(text="." * 6000)
@example(text="!?" * 3000)
@example(text="Mr. X " * 1000)
@example(text="U.S. " * 1200)
@given(text=splitter_text)
def test_splitting_reads_each_character_a_bounded_number_of_times(text: str) -> None:
    # Work is counted, not timed: every pattern call adds the characters it may read.
    # Patterns over a whole paragraph are single runs that never backtrack (the look-behind
    # and possessive quantifiers of _BOUNDARY); every other call reads a short window.
    # So the total is linear in the text with a small factor, on any input.
    counter = [0]
    patterns = {
        name: value for name, value in vars(splitting).items() if isinstance(value, re.Pattern)
    }
    try:
        for name, value in patterns.items():
            setattr(splitting, name, _CountingPattern(value, counter))
        sentences = [
            s for p in splitting.split_paragraphs(text) for s in splitting.split_sentences(p)
        ]
    finally:
        for name, value in patterns.items():
            setattr(splitting, name, value)
    assert counter[0] <= 64 * len(text) + 64
    assert all(0 < len(s) <= splitting.MAX_SENTENCE_CHARS for s in sentences)
    # Nothing is lost or invented: the sentences hold the text's characters in order
    # (a word longer than the cap is cut, so compare without the spaces).
    assert "".join("".join(sentences).split()) == "".join(text.split())


# The boundary regex without the candidates it leaves out as surely not boundaries.
PLAIN_BOUNDARY = re.compile(r"""(?<![.!?…])([.!?…]++)["'”’)\]]*+ (?=["'“‘(\[]?[^\W_a-z])""")


@FAST
@example(text="J. Smith met Mr. Kim in the U.S. The talks failed. e.g. The U.N. He left.")
@given(text=splitter_text)
def test_the_boundary_regex_only_leaves_out_what_keeps_going(text: str) -> None:
    # Initials, titles and dotted acronyms are decided inside the regex for speed:
    # splitting must be exactly what the rules in _keeps_going alone give.
    fast = [splitting.split_sentences(p) for p in splitting.split_paragraphs(text)]
    shortcut = splitting._BOUNDARY
    try:
        splitting._BOUNDARY = PLAIN_BOUNDARY
        plain = [splitting.split_sentences(p) for p in splitting.split_paragraphs(text)]
    finally:
        splitting._BOUNDARY = shortcut
    assert fast == plain


YAML_PIECES = [
    "[", "]", "{", "}", "&a ", "*a", "!!str ", "! ", "|", ">", "- ", ": ", "? ", ",", "'", '"',
    "#", "\n", "  ", "\t", "title", "date", "url", "2013-11-28", "https://a.example/x", "---",
    "...", "%YAML 1.2\n", "\\", "\x1b[31m", "\u202e", "é",
]  # fmt: skip
yaml_text = st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=4), max_size=120).map("".join)


@FAST
@given(block=yaml_text)
def test_front_matter_gives_plain_fields_or_one_line_why(block: str) -> None:
    try:
        meta = read_front_matter(block)
    except FrontMatterError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for value in (meta.title, meta.source, meta.url, meta.date, meta.author, meta.feed):
        assert value is None or (value and value.isprintable() and len(value) <= 2000)
    assert meta.date is None or re.fullmatch(r"\d{4}-\d\d-\d\d", meta.date)


contents = file_text.map(lambda t: t.encode("utf-8")) | st.binary(max_size=400)
names = st.text(max_size=30).map(lambda n: re.sub(r"[/\x00]", "", n)[:100])


@SLOW
@given(files=st.lists(st.tuples(names, st.sampled_from([".txt", ".md"]), contents), max_size=4))
def test_load_corpus_loads_or_refuses_with_reasons(files: list[tuple[str, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, suffix, data in files:
            try:
                (Path(folder) / f"{name}{suffix}").write_bytes(data)
            except OSError:
                assume(False)  # a name the filesystem refuses (too long in bytes)
        try:
            corpus = load_corpus(folder)
        except CorpusError as exc:
            assert str(exc) and all(isinstance(p, str) and p for p in exc.problems)
            return
        keys = [a.key for a in corpus.articles]
        assert len(set(keys)) == len(keys)
        assert all(SLUG.fullmatch(key) for key in keys)
        assert all(p.startswith("skipped ") for p in corpus.problems)


@FAST
@given(paths=st.lists(st.text(min_size=1, max_size=40), max_size=12, unique=True))
def test_article_keys_are_unique_slugs_whatever_the_file_names(paths: list[str]) -> None:
    keys = article_keys([f"{p}.txt" for p in paths] + ["../../etc/passwd.txt", "a/../b.md"])
    assert len(set(keys.values())) == len(keys)
    for key in keys.values():
        assert SLUG.fullmatch(key), key  # no dots, slashes or anything else to escape with


# The engine, then rendering


def check_rendered(answer: Answer) -> None:
    """Render an answer as the bot does and check the payload as Discord would."""
    embed = embeds.answer_embed(answer)
    view = answer_view("AbCdEfGhIjKl", answer)
    assert_discord_accepts(embed, view)
    assert_inert(embed.title or "")
    assert_inert(embed.description or "")
    if answer.passages:
        context = embeds.context_embed(answer)
        assert_discord_accepts(context, None)
        assert_inert(context.title or "")
        assert_inert(context.description or "", quote_lines=True)


def assert_discord_accepts(embed: discord.Embed, view: discord.ui.View | None) -> None:
    payload = {
        "embeds": [embed.to_dict()],
        "components": view.to_components() if view is not None else [],
        "allowed_mentions": NO_MENTIONS.to_dict(),
        "nonce": "123456789012345678",
    }
    validate_message(payload, has_attachments=False)  # raises as Discord would
    assert payload["allowed_mentions"] == {"parse": []}


@SLOW
@given(
    texts=st.lists(file_text, min_size=1, max_size=3),
    questions=st.lists(question_text, min_size=1, max_size=4),
    k=st.integers(1, 10),
    offset=st.integers(0, 4),
)
def test_the_engine_answers_anything_and_the_answer_renders_within_limits(
    texts: list[str], questions: list[str], k: int, offset: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for i, text in enumerate(texts):
            (Path(folder) / f"article-{i}.txt").write_text(text, encoding="utf-8")
        try:
            engine = Engine.from_folder(folder)
        except CorpusError:
            assume(False)
            return
    for question in [*questions, *(s.text for s in engine.sentences[:2])]:
        answer = engine.answer(question, k, offset)
        assert isinstance(answer.status, Status)
        assert len(answer.passages) <= k
        if answer.passages:
            assert answer.answered
        elif offset == 0:  # past the last page an answer may run out of passages
            assert not answer.answered
        for passage in answer.passages:
            assert all(0 <= a < b <= len(passage.text) for a, b in passage.highlights)
        check_rendered(answer)


def passage(text: str, spans: list[tuple[int, int]], title: str, citation: str) -> Passage:
    return Passage(
        citation=citation,
        text=text,
        article_key="k",
        article_title=title,
        source=title[::-1] or None,
        score=1.0,
        matched=(),
        highlights=tuple(spans),
        context_before=text[::-1],
        context_after=title,
    )


@FAST
@given(
    question=question_text,
    texts=st.lists(question_text, min_size=1, max_size=5),
    spans=st.lists(st.tuples(st.integers(-5, 700), st.integers(-5, 700)), max_size=20),
    title=question_text,
    citation=st.sampled_from(["1.1", "key:3.1-3.2"]) | hostile,
    status=st.sampled_from(list(Status)),
    has_more=st.booleans(),
)
def test_any_answer_renders_within_limits_and_inert(
    question: str,
    texts: list[str],
    spans: list[tuple[int, int]],
    title: str,
    citation: str,
    status: Status,
    has_more: bool,
) -> None:
    passages = tuple(passage(t, spans, title, citation) for t in texts)
    answer = Answer(question, status, passages, message=question + title, has_more=has_more)
    check_rendered(answer)


# Escaping keeps every visible character: markdown cannot hide text


PRINTABLE = st.lists(
    st.sampled_from([*"abcXYZ019 .,:;!?'\"()[]{}<>@#&|*_~`\\/-+=%$^", "everyone", "here"]),
    max_size=150,
).map("".join)


@FAST
@given(
    text=PRINTABLE,
    spans=st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300)), max_size=10),
)
def test_escaped_text_reads_exactly_as_written(text: str, spans: list[tuple[int, int]]) -> None:
    rendered = safetext.safe_text(text, 4096, highlights=spans)
    assert_inert(rendered)
    assert visible(rendered) == " ".join(text.split())


@FAST
@given(text=mention_soup | hostile | with_surrogates)
@example(text="@\u200beveryone @\x00here @\u00adeveryone")
def test_invisible_characters_cannot_rebuild_a_mass_mention(text: str) -> None:
    for rendered in (safetext.escape(text), embeds.question_title(text)):
        assert_inert(rendered)


@FAST
@given(
    retry_after=st.floats(0, 1e6, allow_nan=False),
    channels=st.lists(st.integers(1, 2**63 - 1), max_size=80),
)
def test_notices_fit_in_a_message(retry_after: float, channels: list[int]) -> None:
    for content in (
        notices.cooldown_notice(retry_after),
        notices.channels_notice(channels),
        notices.APOLOGY,
        notices.EXPIRED_NOTICE,
        notices.DMS_OFF_NOTICE,
        notices.UNREADABLE_NOTICE,
    ):
        validate_message(
            {"content": content, "allowed_mentions": NO_MENTIONS.to_dict()}, has_attachments=False
        )
        assert not re.search(r"@(everyone|here)|<@", content)


def test_an_article_whose_title_renders_to_nothing_still_renders(tmp_path: Path) -> None:
    # Found by the properties above: "_.txt" is titled " ", so the footer (title and source)
    # rendered empty, and Discord refuses an embed footer without text: no answer came.
    (tmp_path / "_.txt").write_text("Envoys met in Seoul. ASEAN is here.\n")
    engine = Engine.from_folder(tmp_path)
    assert not engine.articles[0].title.strip() and engine.articles[0].source is None
    answer = engine.answer("what is ASEAN?")
    assert answer.passages
    check_rendered(answer)


# Bounded state: whatever users do, the bot's maps stay within their limits


@FAST
@given(
    steps=st.lists(st.tuples(st.integers(0, 300), st.floats(0, 40, allow_nan=False)), max_size=400),
    max_users=st.integers(1, 50),
    questions=st.integers(1, 5),
)
def test_the_cooldown_and_answer_store_stay_bounded(
    steps: list[tuple[int, float]], max_users: int, questions: int
) -> None:
    now = [0.0]
    cooldown = Cooldown(questions, 30, clock=lambda: now[0], max_users=max_users)
    store = AnswerStore(capacity=max_users)
    stored = StoredAnswer(Answer("q", Status.ANSWERED), 3, 1, False)
    for user, wait in steps:
        now[0] += wait
        if cooldown.check(user).allowed:
            store.add(stored)
        assert len(cooldown._asked) <= max_users
        assert set(cooldown._notified_until) <= set(cooldown._asked)
        assert all(len(times) <= questions for times in cooldown._asked.values())
        assert len(store) <= max_users


def test_rendering_a_megabyte_sentence_reads_only_what_can_be_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An article without full stops is one sentence: rendering it whole took seconds on the
    # event loop. Only what fits in the embed (and a few characters more) is looked at now.
    looked_at = []

    class Counting:
        def category(self, ch: str) -> str:
            looked_at.append(ch)
            return unicodedata.category(ch)

    monkeypatch.setattr(safetext, "unicodedata", Counting())
    text = "envoy talks sanctions Seoul " * 40_000  # 1.1 MB
    spans = tuple((i, i + 5) for i in range(0, len(text), 28))
    answer = Answer("why?", Status.ANSWERED, (passage(text, list(spans), "T", "1.1"),))
    check_rendered(answer)
    assert len(looked_at) < 6 * safetext.DESCRIPTION_LIMIT  # answer, context and its 2 sides
