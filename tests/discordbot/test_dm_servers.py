"""DMs answering from a server's articles, through FakeDiscord with the real client.

With DM_SERVER_ARTICLES on, a member may pick (/ask server:) a server that set dm_articles;
autocomplete offers only such servers the user is a member of; the buttons stay with those
articles and check again on every click; nothing of the DM is kept for the server.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.discordbot import notices
from bot.discordbot.state import StateDB
from tests.discordbot.test_guilds import (
    TUNNEL_QUESTION,
    Servers,
    click,
    complete,
    run,
    text_of,
)
from tests.fakediscord import FakeDiscord

TUNNEL_ANSWER = "closes in July"


@pytest.fixture
def servers(fake_discord: FakeDiscord, tmp_path: Path) -> Servers:
    return Servers(fake_discord, tmp_path)


@pytest.fixture
def third(servers: Servers) -> int:
    """Add a third server with B's articles; B and it let members use them in DMs."""
    third = servers.fake.add_guild(name="Third Guild")
    shutil.copytree(servers.tmp / "b", servers.tmp / "c")
    servers.guilds_file.write_text(
        f'[guild.{servers.a}]\ncorpus = "a"\n'
        f'[guild.{servers.b}]\ncorpus = "b"\ndm_articles = true\n'
        f'[guild.{third}]\ncorpus = "c"\ndm_articles = true\n',
        encoding="utf-8",
    )
    return third


async def test_a_dm_answers_from_a_server_that_allows_it(servers: Servers, third: int) -> None:
    fake = servers.fake
    carol = fake.add_user("carol", guild_ids=[servers.a, servers.b])  # not in the third server
    dm = fake.dm_channel_for(carol)
    ask = {"question": TUNNEL_QUESTION}
    async with servers.running(dm_server_articles=True, discord_guild_id=None) as bot:
        # Only servers that allow it and that carol is a member of are offered.
        offered = await complete(fake, {**ask, "server": ""}, "server", carol, dm)
        assert [(c["name"], c["value"]) for c in offered] == [("Other Guild", str(servers.b))]
        articles = await complete(
            fake, {**ask, "server": str(servers.b), "article": ""}, "article", carol, dm
        )
        assert sorted(c["value"] for c in articles) == ["bridge", "tunnel"]

        answer = await run(fake, "ask", {**ask, "server": str(servers.b)}, carol, dm)
        assert TUNNEL_ANSWER in text_of(answer)
        plain = await run(fake, "ask", ask, carol, dm)  # the default corpus
        assert TUNNEL_ANSWER not in text_of(plain)
        context = await click(fake, answer, "ctx", carol)
        assert TUNNEL_ANSWER in text_of(context)

        for server in (servers.a, third, 12345):  # not allowed, not a member, no such server
            refused = await run(fake, "ask", {**ask, "server": str(server)}, carol, dm)
            assert refused["content"] == notices.DM_SERVER_REFUSED_NOTICE
        in_a_server = await run(
            fake, "ask", {**ask, "server": str(servers.b)}, carol, servers.a_channel
        )
        assert in_a_server["content"] == notices.SERVER_OPTION_IN_DMS_ONLY
        assert isinstance(bot.state, StateDB)
        assert bot.state.questions_since(servers.b, 0) == []  # nothing kept for a DM

        # The server's admins withdraw it: asking and the earlier answer's buttons stop.
        await run(fake, "qa settings", {"dm_articles": False}, servers.alice, servers.b_channel)
        assert await complete(fake, {**ask, "server": ""}, "server", carol, dm) == []
        refused = await run(fake, "ask", {**ask, "server": str(servers.b)}, carol, dm)
        assert refused["content"] == notices.DM_SERVER_REFUSED_NOTICE
        assert (await click(fake, answer, "ctx", carol))["content"] == (
            notices.DM_SERVER_REFUSED_NOTICE
        )


async def test_the_operator_keeps_dms_to_the_default_articles(servers: Servers, third: int) -> None:
    fake = servers.fake
    dm = fake.dm_channel_for(servers.bob)
    ask = {"question": TUNNEL_QUESTION}
    async with servers.running(discord_guild_id=None):  # DM_SERVER_ARTICLES is off
        assert await complete(fake, {**ask, "server": ""}, "server", servers.bob, dm) == []
        refused = await run(fake, "ask", {**ask, "server": str(servers.b)}, servers.bob, dm)
        assert refused["content"] == notices.DM_SERVERS_OFF_NOTICE
