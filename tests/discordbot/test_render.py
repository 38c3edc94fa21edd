"""The rendering module: Discord's limits, escaping, and highlight bolding."""

from __future__ import annotations

import re
from dataclasses import replace

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answer.models import Answer, Passage, Status
from bot.discordbot import embeds, notices, safetext
from bot.discordbot.answer_buttons import ButtonState
from bot.discordbot.safetext import (
    BLANK,
    EMBED_TOTAL_LIMIT,
    clip,
    embed_size,
    escape,
    fit_content,
    fit_embed,
    fit_embeds,
    safe_text,
    size,
)
from bot.ingest.models import Article, Sentence

MENTION_LADEN = (
    "@everyone @here <@123456789012345678> <@!123456789012345678> <@&987654321098765432> "
    "<#111111111111111111> </ask:222222222222222222> <t:1700000000:R> <:blob:333333333333333333> "
    "[click](https://evil.example) ||spoiler|| ```py\nprint(1)\n``` **bold** __under__ ~~strike~~ "
    "> quote\n# heading\n-# subtext\n- item"
)


def passage(text: str, highlights: tuple[tuple[int, int], ...] = (), **kw: object) -> Passage:
    defaults: dict[str, object] = {
        "citation": "1.1",
        "article_key": "a",
        "article_title": "Title",
        "source": "Source",
        "score": 1.0,
        "matched": (),
        "context_before": "",
        "context_after": "",
    }
    defaults.update(kw)
    return Passage(text=text, highlights=highlights, **defaults)  # type: ignore[arg-type]


def assert_embed_within_limits(embed: discord.Embed) -> None:
    assert size(embed.title or "") <= safetext.TITLE_LIMIT
    assert size(embed.description or "") <= safetext.DESCRIPTION_LIMIT
    assert len(embed.fields) <= safetext.FIELDS_LIMIT
    for item in embed.fields:
        assert 0 < size(item.name or "") <= safetext.FIELD_NAME_LIMIT
        assert 0 < size(item.value or "") <= safetext.FIELD_VALUE_LIMIT
    assert size(embed.footer.text or "") <= safetext.FOOTER_LIMIT
    assert size(embed.author.name or "") <= safetext.AUTHOR_LIMIT
    assert embed_size(embed) <= EMBED_TOTAL_LIMIT


def unescaped(text: str) -> str:
    """Undo markdown escapes the way Discord's renderer does."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text)


# Escaping


def test_mass_mentions_are_broken_with_a_zero_width_space() -> None:
    out = escape("ping @everyone and @here and @Everyone")
    assert "@everyone" not in out and "@here" not in out and "@Everyone" not in out
    assert "@\u200beveryone" in out and "@\u200bhere" in out


@pytest.mark.parametrize(
    "raw",
    [
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<@&123456789012345678>",
        "<#123456789012345678>",
        "</ask:123456789012345678>",
        "<t:1700000000:R>",
        "<a:dance:123456789012345678>",
    ],
)
def test_angle_bracket_syntax_is_escaped(raw: str) -> None:
    out = escape(f"hello {raw} there")
    assert f"\\{raw}" in out
    assert unescaped(out) == f"hello {raw} there"


def test_markdown_renders_as_typed() -> None:
    raw = "[x](https://evil.example) ||spoiler|| ```code``` **b** __u__ ~~s~~ `c` \\ *i*"
    out = escape(raw)
    assert "\\[x](" in out
    assert "||" not in out
    assert "```" not in out
    assert "**" not in out and "__" not in out and "~~" not in out
    assert unescaped(out) == raw


def test_line_start_syntax_is_escaped_only_at_line_start() -> None:
    out = escape("# heading\n> quote\n-# small\n- item\nA-B #tag a>b", keep_newlines=True)
    lines = out.split("\n")
    assert lines[:4] == ["\\# heading", "\\> quote", "\\-# small", "\\- item"]
    assert lines[4] == "A-B #tag a>b"


def test_newlines_are_flattened_unless_kept_and_floods_collapse() -> None:
    assert escape("a\n\nb") == "a b"
    assert escape("a" + "\n" * 50 + "b", keep_newlines=True) == "a\n\nb"


def test_zero_width_and_control_floods_are_dropped() -> None:
    flood = "a" + "\u200b" * 5000 + "\u202e" + "\x00\x07" + "\ufeff" * 10 + "b"
    assert escape(flood) == "ab"


def test_zalgo_is_capped_but_accents_survive() -> None:
    zalgo = "Z" + "\u0301" * 200 + "a"
    assert escape(zalgo) == "Z" + "\u0301" * 4 + "a"
    assert escape("café naïve") == "café naïve"


def test_emoji_sequences_survive() -> None:
    family = "👨\u200d👩\u200d👧"
    assert escape(family) == family
    assert escape("👍🏽 ❤️") == "👍🏽 ❤️"


def test_lone_surrogates_are_dropped() -> None:
    assert escape("a\ud800b") == "ab"


# Highlights


def test_highlights_are_bolded_after_escaping() -> None:
    text = "North *Korea* and <@1>"
    out = safe_text(text, 1000, highlights=((0, 5), (7, 12)))
    assert out == "**North** \\***Korea**\\* and \\<@1>"


def test_adjacent_and_overlapping_highlights_merge() -> None:
    assert safe_text("abcdef", 100, highlights=((0, 2), (2, 4))) == "**abcd**ef"
    assert safe_text("abcdef", 100, highlights=((0, 3), (1, 5))) == "**abcde**f"


def test_out_of_range_and_empty_highlights_are_ignored() -> None:
    out = safe_text("abc", 100, highlights=((-5, 1), (2, 2), (3, 99), (10, 20), (2, 1)))
    assert out == "**a**bc"


def test_highlight_edges_skip_whitespace() -> None:
    assert safe_text("a  b  c", 100, highlights=((1, 6),)) == "a **b** c"


def test_cut_closes_bold_and_prefers_word_breaks() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta"
    out = safe_text(text, 25, highlights=((11, 22),))
    assert size(out) <= 25
    assert out.endswith("…")
    assert out.count("**") % 2 == 0
    assert out == "alpha beta **gamma**…"


def test_cut_never_leaves_an_empty_bold_pair() -> None:
    out = safe_text("x" * 10 + " " + "y" * 50, 14, highlights=((11, 61),))
    assert "****" not in out
    assert size(out) <= 14


# Limits


def test_clip_counts_utf16_units() -> None:
    emoji = "😀" * 10  # two UTF-16 units each
    assert size(emoji) == 20
    clipped = clip(emoji, 9)
    assert size(clipped) <= 9
    assert clipped.endswith("…")


def test_clip_drops_a_dangling_backslash() -> None:
    assert not clip("a" * 8 + "\\*" + "b" * 20, 10).rstrip("…").endswith("\\")


def test_fit_content_caps_at_2000() -> None:
    assert size(fit_content("x" * 5000)) == 2000


def test_fit_embed_enforces_every_limit() -> None:
    embed = discord.Embed(title="t" * 1000, description="d" * 10_000)
    embed.set_footer(text="f" * 5000)
    embed.set_author(name="a" * 1000)
    for _ in range(40):
        embed.add_field(name="n" * 500, value="v" * 2000)
    embed.add_field(name="", value="")
    assert_embed_within_limits(fit_embed(embed))


def test_fit_embed_replaces_empty_field_parts() -> None:
    embed = discord.Embed(title="x")
    embed.add_field(name="", value="")
    fitted = fit_embed(embed)
    assert fitted.fields[0].name == BLANK and fitted.fields[0].value == BLANK


def test_fit_embeds_keeps_ten_within_6000_total() -> None:
    embeds = [discord.Embed(description="d" * 4000) for _ in range(15)]
    fitted = fit_embeds(embeds)
    assert 1 <= len(fitted) <= 10
    assert sum(embed_size(e) for e in fitted) <= EMBED_TOTAL_LIMIT


def test_custom_id_is_checked() -> None:
    assert ButtonState("ctx", "abc", 0, ()).custom_id == "qa:ctx:abc:0:"
    with pytest.raises(ValueError):
        _ = ButtonState("ctx", "abc", 0, ("x" * 100,)).custom_id


def test_a_dm_answer_s_server_fits_in_the_custom_id_and_reads_back() -> None:
    from bot.discordbot.answer_buttons import new_answer_id, parse_custom_id

    # The longest: Share, a 4-digit page, ten cited articles, a 20-digit server id.
    state = ButtonState("share", new_answer_id(), 9999, ("abcde",) * 10, 10**19 + 1)
    assert len(state.custom_id) <= 100
    assert parse_custom_id(state.custom_id) == state
    plain = ButtonState("ctx", "abc", 3, ("abcde",))
    assert parse_custom_id(plain.custom_id) == plain and plain.server is None


def test_button_label_fits() -> None:
    assert size(safetext.button_label("y" * 500)) <= safetext.BUTTON_LABEL_LIMIT


# Answers


def test_answer_embed_escapes_question_and_passages() -> None:
    text = "They said @everyone must see <@&42> ||now||."
    answer = Answer(
        question="why @everyone <@&123> ||x||?",
        status=Status.ANSWERED,
        passages=(passage(text, ((5, 9),)),),
    )
    embed = embeds.answer_embed(answer)
    assert embed.title == "why @\u200beveryone \\<@&123> \\|\\|x\\|\\|?"
    assert "@everyone" not in (embed.description or "")
    assert "\\<@&42>" in (embed.description or "")
    assert "**\\[1.1]** They **said** @\u200beveryone" in (embed.description or "")
    assert embed.footer.text == "Title — Source"


def test_answer_embed_with_huge_passages_stays_within_limits() -> None:
    long = ("word " * 3000).strip()
    spans = tuple((i * 5, i * 5 + 4) for i in range(0, 3000, 2))
    passages = tuple(
        passage(
            long,
            spans,
            citation=f"{'k' * 300}:{i}.1",
            article_title="T" * 5000,
            source="S" * 5000,
            article_key=str(i),
        )
        for i in range(10)
    )
    answer = Answer(question="q" * 6000, status=Status.ANSWERED, passages=passages, offset=3)
    embed = embeds.answer_embed(answer)
    assert_embed_within_limits(embed)
    assert (embed.description or "").count("**") % 2 == 0
    assert_embed_within_limits(embeds.context_embed(answer))


def test_not_found_and_usage_render_the_message() -> None:
    nf = Answer(question="bread?", status=Status.NOT_FOUND, message="The article doesn't say.")
    assert embeds.answer_embed(nf).description == "The article doesn't say."
    usage = Answer(question="x" * 6000, status=Status.USAGE, message="Too long.\nAsk briefly.")
    embed = embeds.answer_embed(usage)
    assert embed.title == "How to ask"
    assert embed.description == "Too long.\nAsk briefly."


def test_context_embed_shows_neighbours() -> None:
    answer = Answer(
        question="q",
        status=Status.ANSWERED,
        passages=(passage("Middle.", ((0, 6),), context_before="Before.", context_after="After."),),
    )
    assert embeds.context_embed(answer).description == (
        "**\\[1.1]**\nBefore.\n> **Middle**.\nAfter."
    )


def article(i: int, title: str = "Title") -> Article:
    sentences = tuple(Sentence(str(i), 1, n, "S.", f"{n}") for n in range(1, 4))
    return Article(key=str(i), path=f"{i}.txt", title=title, source="Src", sentences=sentences)


def test_sources_embed_lists_articles_and_caps_long_lists() -> None:
    embed = embeds.sources_embed([article(1, "One <@&1>")])
    assert embed.description == "• **One \\<@&1>** — Src · 3 sentences"
    many = embeds.sources_embed([article(i, "T" * 300) for i in range(500)])
    assert_embed_within_limits(many)
    assert "more" in (many.description or "").splitlines()[-1]


def test_help_embed_fits_with_many_ask_channels() -> None:
    embed = embeds.help_embed(
        bot_name="Bot" * 100,
        allow_dms=True,
        ask_channel_ids=range(10**17, 10**17 + 500),
        cooldown_questions=5,
        cooldown_seconds=30,
    )
    assert_embed_within_limits(embed)


def test_cooldown_notice_uses_a_relative_timestamp() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 1, 1, tzinfo=UTC)
    notice = notices.cooldown_notice(12.2, now)
    assert f"<t:{int(now.timestamp()) + 13}:R>" in notice
    assert "in 13 s" in notice


# Properties

settings.register_profile("render", deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_text = (
    st.text(st.characters(codec=None), max_size=3000)
    # Lone surrogates too, which st.characters() leaves out by default.
    | st.lists(st.characters() | st.integers(0xD800, 0xDFFF).map(chr), max_size=300).map("".join)
    | st.text(
        st.sampled_from(list("@everyone<>#&!|*_~`[]()\\\n -\u200b\u200d\u0301😀")), max_size=3000
    )
)


@settings(settings.get_profile("render"), max_examples=150)
@given(
    text=any_text,
    limit=st.integers(min_value=1, max_value=4096),
    spans=st.lists(st.tuples(st.integers(-10, 3100), st.integers(-10, 3100)), max_size=30),
    keep=st.booleans(),
)
def test_render_text_never_exceeds_and_never_raises(
    text: str, limit: int, spans: list[tuple[int, int]], keep: bool
) -> None:
    out = safe_text(text, limit, highlights=spans, keep_newlines=keep)
    assert size(out) <= limit
    assert "@everyone" not in out.lower() and "@here" not in out.lower()
    assert not re.search(r"(?<!\\)<[@#:/at]", out)
    assert not re.search(r"[\ud800-\udfff]", out)


@settings(settings.get_profile("render"), max_examples=60)
@given(
    question=any_text,
    texts=st.lists(any_text, min_size=1, max_size=10),
    title=any_text,
    source=st.none() | any_text,
    citation=st.text(max_size=200),
)
def test_answer_embeds_always_fit(
    question: str, texts: list[str], title: str, source: str | None, citation: str
) -> None:
    passages = tuple(
        passage(
            t,
            tuple((i, i + 3) for i in range(0, len(t), 7)),
            citation=citation,
            article_title=title,
            source=source,
            context_before=t[::-1],
            context_after=t,
        )
        for t in texts
    )
    for status in Status:
        answer = Answer(
            question=question, status=status, passages=passages, message=question + title
        )
        assert_embed_within_limits(embeds.answer_embed(answer))
        assert_embed_within_limits(embeds.context_embed(answer))


@settings(settings.get_profile("render"), max_examples=80)
@given(text=any_text, limit=st.integers(min_value=0, max_value=3000))
def test_clip_and_plain_fit(text: str, limit: int) -> None:
    assert size(clip(text, limit)) <= max(limit, 0)
    if limit:
        assert size(safetext.plain(text, limit)) <= limit


def test_the_answer_fields_are_rendered_in_words_bold_and_links() -> None:
    text = "The tunnel closes in July for repairs."
    cited = passage(
        text,
        highlights=((4, 10),),
        answer_spans=((21, 25),),
        date="2024-05-01",
        url="https://news.example/tunnel?id=1",
        article_title="Tunnel <news>",
    )
    answer = Answer(
        question="and when?",
        status=Status.ANSWERED,
        passages=(cited,),
        confidence=0.91,
        confidence_label="high",
        read_with="When does the @everyone tunnel close?",
    )
    embed = embeds.answer_embed(answer)
    description = embed.description or ""
    # The answering phrase is bold (not the matched words, when there is one).
    assert "**July**" in description and "**tunnel**" not in description
    first_line = description.split("\n", 1)[0]
    assert first_line.startswith("(read with your previous question: When does the @")
    assert "@everyone" not in first_line  # escaped: it cannot ping
    footer = embed.footer.text or ""
    assert footer.startswith("High confidence · ") and "(2024-05-01)" in footer
    (field,) = embed.fields
    assert field.value == "• [Tunnel \\<news>](<https://news.example/tunnel?id=1>)"
    assert_embed_within_limits(embed)

    low = embeds.answer_embed(replace(answer, confidence_label="low", read_with=None))
    assert (low.footer.text or "").startswith("Low confidence: check the passages")
    assert "read with" not in (low.description or "")
    # A non-web address is never linked.
    unsafe = replace(cited, url="javascript:alert(1)")
    assert not embeds.answer_embed(replace(answer, passages=(unsafe,))).fields
    # Show context bolds the same phrase.
    assert "**July**" in (embeds.context_embed(answer).description or "")
