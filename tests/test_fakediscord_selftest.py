"""Self-test of the fake Discord: drive a real discord.py bot through it end to end."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import FLAG_EPHEMERAL, FLAG_LOADING, FakeDiscord, fixtures, running_client

# Binding the shared fixture as a module attribute registers it without F401/F811 noise.
fake_discord = fixtures.fake_discord


class ConfirmView(discord.ui.View):
    """A one-button view that turns the message into "confirmed"."""

    def __init__(self) -> None:
        """Create the view without a timeout so no timer task outlives the test."""
        super().__init__(timeout=None)

    @discord.ui.button(label="Confirm", custom_id="confirm", style=discord.ButtonStyle.success)
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        """Update the message in place (callback type 7)."""
        await interaction.response.edit_message(content="confirmed", view=None)


@app_commands.command(name="ping", description="Reply with pong")
@app_commands.describe(slow="Defer first, then answer with a followup")
async def ping(interaction: discord.Interaction, slow: bool = False) -> None:
    """Answer directly with a button, or defer and follow up."""
    if slow:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("pong (slow)")
    else:
        await interaction.response.send_message("pong", view=ConfirmView())


@app_commands.command(name="slowpoke", description="Answer too late")
async def slowpoke(interaction: discord.Interaction) -> None:
    """Miss the acknowledgement deadline on purpose."""
    await asyncio.sleep(0.3)
    await interaction.response.send_message("too late")


class EchoBot(commands.Bot):
    """Echo messages that mention the bot (or DM it); one slash command."""

    def __init__(self, *, message_content: bool = False, extra: list[Any] | None = None) -> None:
        """Configure intents and register the app commands."""
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(command_prefix="!", intents=intents, help_command=None)
        self.received: list[discord.Message] = []
        self.app_errors: list[Exception] = []
        self.tree.add_command(ping)
        for command in extra or []:
            self.tree.add_command(command)
        self.tree.on_error = self._on_app_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """Sync the command tree globally, as production bots usually do."""
        await self.tree.sync()

    async def _on_app_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.app_errors.append(error)

    async def on_message(self, message: discord.Message) -> None:
        """Record every message; reply to mentions and DMs."""
        assert self.user is not None
        if message.author.id == self.user.id:
            return
        self.received.append(message)
        mentioned = any(m.id == self.user.id for m in message.mentions)
        if mentioned or isinstance(message.channel, discord.DMChannel):
            text = message.content.replace(self.user.mention, "").strip()
            await message.reply(f"echo: {text}", mention_author=False)


async def _received(bot: EchoBot, content: str, timeout: float = 5.0) -> discord.Message:
    async with asyncio.timeout(timeout):
        while True:
            for message in bot.received:
                if message.content == content:
                    return message
            await asyncio.sleep(0.01)


async def test_login_ready_and_guild_create(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord) as bot:
        guild = bot.get_guild(world.guild_id)
        assert guild is not None and guild.name == "Test Guild"
        channel = guild.get_channel(world.channel_id)
        assert isinstance(channel, discord.TextChannel) and channel.name == "general"
        assert bot.user is not None and bot.user.id == fake_discord.bot_user.id
        assert fake_discord.identify_count == 1
        identify = fake_discord.identify_payloads[0]
        assert identify["intents"] == bot.intents.value
        # zlib-stream normally; zstd-stream if the zstandard package is importable.
        wanted = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
        assert f"compress={wanted}" in fake_discord.gateway_connects[0]
        assert [c["name"] for c in fake_discord.registered_commands()] == ["ping"]
        assert fake_discord.bulk_overwrite_count == 1
        assert fake_discord.heartbeat_count >= 1
        assert fake_discord.unknown_routes == []


async def test_mention_gets_a_reply(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord) as bot:
        assert bot.user is not None
        sent = await fake_discord.user_sends_message(
            world.channel_id, world.alice, f"{bot.user.mention} hello"
        )
        reply = await fake_discord.wait_for_bot_message(world.channel_id, timeout=5)
        assert reply["content"] == "echo: hello"
        assert reply["message_reference"]["message_id"] == sent["id"]
        assert reply["type"] == 19
        assert reply["mentions"] == []
        assert reply["allowed_mentions"]["replied_user"] is False


async def test_non_mention_content_is_blank_without_message_content_intent(
    fake_discord: FakeDiscord,
) -> None:
    world = fake_discord.world
    assert world is not None
    async with (
        running_client(EchoBot(), fake_discord) as plain,
        running_client(EchoBot(message_content=True), fake_discord) as privileged,
    ):
        await fake_discord.user_sends_message(world.channel_id, world.bob, "just chatting")
        await _received(privileged, "just chatting")
        async with asyncio.timeout(5):
            while not plain.received:
                await asyncio.sleep(0.01)
        assert plain.received[0].content == ""
        assert plain.received[0].author.id == world.bob.id
        assert fake_discord.messages(world.channel_id) == []


async def test_dm_content_is_visible_and_answered(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord):
        dm = fake_discord.dm_channel_for(world.alice)
        await fake_discord.user_sends_message(dm, world.alice, "hi in private")
        reply = await fake_discord.wait_for_bot_message(dm)
        assert reply["content"] == "echo: hi in private"
        assert "guild_id" not in reply


async def test_slash_command_direct_response_and_button(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord):
        inter = await fake_discord.user_runs_slash_command(
            "ping", {}, world.alice, world.channel_id
        )
        command = fake_discord.registered_commands()[0]
        assert inter.payload["data"]["id"] == command["id"]
        responses = await fake_discord.wait_for_interaction_done(inter)
        assert [(r["kind"], r.get("type")) for r in responses] == [("callback", 4)]
        message = responses[0]["message"]
        assert message["content"] == "pong"
        assert message["interaction_metadata"]["user"]["id"] == str(world.alice.id)
        assert message["components"][0]["components"][0]["custom_id"] == "confirm"

        click = await fake_discord.user_clicks_button(int(message["id"]), "confirm", world.bob)
        clicked = await fake_discord.wait_for_interaction_done(click)
        assert [(r["kind"], r.get("type")) for r in clicked] == [("callback", 7)]
        updated = fake_discord.message(int(message["id"]))
        assert updated["content"] == "confirmed"
        assert updated["components"] == []


async def test_slash_command_defer_then_followup(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord):
        inter = await fake_discord.user_runs_slash_command(
            "ping", {"slow": True}, world.alice, world.channel_id
        )
        assert inter.payload["data"]["options"] == [{"type": 5, "name": "slow", "value": True}]
        responses = await fake_discord.wait_for_interaction_done(inter)
        assert responses[0]["kind"] == "callback" and responses[0]["type"] == 5
        assert responses[0]["message"]["flags"] & FLAG_LOADING
        assert responses[1]["kind"] == "followup"
        # Discord turns the first followup after a defer into an edit of the "thinking" message.
        assert responses[1]["edited_original"] is True
        final = await fake_discord.wait_for_bot_message(world.channel_id, include_interactions=True)
        assert final["content"] == "pong (slow)"
        assert not final["flags"] & (FLAG_LOADING | FLAG_EPHEMERAL)


async def test_late_callback_is_unknown_and_second_callback_is_rejected(
    fake_discord: FakeDiscord,
) -> None:
    world = fake_discord.world
    assert world is not None
    fake_discord.interaction_ack_timeout = 0.1
    async with running_client(EchoBot(extra=[slowpoke]), fake_discord) as bot:
        late = await fake_discord.user_runs_slash_command(
            "slowpoke", None, world.alice, world.channel_id
        )
        await fake_discord.wait_for(lambda: late.rejected, 5, "the late callback")
        assert late.rejected[0]["error"] == {"message": "Unknown interaction", "code": 10062}
        assert fake_discord.interaction_failed(late)
        await fake_discord.wait_for(lambda: bot.app_errors, 5, "the bot to see the error")

        fake_discord.interaction_ack_timeout = 3.0
        inter = await fake_discord.user_runs_slash_command(
            "ping", None, world.alice, world.channel_id
        )
        await fake_discord.wait_for_interaction_done(inter)
        url = f"{fake_discord.base_url}/interactions/{inter.id}/{inter.token}/callback"
        async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "message": "Interaction has already been acknowledged.",
                "code": 40060,
            }


async def test_bad_token_raises_login_failure(fake_discord: FakeDiscord) -> None:
    bot = EchoBot()
    try:
        with pytest.raises(discord.LoginFailure):
            await asyncio.wait_for(bot.start("not-the-token"), timeout=10)
    finally:
        await bot.close()
    assert fake_discord.requests[-1].status == 401
    assert fake_discord.requests[-1].response == {"message": "401: Unauthorized", "code": 0}


async def test_over_limit_message_is_rejected_like_discord(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord) as bot:
        channel = bot.get_channel(world.channel_id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert too_long.value.status == 400 and too_long.value.code == 50035
        assert "Must be 2000 or fewer in length." in too_long.value.text

        with pytest.raises(discord.HTTPException) as big_embed:
            await channel.send(embed=discord.Embed(title="t" * 257))
        assert big_embed.value.code == 50035
        assert "embeds.0.title" in big_embed.value.text

        rows = [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"c{i}"}]}
            for i in range(6)
        ]
        route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
        with pytest.raises(discord.HTTPException) as too_many_rows:
            await bot.http.request(route, json={"content": "hi", "components": rows})
        assert too_many_rows.value.code == 50035

        with pytest.raises(discord.HTTPException) as empty:
            await bot.http.request(route, json={"content": "   "})
        assert empty.value.code == 50006
        assert fake_discord.messages(world.channel_id) == []


async def test_429_is_retried_and_message_arrives_once(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord) as bot:
        channel = bot.get_channel(world.channel_id)
        assert isinstance(channel, discord.TextChannel)
        fake_discord.fail_next("POST", r"^/channels/\d+/messages$", 429, retry_after=0.1)
        sent = await asyncio.wait_for(channel.send("after the rate limit"), timeout=5)
        assert sent.content == "after the rate limit"
        posts = fake_discord.requests_matching("POST", r"^/channels/\d+/messages$")
        assert [(p.status, p.injected) for p in posts] == [(429, True), (200, False)]
        assert posts[0].response["retry_after"] == 0.1
        assert [m["content"] for m in fake_discord.messages(world.channel_id)] == [
            "after the rate limit"
        ]


async def test_dropped_gateway_resumes_and_replays_once(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord) as bot:
        assert bot.user is not None
        await fake_discord.drop_gateway()
        await fake_discord.user_sends_message(
            world.channel_id, world.alice, f"{bot.user.mention} during the outage"
        )
        await fake_discord.wait_for(lambda: fake_discord.resume_count >= 1, 10, "a RESUME")
        reply = await fake_discord.wait_for_bot_message(world.channel_id, timeout=10)
        assert reply["content"] == "echo: during the outage"
        await asyncio.sleep(0.1)
        outage = [m for m in bot.received if "outage" in m.content]
        assert len(outage) == 1
        assert fake_discord.identify_count == 1
        assert fake_discord.replayed_event_count >= 1
        assert fake_discord.gateway_connects[-1].startswith("/resume-gateway/")


async def test_reconnect_and_invalid_session(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(EchoBot(), fake_discord) as bot:
        assert bot.user is not None
        await fake_discord.send_reconnect()
        await fake_discord.wait_for(lambda: fake_discord.resume_count == 1, 10, "a RESUME")
        await fake_discord.send_invalid_session(resumable=False)
        await fake_discord.wait_for(lambda: fake_discord.identify_count == 2, 10, "re-IDENTIFY")
        await fake_discord.wait_until_connected()
        await fake_discord.user_sends_message(
            world.channel_id, world.alice, f"{bot.user.mention} still there?"
        )
        reply = await fake_discord.wait_for_bot_message(world.channel_id, timeout=10)
        assert reply["content"] == "echo: still there?"


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A one-field modal."""

    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="What?", custom_id="fb_text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Thank the user privately."""
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class PickView(discord.ui.View):
    """A select menu and a button that defers ephemerally."""

    def __init__(self) -> None:
        """Create the view without a timeout."""
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="pick",
        options=[
            discord.SelectOption(label="A", value="a"),
            discord.SelectOption(label="B", value="b"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        """Echo the picked values."""
        await interaction.response.send_message(f"picked {select.values}")

    @discord.ui.button(label="More", custom_id="more")
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Defer privately, then follow up."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("more stuff", ephemeral=True)


class FeatureBot(commands.Bot):
    """A bot exercising modals, selects, autocomplete, groups and context menus."""

    def __init__(self) -> None:
        """Register the commands."""
        super().__init__(command_prefix="!", intents=discord.Intents.default(), help_command=None)
        self.received: list[discord.Message] = []
        self.app_errors: list[Exception] = []
        self.tree.on_error = self._on_app_error  # type: ignore[method-assign]
        tree = self.tree

        @tree.command(name="secret", description="Private defer, private followup, public one")
        async def secret(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send("psst", view=PickView(), ephemeral=True)
            await interaction.followup.send("second one")

        @tree.command(name="loud", description="Public defer, 'ephemeral' first followup")
        async def loud(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("not so secret", ephemeral=True)

        @tree.command(name="feedback", description="Open a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @tree.command(name="search", description="Typed options and autocomplete")
        async def search(
            interaction: discord.Interaction,
            article: str,
            count: app_commands.Range[int, 1, 5] = 1,
            who: discord.Member | None = None,
            where: discord.TextChannel | None = None,
        ) -> None:
            text = f"{article}/{count}/{who and who.name}/{where and where.name}"
            report = discord.File(io.BytesIO(b"hello"), "a.txt")
            await interaction.response.send_message(text, file=report)

        @search.autocomplete("article")
        async def complete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f"{current}-1", value="x1")]

        @tree.context_menu(name="Explain")
        async def explain(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"explaining {message.content}")

        group = app_commands.Group(name="cfg", description="Configuration")

        @group.command(name="set", description="Set a key")
        async def set_key(interaction: discord.Interaction, key: str) -> None:
            await interaction.response.send_message(f"set {key}")

        tree.add_command(group)

    async def setup_hook(self) -> None:
        """Sync globally."""
        await self.tree.sync()

    async def _on_app_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.app_errors.append(error)

    async def on_message(self, message: discord.Message) -> None:
        """Record every message."""
        self.received.append(message)


async def test_ephemeral_defer_followups_and_select_menu(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(FeatureBot(), fake_discord) as bot:
        inter = await fake_discord.user_runs_slash_command(
            "secret", {}, world.alice, world.channel_id
        )
        await fake_discord.wait_for(lambda: len(inter.responses) >= 3, 5, "two followups")
        kinds = [(r["kind"], r.get("edited_original")) for r in inter.responses]
        assert kinds == [("callback", None), ("followup", True), ("followup", False)]
        private, public = inter.responses[1]["message"], inter.responses[2]["message"]
        assert private["flags"] & FLAG_EPHEMERAL and not public["flags"] & FLAG_EPHEMERAL

        with pytest.raises(ValueError, match="cannot see ephemeral"):
            await fake_discord.user_selects(int(private["id"]), "pick", ["a"], world.bob)
        chosen = await fake_discord.user_selects(int(private["id"]), "pick", ["b"], world.alice)
        picked = await fake_discord.wait_for_interaction_done(chosen)
        assert picked[0]["message"]["content"] == "picked ['b']"

        more = await fake_discord.user_clicks_button(int(private["id"]), "more", world.alice)
        answered = await fake_discord.wait_for_interaction_done(more)
        assert answered[-1]["message"]["flags"] & FLAG_EPHEMERAL

        # The first followup edits the public "thinking" message, so ephemeral=True is lost.
        loud = await fake_discord.user_runs_slash_command("loud", {}, world.bob, world.channel_id)
        shown = await fake_discord.wait_for_interaction_done(loud)
        assert shown[-1]["edited_original"] is True
        assert shown[-1]["data"]["flags"] & FLAG_EPHEMERAL
        assert not shown[-1]["message"]["flags"] & FLAG_EPHEMERAL
        assert bot.app_errors == []


async def test_modal_autocomplete_typed_options_and_context_menu(
    fake_discord: FakeDiscord,
) -> None:
    world = fake_discord.world
    assert world is not None
    async with running_client(FeatureBot(), fake_discord) as bot:
        opened = await fake_discord.user_runs_slash_command(
            "feedback", {}, world.alice, world.channel_id
        )
        await fake_discord.wait_for_interaction_done(opened)
        assert opened.modal is not None and opened.modal["title"] == "Feedback"
        submitted = await fake_discord.user_submits_modal(opened, {"fb_text": "great"})
        thanks = await fake_discord.wait_for_interaction_done(submitted)
        assert thanks[0]["message"]["content"] == "thanks: great"

        typing = await fake_discord.user_autocompletes(
            "search", {"article": "nk"}, "article", world.alice, world.channel_id
        )
        await fake_discord.wait_for_interaction_done(typing)
        assert typing.autocomplete_choices == [{"name": "nk-1", "value": "x1"}]

        options = {"article": "x1", "count": 3, "who": world.bob, "where": world.channel_id}
        search = await fake_discord.user_runs_slash_command(
            "search", options, world.alice, world.channel_id
        )
        found = await fake_discord.wait_for_interaction_done(search)
        assert found[0]["message"]["content"] == "x1/3/bob/general"
        attachment = found[0]["message"]["attachments"][0]
        assert fake_discord.attachment_bytes(int(attachment["id"])) == b"hello"
        with pytest.raises(ValueError, match="within"):
            await fake_discord.user_runs_slash_command(
                "search", {"article": "x", "count": 9}, world.alice, world.channel_id
            )

        sub = await fake_discord.user_runs_slash_command(
            "cfg set", {"key": "k"}, world.alice, world.channel_id
        )
        assert (await fake_discord.wait_for_interaction_done(sub))[0]["message"]["content"] == (
            "set k"
        )

        target = await fake_discord.user_sends_message(world.channel_id, world.alice, "what")
        menu = await fake_discord.user_runs_message_command("Explain", int(target["id"]), world.bob)
        explained = await fake_discord.wait_for_interaction_done(menu)
        assert explained[0]["message"]["content"] == "explaining what"
        assert bot.app_errors == []


async def test_threads_files_edits_fetch_and_dms(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    thread_id = fake_discord.add_thread(world.channel_id, "qa-thread")
    async with running_client(FeatureBot(), fake_discord) as bot:
        await fake_discord.user_sends_message(thread_id, world.alice, "in a thread")
        await fake_discord.wait_for(lambda: bot.received, 5, "the thread message")
        channel = bot.received[0].channel
        assert isinstance(channel, discord.Thread) and channel.parent_id == world.channel_id

        sent = await channel.send("file!", file=discord.File(io.BytesIO(b"data"), "d.bin"))
        assert sent.attachments[0].filename == "d.bin"
        assert await sent.attachments[0].read() == b"data"
        await sent.edit(content="edited")
        fetched = await channel.fetch_message(sent.id)
        assert fetched.content == "edited" and fetched.edited_at is not None
        assert [v["content"] for v in fake_discord.message_history(sent.id)] == ["file!", "edited"]
        await sent.add_reaction("👍")
        await sent.delete()
        assert fake_discord.messages(thread_id) == []

        alice = await bot.fetch_user(world.alice.id)
        await alice.send("hello alice")
        dm = fake_discord.dm_channel_for(world.alice)
        assert [m["content"] for m in fake_discord.messages(dm)] == ["hello alice"]
        assert fake_discord.unknown_routes == []
        assert fake_discord.internal_errors == []


async def test_sharded_bot_gets_each_guild_on_its_shard(fake_discord: FakeDiscord) -> None:
    world = fake_discord.world
    assert world is not None
    second_guild = fake_discord.add_guild(name="Second")
    second_channel = fake_discord.add_text_channel(second_guild, "second-general")
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    bot = commands.AutoShardedBot(command_prefix="!", intents=intents, shard_count=2)
    seen: list[str] = []

    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    bot.add_listener(on_message)
    async with running_client(bot, fake_discord) as running:
        assert sorted(s.shard for s in fake_discord.sessions.values()) == [(0, 2), (1, 2)]
        assert {g.id for g in running.guilds} == {world.guild_id, second_guild}
        guild = running.get_guild(world.guild_id)
        assert guild is not None and len(guild.members) == 3
        await fake_discord.user_sends_message(second_channel, world.bob, "hi second")
        await fake_discord.user_sends_message(world.channel_id, world.bob, "hi first")
        await fake_discord.wait_for(lambda: len(seen) >= 2, 5, "both messages")
        await asyncio.sleep(0.05)
        assert sorted(seen) == ["hi first", "hi second"]


async def test_disallowed_privileged_intent_closes_with_4014(fake_discord: FakeDiscord) -> None:
    fake_discord.allowed_privileged_intents = 0
    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.Bot(command_prefix="!", intents=intents)
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(bot.start(fake_discord.token), timeout=10)
    finally:
        await bot.close()
    assert ("fake", 4014) in fake_discord.gateway_closes
