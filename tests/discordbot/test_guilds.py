"""Servers with their own articles and settings, through FakeDiscord with the real client.

Two servers answer from different corpus folders (guilds.toml) and nothing of one shows in
the other; admins change settings with /qa (Manage Server, checked on every use), which
survive a restart; buttons work after a restart; private answers can be shared; votes and
/qa gaps reach the admins, with question text only where the server opted in.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.discordbot.client import QABot, make_bot
from bot.discordbot.cogs.admin import ADMIN_ONLY_NOTICE
from bot.discordbot.cogs.buttons import ARTICLE_CHANGED_NOTICE, SHARED_NOTICE
from bot.discordbot.state import StateDB
from bot.discordbot.sync_state import SyncState
from tests.discordbot.conftest import CORPUS, settings_for
from tests.discordbot.helpers import (
    button_ids,
    embed_of,
    final_message,
    first_citation,
    is_ephemeral,
    visible,
)
from tests.fakediscord import FakeDiscord, FakeUser
from tests.fakediscord.harness import running_client
from tests.fakediscord.models import ADMINISTRATOR, ALL_PERMISSIONS, MANAGE_GUILD

NK_QUESTION = "why is NK courting ASEAN?"
TUNNEL = (
    "---\ntitle: Tunnel news\ndate: 2024-05-01\nsource: City Paper\n---\n\n"
    "The Plimbo tunnel closes in July for repairs, the city said.\n"
)
BRIDGE = (
    "---\ntitle: Bridge news\ndate: 2020-01-15\nsource: River Times\n---\n\n"
    "The Zorblat bridge opens in May, officials said. The Plimbo tunnel stays open.\n"
)
TUNNEL_QUESTION = "When does the Plimbo tunnel close?"
WAIT = 20.0


class Servers:
    """Two servers, A (the seed article) and B (a tunnel article), and their channels."""

    def __init__(self, fake: FakeDiscord, tmp_path: Path) -> None:
        world = fake.world
        assert world is not None
        self.fake = fake
        self.a, self.a_channel = world.guild_id, world.channel_id
        self.b = fake.add_guild(name="Other Guild")
        self.b_channel = fake.add_text_channel(self.b, "general")
        self.alice, self.bob = world.alice, world.bob
        self.tmp = tmp_path
        shutil.copytree(CORPUS, tmp_path / "a")
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "tunnel.md").write_text(TUNNEL, encoding="utf-8")
        (tmp_path / "b" / "bridge.md").write_text(BRIDGE, encoding="utf-8")
        self.guilds_file = tmp_path / "guilds.toml"
        self.write_file()

    def write_file(self, extra_a: str = "", extra_b: str = "") -> None:
        self.guilds_file.write_text(
            f'[guild.{self.a}]\ncorpus = "a"\n{extra_a}\n[guild.{self.b}]\ncorpus = "b"\n{extra_b}\n',
            encoding="utf-8",
        )

    def settings(self, **env: Any) -> Any:
        return settings_for(
            self.fake,
            **{
                "guilds_file": self.guilds_file,
                "state_db": self.tmp / "state.sqlite3",
                "cooldown_questions": 0,
                **env,
            },
        )

    @contextlib.asynccontextmanager
    async def running(self, **env: Any) -> AsyncIterator[QABot]:
        bot = make_bot(self.settings(**env), sync_state=SyncState(self.tmp / "sync"))
        async with running_client(bot, self.fake, timeout=WAIT) as running:
            # Commands are synced to A (DISCORD_GUILD_ID); B gets them too, as a global sync would.
            await running.sync_guild(self.b)
            yield running

    def admins_only(self) -> FakeUser:
        """Take Manage Server from @everyone in A and give it to alice alone; return alice."""
        fake = self.fake
        fake.set_role_permissions(self.a, self.a, ALL_PERMISSIONS & ~(MANAGE_GUILD | ADMINISTRATOR))
        moderators = fake.add_role(self.a, "Moderators", MANAGE_GUILD)
        fake.give_role(self.alice, moderators)
        return self.alice


@pytest.fixture
def servers(fake_discord: FakeDiscord, tmp_path: Path) -> Servers:
    return Servers(fake_discord, tmp_path)


async def run(
    fake: FakeDiscord,
    name: str,
    options: dict[str, Any] | None,
    user: FakeUser,
    channel_id: int,
) -> dict[str, Any]:
    inter = await fake.user_runs_slash_command(name, options, user, channel_id)
    return final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))


async def click(fake: FakeDiscord, message: dict[str, Any], kind: str, user: FakeUser) -> Any:
    custom_id = next(c for c in button_ids(message) if c.split(":")[1] == kind)
    inter = await fake.user_clicks_button(int(message["id"]), custom_id, user)
    return final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))


def text_of(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f.get("value") or "" for f in embed.get("fields") or []]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return visible("\n".join(parts))


async def test_two_servers_answer_from_their_own_articles_only(servers: Servers) -> None:
    fake = servers.fake
    async with servers.running() as bot:
        in_a = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.a_channel)
        assert first_citation(embed_of(in_a)) == "1.1"
        in_b = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.b_channel)
        assert "ASEAN" not in text_of(in_b).replace(NK_QUESTION, "")
        assert not button_ids(in_b)  # declined: nothing to show context of

        tunnel_b = await run(
            fake, "ask", {"question": TUNNEL_QUESTION}, servers.alice, servers.b_channel
        )
        assert "closes in July" in text_of(tunnel_b)
        tunnel_a = await run(
            fake, "ask", {"question": TUNNEL_QUESTION}, servers.alice, servers.a_channel
        )
        assert "Plimbo" not in text_of(tunnel_a).replace(TUNNEL_QUESTION, "")

        sources_a = text_of(await run(fake, "sources", None, servers.alice, servers.a_channel))
        sources_b = text_of(await run(fake, "sources", None, servers.alice, servers.b_channel))
        assert "ASEAN" in sources_a and "Tunnel" not in sources_a
        assert "Tunnel news" in sources_b and "ASEAN" not in sources_b
        help_b = text_of(await run(fake, "help", None, servers.alice, servers.b_channel))
        assert "2 indexed news articles" in help_b

        # Buttons: A's answer's custom id, put on a message in B, shows nothing of A.
        context_id = button_ids(in_a)[0]
        channel = bot.get_channel(servers.b_channel)
        assert isinstance(channel, discord.TextChannel)
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Show context", custom_id=context_id))
        copied = await channel.send(
            embed=discord.Embed(title=NK_QUESTION),
            view=view,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        inter = await fake.user_clicks_button(copied.id, context_id, servers.alice)
        shown = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
        assert shown["content"] == ARTICLE_CHANGED_NOTICE and "ASEAN" not in text_of(shown)
        # One engine per folder: the default corpus (for DMs), A's and B's.
        assert len(bot.engines.built()) == 3


async def test_a_server_without_a_corpus_says_so(servers: Servers) -> None:
    fake = servers.fake
    servers.guilds_file.write_text(
        f'guilds_without_corpus = "none"\n[guild.{servers.a}]\ncorpus = "a"\n', encoding="utf-8"
    )
    async with servers.running():
        shown = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.b_channel)
        assert "No articles are set up for this server" in shown["content"]
        shown = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.a_channel)
        assert first_citation(embed_of(shown)) == "1.1"


async def test_admin_commands_are_refused_without_manage_server(servers: Servers) -> None:
    fake = servers.fake
    alice = servers.admins_only()
    async with servers.running():
        for command, options in (
            ("qa settings", {"k": 1}),
            ("qa channels", {"action": "allow"}),
            ("qa reload", None),
            ("qa gaps", None),
        ):
            refused = await run(fake, command, options, servers.bob, servers.a_channel)
            assert refused["content"] == ADMIN_ONLY_NOTICE and is_ephemeral(refused), command
        shown = await run(fake, "qa settings", {"k": 1}, alice, servers.a_channel)
        assert "k (passages per answer): 1" in text_of(shown)

        # A button click is checked again: alice's report, after she lost the role.
        report = await run(fake, "qa gaps", None, alice, servers.a_channel)
        alice.role_ids.clear()
        inter = await fake.user_clicks_button(int(report["id"]), "qa:gaps:30", alice)
        refused = final_message(await fake.wait_for_interaction_done(inter, timeout=WAIT))
        assert refused["content"] == ADMIN_ONLY_NOTICE


async def test_settings_survive_a_restart_unless_the_file_pins_them(servers: Servers) -> None:
    fake = servers.fake
    async with servers.running():
        await run(fake, "qa settings", {"k": 1, "private": True}, servers.alice, servers.a_channel)
        await run(fake, "qa channels", {"action": "allow"}, servers.alice, servers.a_channel)
    async with servers.running() as bot:
        config = bot.config_for(servers.a)
        assert config.k == 1 and config.private and config.allowed_channels == {servers.a_channel}
        shown = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.a_channel)
        assert is_ephemeral(shown)  # private by default now
        assert visible(embed_of(shown)["description"]).count("\n\n") == 0  # one passage
        assert bot.config_for(servers.b).k == 3  # the other server is untouched
    servers.write_file(extra_a='k = 2\npinned = ["k"]')
    async with servers.running() as bot:
        assert bot.config_for(servers.a).k == 2  # the pinned file value beats the database
        refused = await run(fake, "qa settings", {"k": 4}, servers.alice, servers.a_channel)
        assert "pinned k in guilds.toml" in refused["content"]


async def test_buttons_work_after_a_restart_or_say_the_article_changed(servers: Servers) -> None:
    fake = servers.fake
    async with servers.running():
        answer = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.a_channel)
        first = first_citation(embed_of(answer))
    async with servers.running():  # a new process: nothing remembered
        context = await click(fake, answer, "ctx", servers.alice)
        assert first_citation(embed_of(context)) == first and is_ephemeral(context)
        page = await click(fake, answer, "more", servers.alice)
        assert "passages 4" in embed_of(page)["footer"]["text"] and not is_ephemeral(page)
    article = servers.tmp / "a" / "yonhap-nk-asean-sanctions.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\nA new closing line.\n")
    async with servers.running():
        changed = await click(fake, answer, "ctx", servers.alice)
        assert changed["content"] == ARTICLE_CHANGED_NOTICE


async def test_a_private_answer_can_be_shared_in_the_channel(servers: Servers) -> None:
    fake = servers.fake
    async with servers.running():
        private = await run(
            fake,
            "ask",
            {"question": NK_QUESTION, "private": True},
            servers.alice,
            servers.a_channel,
        )
        assert is_ephemeral(private)
        notice = await click(fake, private, "share", servers.alice)
        assert notice["content"] == SHARED_NOTICE
        shared = await fake.wait_for_bot_message(
            servers.a_channel, lambda m: "Shared by" in (m.get("content") or ""), timeout=WAIT
        )
        assert not is_ephemeral(shared)
        assert shared["content"] == f"Shared by <@{servers.alice.id}>:"
        assert shared["mentions"] == [] and shared["allowed_mentions"]["parse"] == []
        assert first_citation(embed_of(shared)) == first_citation(embed_of(private))
        assert "share" not in [c.split(":")[1] for c in button_ids(shared)]


async def test_votes_one_per_user_changeable_and_gaps(servers: Servers) -> None:
    fake = servers.fake
    async with servers.running() as bot:
        answer = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.a_channel)
        assert "recorded" in (await click(fake, answer, "up", servers.alice))["content"]
        assert "already" in (await click(fake, answer, "up", servers.alice))["content"]
        assert "Changed" in (await click(fake, answer, "down", servers.alice))["content"]
        await click(fake, answer, "down", servers.bob)
        declined = "what colour are the zorblat bananas of Mars?"
        await run(fake, "ask", {"question": declined}, servers.bob, servers.a_channel)

        state = bot.state
        assert isinstance(state, StateDB)
        (tally,) = state.tallies_since(servers.a, 0)
        assert (tally.up, tally.down) == (0, 2)
        assert tally.record is not None and tally.record.citations
        assert all(r.question is None for r in state.questions_since(servers.a, 0))

        report = text_of(await run(fake, "qa gaps", None, servers.alice, servers.a_channel))
        assert "2 asked · 1 declined (50%)" in report
        assert "Question text is not kept on this server" in report
        assert declined not in report
        assert "👎 2" in report and "1.1" in report  # the thumbs-down answer's citations
        assert "Yonhap" in report or "ASEAN" in report  # most-asked articles

        await run(fake, "qa settings", {"store_questions": True}, servers.alice, servers.a_channel)
        for question in (declined, "What colour are zorblat bananas on Mars"):
            await run(fake, "ask", {"question": question}, servers.bob, servers.a_channel)
        report = text_of(await run(fake, "qa gaps", {"days": 30}, servers.alice, servers.a_channel))
        assert "×2 " + declined in report  # alike questions grouped
        assert "4 asked · 3 declined" in report

        # Retention: rows older than the server's setting are deleted.
        await run(fake, "qa settings", {"retention_days": 1}, servers.alice, servers.a_channel)
        import time

        assert bot.housekeeping.prune(now=time.time() + 2 * 86400) > 0
        assert state.questions_since(servers.a, 0) == []
        # Question text in the other server was never kept.
        assert state.questions_since(servers.b, 0) == []


async def complete(
    fake: FakeDiscord, options: dict[str, Any], focused: str, user: FakeUser, channel_id: int
) -> list[dict[str, Any]]:
    inter = await fake.user_autocompletes("ask", options, focused, user, channel_id)
    await fake.wait_for_interaction_done(inter, timeout=WAIT)
    choices: list[dict[str, Any]] = inter.autocomplete_choices or []
    return choices


async def test_ask_options_and_their_autocomplete_stay_in_the_server(servers: Servers) -> None:
    fake = servers.fake
    alice = servers.alice
    async with servers.running():
        # Autocomplete offers each server's own titles and sources.
        typed = {"question": TUNNEL_QUESTION, "article": ""}
        in_a = await complete(fake, typed, "article", alice, servers.a_channel)
        in_b = await complete(fake, typed, "article", alice, servers.b_channel)
        assert [c["value"] for c in in_a] == ["yonhap-nk-asean"]
        assert sorted(c["value"] for c in in_b) == ["bridge", "tunnel"]
        assert "Tunnel news (2024-05-01)" in [c["name"] for c in in_b]
        narrowed = {"question": TUNNEL_QUESTION, "article": "brid"}
        assert [
            c["value"] for c in await complete(fake, narrowed, "article", alice, servers.b_channel)
        ] == ["bridge"]
        sources = {"question": TUNNEL_QUESTION, "source": ""}
        assert [
            c["value"] for c in await complete(fake, sources, "source", alice, servers.a_channel)
        ] == ["Yonhap News"]
        assert sorted(
            c["value"] for c in await complete(fake, sources, "source", alice, servers.b_channel)
        ) == ["City Paper", "River Times"]

        # The options limit what an answer may cite.
        ask = {"question": TUNNEL_QUESTION}
        both = text_of(await run(fake, "ask", ask, alice, servers.b_channel))
        assert "closes in July" in both
        only_bridge = await run(fake, "ask", {**ask, "article": "bridge"}, alice, servers.b_channel)
        assert "closes in July" not in text_of(only_bridge)
        river = await run(fake, "ask", {**ask, "source": "River Times"}, alice, servers.b_channel)
        assert "closes in July" not in text_of(river)
        recent = await run(fake, "ask", {**ask, "after": "2024"}, alice, servers.b_channel)
        assert "closes in July" in text_of(recent)
        later = await run(fake, "ask", {**ask, "after": "2025"}, alice, servers.b_channel)
        assert "No article matches" in text_of(later)
        older = await run(fake, "ask", {**ask, "before": "2023-12"}, alice, servers.b_channel)
        assert "closes in July" not in text_of(older)
        # An article of another server is no article here.
        other = await run(fake, "ask", {**ask, "article": "tunnel"}, alice, servers.a_channel)
        assert "No article matches" in text_of(other)
        bad = await run(fake, "ask", {**ask, "after": "last spring"}, alice, servers.b_channel)
        assert bad["content"].startswith("after must be a date such as") and is_ephemeral(bad)


async def test_show_context_honours_the_channel_allowlist_and_the_cooldown(
    servers: Servers,
) -> None:
    fake = servers.fake
    async with servers.running(cooldown_questions=2, cooldown_seconds=600):
        answer = await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.a_channel)
        context = await click(fake, answer, "ctx", servers.alice)  # the second of two
        assert first_citation(embed_of(context)) == "1.1"
        refused = await click(fake, answer, "ctx", servers.alice)
        assert "you can ask again <t:" in refused["content"]

        answer = await run(fake, "ask", {"question": NK_QUESTION}, servers.bob, servers.a_channel)
        other = servers.fake.add_text_channel(servers.a, "elsewhere")
        await run(
            fake,
            "qa channels",
            {"action": "allow", "channel": other},
            servers.alice,
            servers.a_channel,
        )
        refused = await click(fake, answer, "ctx", servers.bob)
        assert refused["content"] == f"I only answer in <#{other}>."


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[guild.12]\nk = 0\n", "[guild.12] k must be between 1 and 10."),
        ("[guild.12]\ncorpus = 3\n", "[guild.12] corpus must be a folder name"),
        ('[guild.12]\nprivate = "yes"\n', "[guild.12] private must be true or false."),
        ('[guild.12]\ncolour = "red"\n', "[guild.12] colour is not a setting"),
        ("[guild.x]\nk = 2\n", "[guild.x] must be named by a numeric server id."),
        ("[guild.12\n", "is not valid TOML"),
        ('guilds_without_corpus = "some"\n', 'guilds_without_corpus must be "default" or "none"'),
    ],
)
async def test_a_bad_guilds_file_stops_the_start_with_one_line(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    text: str,
    says: str,
) -> None:
    from bot.discordbot import app

    guilds = tmp_path / "guilds.toml"
    guilds.write_text(text, encoding="utf-8")
    settings = settings_for(fake_discord, guilds_file=guilds, state_db=tmp_path / "s.sqlite3")
    with caplog.at_level(logging.ERROR, logger="bot.discordbot"):
        assert await app._serve(settings) == app.EXIT_CONFIG
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith(str(guilds)) and says in line, line
    assert fake_discord.identify_count == 0  # stopped before connecting


RICE_QUESTION = "How much rice will South Korea send to the Philippines?"


@contextlib.contextmanager
def rice_site() -> Iterator[tuple[str, str]]:
    """Serve a news story on rice aid and a feed listing it on loopback; yield both URLs."""
    from tests.feeds.conftest import RICE, serve_feed, serve_story
    from tests.feeds.server import Route, Site

    site = Site()
    site.routes["/robots.txt"] = Route(b"User-agent: *\n", content_type="text/plain")
    try:
        story = serve_story(site, "/news/rice.html", "Rice aid for the Philippines", RICE)
        entry = {"title": "Rice aid", "link": story, "guid": "rice-1"}
        yield story, serve_feed(site, "/rss.xml", [entry])
    finally:
        site.close()


async def rice_answered_only(servers: Servers, here: int, not_there: int) -> None:
    """Check the rice story answers in one server's channel and not in the other's."""
    answer = await run(servers.fake, "ask", {"question": RICE_QUESTION}, servers.bob, here)
    assert "50,000 tons of rice" in text_of(answer)
    elsewhere = await run(servers.fake, "ask", {"question": RICE_QUESTION}, servers.bob, not_there)
    assert "50,000 tons" not in text_of(elsewhere)


async def test_the_owner_adds_a_web_article_to_one_server(servers: Servers) -> None:
    fake = servers.fake
    with rice_site() as (url, _):
        assert fake.owner.guild_ids is not None
        fake.owner.guild_ids.add(servers.a)
        async with servers.running():
            refused = await run(fake, "qa add", {"url": url}, servers.alice, servers.a_channel)
            assert refused["content"] == "Only the bot's owner can add articles from the web."
            added = await run(fake, "qa add", {"url": url}, fake.owner, servers.a_channel)
            assert embed_of(added)["title"] == "Added"
            await rice_answered_only(servers, servers.a_channel, servers.b_channel)


async def test_feeds_are_polled_while_the_bot_runs(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    with rice_site() as (_, feed):
        corpus = tmp_path / "corpus"
        shutil.copytree(CORPUS, corpus)
        settings = settings_for(
            fake_discord,
            corpus_dir=corpus,
            feeds=feed,
            cooldown_questions=0,
            state_db=tmp_path / "state.sqlite3",
        )
        bot = make_bot(settings, sync_state=SyncState(tmp_path / "sync"))
        async with running_client(bot, fake_discord, timeout=WAIT) as running:

            def has_rice() -> bool:
                engine = running.engine
                return engine is not None and len(engine.articles) == 2

            await fake_discord.wait_for(has_rice, WAIT, "the feed's article to be indexed")
            world = fake_discord.world
            assert world is not None
            answer = await run(
                fake_discord, "ask", {"question": RICE_QUESTION}, world.alice, world.channel_id
            )
            assert "50,000 tons of rice" in text_of(answer)
        assert [t.done() for t in running.housekeeping.feeds.values()] == [True]


async def test_each_server_s_own_folder_polls_its_own_feeds(servers: Servers) -> None:
    fake = servers.fake
    with rice_site() as (_, feed):
        folder_b = (servers.tmp / "b").resolve()
        (folder_b / "feeds.toml").write_text(f'[[feed]]\nurl = "{feed}"\n', encoding="utf-8")
        bot = make_bot(servers.settings(), sync_state=SyncState(servers.tmp / "sync"))
        # B's articles are loaded before the first round: the round must reload them.
        assert len((await bot.engines.get(folder_b) or fail()).articles) == 2
        async with running_client(bot, fake, timeout=WAIT) as running:
            await running.sync_guild(servers.b)

            def has_rice() -> bool:
                engine = running.engines.current(folder_b)
                return engine is not None and len(engine.articles) == 3

            await fake.wait_for(has_rice, WAIT, "the feed's article to be indexed in B")
            await rice_answered_only(servers, servers.b_channel, servers.a_channel)
            assert list(running.housekeeping.feeds) == [folder_b]  # A and CORPUS_DIR: no feeds
        # Each folder keeps its own feed state; the others got none.
        assert (folder_b / ".qabot").is_dir() and not (servers.tmp / "a" / ".qabot").exists()
        assert not (CORPUS / ".qabot").exists()


def fail() -> Any:
    raise AssertionError("no engine")


async def test_each_server_reloads_its_own_folder(servers: Servers) -> None:
    fake = servers.fake
    async with servers.running() as bot:
        await run(fake, "ask", {"question": NK_QUESTION}, servers.alice, servers.a_channel)
        await run(fake, "ask", {"question": TUNNEL_QUESTION}, servers.alice, servers.b_channel)
        engine_a = bot.engines.current(bot.config_for(servers.a).corpus)
        (servers.tmp / "b" / "rice.txt").write_text(
            "Rice news\n\nSeoul sends 50,000 tons of rice to the Philippines.\n", encoding="utf-8"
        )
        report = await run(fake, "qa reload", None, servers.alice, servers.b_channel)
        assert "Articles: 2 → 3" in text_of(report)
        assert bot.engines.current(bot.config_for(servers.a).corpus) is engine_a  # untouched
        answer = await run(fake, "ask", {"question": RICE_QUESTION}, servers.bob, servers.b_channel)
        assert "50,000 tons of rice" in text_of(answer)


def test_a_server_s_folder_polls_its_feeds_toml_not_feeds(tmp_path: Path) -> None:
    from bot.feeds.service import specs_for

    (tmp_path / "feeds.toml").write_text('[[feed]]\nurl = "http://127.0.0.1:9/own.xml"\n')
    settings = settings_for(None, feeds="http://127.0.0.1:9/default.xml")
    own = [s.url for s in specs_for(tmp_path, settings, own_only=True)]
    assert own == ["http://127.0.0.1:9/own.xml"]
    both = [s.url for s in specs_for(tmp_path, settings)]
    assert sorted(both) == ["http://127.0.0.1:9/default.xml", "http://127.0.0.1:9/own.xml"]
