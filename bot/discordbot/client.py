"""The Discord client: start-up, command sync, and the handlers for every way to ask."""

from __future__ import annotations

import asyncio
import functools
import logging
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.answer.engine import Engine
from bot.answer.followup import FollowUp
from bot.answer.models import Answer
from bot.discordbot import render
from bot.discordbot.answers_store import AnswerStore, StoredAnswer
from bot.discordbot.cooldown import Cooldown, Verdict
from bot.discordbot.handlers import (
    Action,
    Decision,
    Policy,
    Via,
    bot_role_id,
    decide,
    facts_from_message,
)
from bot.discordbot.invite import invite_url
from bot.discordbot.serving import (
    CorpusWatcher,
    ProblemLog,
    counts,
    load_live_engine,
    one_line,
    ranking_line,
)
from bot.discordbot.slash import build_commands
from bot.discordbot.sync_state import SyncState, commands_hash, same_commands
from bot.discordbot.views import CONTEXT, MORE, RoutedView, answer_view, parse_custom_id
from bot.live import LiveEngine
from bot.settings import Settings

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# Discord's error code for a second acknowledgement of one interaction.
ALREADY_ACKNOWLEDGED = 40060
# Threads answering questions. Retrieval holds the GIL, so more threads add no throughput and
# only take it from the event loop: in a burst of 300 (bench/discord_load.py --over 0) the
# default pool made /ask acknowledgements 2-5x and the slowest answers ~40% slower. Two keep
# one slow question from holding up every other.
ENGINE_THREADS = 2


def build_intents(settings: Settings) -> discord.Intents:
    """Ask only for what the bot reads: guilds, messages, and message text when enabled."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    # Privileged: the portal must allow it, or Discord closes the gateway with 4014.
    intents.message_content = settings.message_content_intent
    return intents


def _where(interaction: discord.Interaction[Any]) -> tuple[int | None, int | None, int | None]:
    channel = interaction.channel
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
    return interaction.guild_id, interaction.channel_id, parent_id


def _conversation_id(channel: object) -> int | None:
    """Return the id of a thread or DM channel: there a question continues the latest answer."""
    return channel.id if isinstance(channel, discord.Thread | discord.DMChannel) else None


@dataclass(frozen=True)
class Presented:
    """An answer rendered for Discord, and its id in the answer store (None if not kept)."""

    embed: discord.Embed
    view: RoutedView | None
    answer_id: str | None


async def _send_normal_closure(ws: DiscordWebSocket | None) -> None:
    """Send the close frame 1000 before discord.py closes the socket its own way.

    The single-connection client's reader is always waiting on the socket, and aiohttp hands
    a close to that reader, which closes with code 4000: Discord then keeps the session for a
    resume and shows the bot online for minutes after it stopped. (Sharded clients cancel
    their readers first and already close with 1000.)
    """
    socket = getattr(ws, "socket", None)
    send_frame = getattr(socket, "send_frame", None)  # aiohttp >= 3.11
    if ws is None or socket is None or send_frame is None or socket.closed:
        return
    ws._close_code = 1000  # tell the reader this closure is ours, not a reason to reconnect
    try:
        await send_frame(struct.pack("!H", 1000), aiohttp.WSMsgType.CLOSE)
    except Exception as exc:  # the socket may already be gone; closing goes on regardless
        log.debug("Could not send the close frame: %s", exc)


class QABot(commands.Bot):
    """Answers questions over slash commands, mentions, replies and DMs.

    It serves a LiveEngine (the corpus folder, reloaded on demand and as it changes) or, given
    a plain Engine, that engine alone. Each question reads the current engine once, so one
    asked during a reload is answered from the old index.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | LiveEngine | None = None,
        *,
        serve: bool = True,
        store: AnswerStore | None = None,
        sync_state: SyncState | None = None,
        **options: Any,
    ) -> None:
        # The bot never joins voice, so missing voice libraries are not worth a warning.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=build_intents(settings),
            allowed_mentions=NO_MENTIONS,
            **options,
        )
        self.settings = settings
        self._live: LiveEngine | None = engine if isinstance(engine, LiveEngine) else None
        self._engine: Engine | None = engine if isinstance(engine, Engine) else None
        self.watcher: CorpusWatcher | None = None
        self.serve = serve
        self.store = store if store is not None else AnswerStore()
        self.sync_state = sync_state if sync_state is not None else SyncState()
        self.policy = Policy.from_settings(settings)
        self.cooldown = Cooldown(settings.cooldown_questions, settings.cooldown_seconds)
        self._engine_threads = ThreadPoolExecutor(ENGINE_THREADS, thread_name_prefix="qabot-engine")
        self.global_synced: bool | None = None  # None: not attempted; for logs and tests

    # The engine

    @property
    def live(self) -> LiveEngine | None:
        """Return the live engine being served, or None when serving a fixed engine."""
        return self._live

    @property
    def engine(self) -> Engine | None:
        """Return the engine answering now; read it once per question."""
        return self._live.engine if self._live is not None else self._engine

    @engine.setter
    def engine(self, engine: Engine | None) -> None:
        """Serve this engine from now on, without reloads."""
        self._live, self._engine = None, engine

    # Start-up

    async def setup_hook(self) -> None:
        """Attach the engine, register the slash commands and sync them when needed."""
        for command in build_commands(self):
            self.tree.add_command(command)
        self.tree.error(self._on_tree_error)
        if not self.serve:
            return
        if self.engine is None:
            # The model takes seconds to load: off the event loop (it is not connected yet).
            self._live = await asyncio.to_thread(load_live_engine, self.settings)
        self._start_serving()
        self._log_start()
        await self.sync_on_start()

    def _start_serving(self) -> None:
        """Log skipped files after each reload and watch the corpus folder (WATCH_CORPUS)."""
        live = self._live
        if live is None:
            return
        live.add_listener(ProblemLog(list(live.engine.corpus.problems)))
        if self.settings.watch_corpus and self.watcher is None:
            self.watcher = CorpusWatcher(live)
            self.watcher.start()

    def command_payloads(self) -> list[dict[str, Any]]:
        """Return the global commands as Discord receives them."""
        return [command.to_dict(self.tree) for command in self.tree.get_commands()]

    async def sync_on_start(self) -> None:
        """Sync to the development guild every start; globally only when commands changed."""
        guild_id = self.settings.discord_guild_id
        if guild_id is not None:
            try:
                await self.sync_guild(guild_id)
            except discord.HTTPException as exc:
                log.error("Could not sync the slash commands to guild %s: %s", guild_id, exc)
            log.info(
                "Global slash commands left as they are while DISCORD_GUILD_ID is set; "
                "run `qabot sync --global` to publish them to every server."
            )
            return
        assert self.application_id is not None  # set by login()
        payloads = self.command_payloads()
        digest = commands_hash(payloads)
        if self.sync_state.load(self.application_id) == digest:
            self.global_synced = False
            log.info("Slash commands unchanged since the last global sync; not syncing.")
            return
        # No record (a fresh container, another machine): ask Discord what it has.
        if await self._discord_has(payloads):
            self.sync_state.save(self.application_id, digest)
            self.global_synced = False
            log.info("Discord already has these slash commands; not syncing.")
            return
        try:
            await self.sync_global()
        except discord.HTTPException as exc:
            # Messages and the existing commands still work; the next start tries again.
            log.error("Could not sync the slash commands globally: %s", exc)

    async def _discord_has(self, payloads: list[dict[str, Any]]) -> bool:
        """Tell whether Discord's global commands already match these payloads."""
        assert self.application_id is not None
        try:
            registered = await self.http.get_global_commands(self.application_id)
        except discord.HTTPException as exc:
            log.debug("Could not fetch the global commands: %s", exc)
            return False
        return same_commands(payloads, [dict(c) for c in registered])

    async def sync_guild(self, guild_id: int) -> int:
        """Copy the commands to one guild and sync them there (they appear at once)."""
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.Forbidden:
            assert self.application_id is not None
            log.error(
                "Could not sync slash commands to guild %s: the bot is not in that server or "
                "was invited without the applications.commands scope. Invite it with %s, or "
                "fix DISCORD_GUILD_ID.",
                guild_id,
                invite_url(self.application_id),
            )
            return 0
        log.info("Synced %d slash commands to guild %s.", len(synced), guild_id)
        return len(synced)

    async def sync_global(self) -> int:
        """Sync the commands globally and remember their hash."""
        assert self.application_id is not None
        synced = await self.tree.sync()
        self.sync_state.save(self.application_id, commands_hash(self.command_payloads()))
        self.global_synced = True
        log.info(
            "Synced %d slash commands globally; Discord can take up to an hour to show them "
            "everywhere.",
            len(synced),
        )
        return len(synced)

    def _log_start(self) -> None:
        user = self.user
        engine = self.engine
        assert user is not None and engine is not None and self.application_id is not None
        log.info("Logged in as %s (id %s).", user, user.id)
        log.info(
            "Indexed %d article%s, %d sentences, from %s.",
            len(engine.articles),
            "" if len(engine.articles) == 1 else "s",
            len(engine.sentences),
            self.settings.corpus_dir,
        )
        log.info("%s", ranking_line(engine))
        live = self._live
        if live is None:
            log.info("Serving a fixed index: /reload has nothing to reload.")
        elif self.watcher is not None:
            log.info(
                "Watching %s for changes (WATCH_CORPUS); the owner can also /reload.",
                one_line(str(live.root)),
            )
        else:
            log.info("WATCH_CORPUS is off: the owner reloads the articles with /reload.")
        log.info("Invite the bot with: %s", invite_url(self.application_id))

    async def close(self) -> None:
        """Close the gateway with code 1000, so Discord ends the session at once."""
        if not self.is_closed():
            await _send_normal_closure(self.ws)
        await super().close()
        if self.watcher is not None:
            await self.watcher.stop()
        self._engine_threads.shutdown(wait=False, cancel_futures=True)

    async def on_ready(self) -> None:
        """Say the bot is connected and where."""
        log.info("Connected to Discord; in %d server(s).", len(self.guilds))

    # Shared answering steps

    async def ask_engine(
        self, question: str, offset: int = 0, previous: FollowUp | None = None
    ) -> Answer:
        """Answer a question off the event loop; retrieval is CPU-bound.

        The engine current now answers it, even if a reload swaps in another meanwhile.
        previous is the conversation a follow-up question is read with.
        """
        engine = self.engine
        if engine is None:
            raise RuntimeError("the engine is not loaded yet")
        call = functools.partial(
            engine.answer, question, self.settings.answer_k, offset, previous=previous
        )
        return await asyncio.get_running_loop().run_in_executor(self._engine_threads, call)

    def present(
        self,
        answer: Answer,
        *,
        asker_id: int,
        private: bool,
        context: FollowUp | None = None,
    ) -> Presented:
        """Render an answer and remember it (with its follow-up context) for its buttons."""
        embed = render.answer_embed(answer)
        if not (answer.answered and answer.passages):
            return Presented(embed, None, None)
        k = self.settings.answer_k
        answer_id = self.store.add(StoredAnswer.of(answer, k, asker_id, private, context))
        return Presented(embed, answer_view(answer_id, answer), answer_id)

    def conversation(
        self, channel_id: int | None, reference_id: int | None = None
    ) -> FollowUp | None:
        """Return what a question continues: the answer it replies to, or the thread's.

        A reply to one of the bot's answers continues that answer; a question in a thread
        or a DM continues the latest answer there, or the answer a thread was started on.
        """
        stored = self.store.for_message(reference_id) if reference_id is not None else None
        if stored is None and channel_id is not None:
            # Any channel id: a thread the client has not cached yet still has its id.
            stored = self.store.for_conversation(channel_id)
        return stored.follow_up if stored is not None else None

    def remember_shown(self, answer_id: str | None, message: discord.Message) -> None:
        """Link a public answer to the message showing it, for replies, threads and DMs."""
        if answer_id is not None:
            conversation_id = _conversation_id(message.channel)
            self.store.link(answer_id, message_id=message.id, conversation_id=conversation_id)

    def log_question(
        self,
        via: Via,
        guild_id: int | None,
        channel_id: int | None,
        started: float,
        outcome: Answer | str,
        source_id: int,
        question: str = "",
    ) -> None:
        """Log one line per question, without its text unless at DEBUG."""
        if isinstance(outcome, Answer):
            status = outcome.status.value
            citations = ",".join(p.citation for p in outcome.passages) or "-"
        else:
            status, citations = outcome, "-"
        log.info(
            "question via=%s guild=%s channel=%s id=%s latency_ms=%d status=%s citations=%s",
            via.value,
            guild_id or "-",
            channel_id or "-",
            source_id,
            round((time.monotonic() - started) * 1000),
            status,
            citations,
        )
        if question:
            log.debug("question text id=%s: %r", source_id, question)

    # Slash commands

    def _gate(self, interaction: discord.Interaction[Any], *, counts: bool) -> str | None:
        """Return a notice if this interaction may not be answered here or now."""
        guild_id, channel_id, parent_id = _where(interaction)
        if guild_id is None:
            if not self.policy.allow_dms:
                return render.DMS_OFF_NOTICE
        elif channel_id is not None and not self.policy.channel_allowed(channel_id, parent_id):
            return render.channels_notice(self.policy.allowed_channel_ids)
        if counts:
            verdict = self.cooldown.check(interaction.user.id)
            if not verdict.allowed:
                return render.cooldown_notice(verdict.retry_after)
        return None

    async def handle_ask(
        self, interaction: discord.Interaction[Any], question: str, private: bool
    ) -> None:
        """Answer /ask: defer at once, answer off the loop, send the embed and buttons."""
        started = time.monotonic()
        guild_id, channel_id, _ = _where(interaction)
        try:
            notice = self._gate(interaction, counts=True)
            if notice is not None:
                await interaction.response.send_message(
                    notice, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
                self.log_question(
                    Via.SLASH, guild_id, channel_id, started, "refused", interaction.id
                )
                return
            await self._defer(interaction, ephemeral=private)
            # /ask in a thread under an answer (or in a DM) continues that conversation.
            context = self.conversation(interaction.channel_id)
            answer = await self.ask_engine(question, previous=context)
            shown = self.present(
                answer, asker_id=interaction.user.id, private=private, context=context
            )
            message = await self._fill_deferred(interaction, shown.embed, shown.view)
            if not private:
                self.remember_shown(shown.answer_id, message)
            self.log_question(
                Via.SLASH, guild_id, channel_id, started, answer, interaction.id, question
            )
        except Exception:
            await self._apologise(interaction, Via.SLASH)

    async def handle_sources(self, interaction: discord.Interaction[Any]) -> None:
        """List the indexed articles, visible only to the asker."""
        try:
            notice = self._gate(interaction, counts=False)
            if notice is not None:
                await interaction.response.send_message(
                    notice, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
                return
            articles = self.engine.articles if self.engine is not None else []
            await interaction.response.send_message(
                embed=render.sources_embed(articles), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except Exception:
            await self._apologise(interaction, Via.SLASH)

    async def handle_help(self, interaction: discord.Interaction[Any]) -> None:
        """Explain how to ask, visible only to the asker."""
        try:
            embed = render.help_embed(
                bot_name=self.user.display_name if self.user else "the bot",
                allow_dms=self.policy.allow_dms,
                ask_channel_ids=self.policy.ask_channel_ids
                if self.policy.message_content_intent
                else (),
                cooldown_questions=self.cooldown.questions,
                cooldown_seconds=self.cooldown.seconds,
            )
            await interaction.response.send_message(
                embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except Exception:
            await self._apologise(interaction, Via.SLASH)

    async def handle_reload(self, interaction: discord.Interaction[Any]) -> None:
        """Reload the articles for the application's owner; refuse everyone else, privately."""
        try:
            # Deferred first: the owner check may ask Discord, and the reload takes a while.
            await self._defer(interaction, ephemeral=True)
            user = interaction.user
            if not await self.is_owner(user):
                log.info(
                    "reload refused: user=%s guild=%s channel=%s is not the owner",
                    user.id,
                    interaction.guild_id or "-",
                    interaction.channel_id or "-",
                )
                await interaction.edit_original_response(
                    content=render.RELOAD_REFUSED, allowed_mentions=NO_MENTIONS
                )
                return
            live = self._live
            if live is None:
                await interaction.edit_original_response(
                    content=render.RELOAD_UNAVAILABLE, allowed_mentions=NO_MENTIONS
                )
                return
            log.info("reload asked for by the owner: user=%s", user.id)
            before = counts(live.engine)
            result = await live.areload()  # in a worker thread; questions go on meanwhile
            embed = render.reload_embed(result, before, counts(live.engine))
            await interaction.edit_original_response(embed=embed, allowed_mentions=NO_MENTIONS)
        except Exception:
            await self._apologise(interaction, Via.SLASH)

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Apologise for failures outside the handlers (e.g. bad option data)."""
        log.error(
            "Slash command failed: interaction=%s guild=%s channel=%s user=%s: %s",
            interaction.id,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            error,
        )
        await self._apologise(interaction, Via.SLASH, log_it=False)

    # Buttons

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Serve answer buttons by id; anything unknown or forgotten gets the expired notice."""
        if interaction.type is not discord.InteractionType.component:
            return
        started = time.monotonic()
        guild_id, channel_id, _ = _where(interaction)
        data: Any = interaction.data or {}
        parsed = parse_custom_id(str(data.get("custom_id", "")))
        stored = self.store.get(parsed[1]) if parsed else None
        try:
            if parsed is None or stored is None:
                await interaction.response.send_message(
                    render.EXPIRED_NOTICE, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
                self.log_question(
                    Via.BUTTON, guild_id, channel_id, started, "expired", interaction.id
                )
            elif parsed[0] == CONTEXT:
                await interaction.response.send_message(
                    embed=render.context_embed(stored.answer),
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
            elif parsed[0] == MORE:
                await self._more(interaction, stored, started)
        except Exception:
            await self._apologise(interaction, Via.BUTTON)

    async def _more(
        self, interaction: discord.Interaction[Any], stored: StoredAnswer, started: float
    ) -> None:
        guild_id, channel_id, _ = _where(interaction)
        notice = self._gate(interaction, counts=True)
        if notice is not None:
            await interaction.response.send_message(
                notice, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            self.log_question(Via.BUTTON, guild_id, channel_id, started, "refused", interaction.id)
            return
        # Someone else's public answer: page through it privately rather than post for them.
        private = stored.private or interaction.user.id != stored.asker_id
        await self._defer(interaction, ephemeral=private)
        previous = stored.answer
        # The next page of the same reading: a follow-up keeps the context it was read with.
        answer = await self.ask_engine(
            previous.question, offset=previous.offset + stored.k, previous=stored.context
        )
        shown = self.present(
            answer, asker_id=stored.asker_id, private=private, context=stored.context
        )
        message = await self._fill_deferred(interaction, shown.embed, shown.view)
        if not private:
            self.remember_shown(shown.answer_id, message)
        self.log_question(
            Via.BUTTON, guild_id, channel_id, started, answer, interaction.id, previous.question
        )

    # Messages: mentions, replies, DMs and ask channels

    async def on_message(self, message: discord.Message) -> None:
        """Answer messages addressed to the bot; ignore everything else."""
        if self.user is None:
            return
        role_id = bot_role_id(message)
        facts = facts_from_message(message, self.user.id, role_id)
        decision = decide(facts, self.policy, self.user.id, role_id)
        if decision.action is Action.IGNORE:
            return
        try:
            await self._answer_message(message, decision)
        except Exception:
            log.exception(
                "Answering a message failed: message=%s guild=%s channel=%s user=%s",
                message.id,
                message.guild.id if message.guild else None,
                message.channel.id,
                message.author.id,
            )
            try:
                await self._reply(message, content=render.APOLOGY)
            except discord.HTTPException:
                log.warning("Could not send the apology for message %s.", message.id)

    async def _answer_message(self, message: discord.Message, decision: Decision) -> None:
        started = time.monotonic()
        via = decision.via or Via.MENTION
        guild_id = message.guild.id if message.guild else None
        channel_id = message.channel.id
        verdict: Verdict = self.cooldown.check(message.author.id)
        if not verdict.allowed:
            if verdict.notify:
                await self._reply(message, content=render.cooldown_notice(verdict.retry_after))
            self.log_question(via, guild_id, channel_id, started, "cooldown", message.id)
            return
        if decision.action is Action.DMS_OFF:
            await self._reply(message, content=render.DMS_OFF_NOTICE)
            self.log_question(via, guild_id, channel_id, started, "dms-off", message.id)
            return
        if decision.action is Action.UNREADABLE:
            await self._reply(message, content=render.UNREADABLE_NOTICE)
            self.log_question(via, guild_id, channel_id, started, "unreadable", message.id)
            return
        reference = message.reference
        context = self.conversation(message.channel.id, reference.message_id if reference else None)
        answer = await self.ask_engine(decision.question, previous=context)
        shown = self.present(answer, asker_id=message.author.id, private=False, context=context)
        sent = await self._reply(message, embed=shown.embed, view=shown.view)
        self.remember_shown(shown.answer_id, sent)
        self.log_question(via, guild_id, channel_id, started, answer, message.id, decision.question)

    # Sending

    async def _reply(
        self,
        message: discord.Message,
        *,
        content: str | None = None,
        embed: discord.Embed | None = None,
        view: RoutedView | None = None,
    ) -> discord.Message:
        """Reply to a message without pinging anyone, even if it was deleted meanwhile."""
        kwargs: dict[str, Any] = {
            "reference": message.to_reference(fail_if_not_exists=False),
            "allowed_mentions": NO_MENTIONS,
            "mention_author": False,
            # One reply per question. discord.py enforces a random nonce per send, which
            # covers its own retries; one per question also makes Discord hand back an answer
            # whose every confirmation was lost instead of posting the apology after it, and
            # lets only one of two processes running by mistake with the same token reply.
            "nonce": message.id,
        }
        if content is not None:
            kwargs["content"] = render.fit_content(content)
        if embed is not None:
            kwargs["embed"] = render.fit_embed(embed)
        if view is not None:
            kwargs["view"] = view
        return await message.channel.send(**kwargs)

    async def _defer(self, interaction: discord.Interaction[Any], *, ephemeral: bool) -> None:
        """Acknowledge an interaction at once, showing "thinking…" until the answer comes."""
        try:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        except discord.HTTPException as exc:
            # discord.py retries a callback after a 5xx; if the first attempt got through,
            # the retry is refused as a second acknowledgement, and the deferral stands.
            if exc.code != ALREADY_ACKNOWLEDGED:
                raise

    async def _fill_deferred(
        self,
        interaction: discord.Interaction[Any],
        embed: discord.Embed,
        view: RoutedView | None,
    ) -> discord.InteractionMessage:
        """Put the answer in place of the deferred response, which keeps its visibility."""
        # An edit, not a followup: retried after a lost response it changes nothing, where
        # a retried followup would post the answer twice.
        return await interaction.edit_original_response(
            embed=render.fit_embed(embed),
            view=view,
            allowed_mentions=NO_MENTIONS,
        )

    async def _apologise(
        self, interaction: discord.Interaction[Any], via: Via, *, log_it: bool = True
    ) -> None:
        """Log a failed interaction with its ids and tell the user briefly."""
        if log_it:
            log.exception(
                "Handling an interaction failed: via=%s interaction=%s guild=%s channel=%s user=%s",
                via.value,
                interaction.id,
                interaction.guild_id,
                interaction.channel_id,
                interaction.user.id,
            )
        try:
            if not interaction.response.is_done():
                try:
                    await interaction.response.send_message(
                        render.APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
                    )
                    return
                except discord.HTTPException as exc:
                    if exc.code != ALREADY_ACKNOWLEDGED:
                        raise
            # Deferred: the first followup replaces the "thinking…" message.
            await interaction.followup.send(
                render.APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException:
            log.warning("Could not send the apology for interaction %s.", interaction.id)


class ShardedQABot(QABot, commands.AutoShardedBot):
    """The same bot over several gateway shards in this process (SHARD_COUNT, SHARD_IDS)."""


def make_bot(settings: Settings, engine: Engine | LiveEngine | None = None, **kwargs: Any) -> QABot:
    """Build the bot, sharded when SHARD_COUNT is set."""
    if settings.shard_count is None:
        return QABot(settings, engine, **kwargs)
    shard_ids = list(settings.shard_ids) or None
    return ShardedQABot(
        settings, engine, shard_count=settings.shard_count, shard_ids=shard_ids, **kwargs
    )
