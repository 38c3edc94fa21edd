"""Measure the Discord bot under a burst: gateway event to reply, with the engine's own cost.

Run from the repository root:

    .venv/bin/python bench/discord_load.py [--questions 300] [--users 20] [--over 10]
                                            [--corpus corpus] [--cooldown 0]

The bot runs as it does in production (`bot.discordbot.app.run`) in a child process, against
a FakeDiscord served by this process on 127.0.0.1, so the two do not share an event loop or
the GIL. 20 users ask 300 questions spread over 10 s: mentions in three channels, DMs and
/ask. For each question the fake records when its gateway event was written to the bot's
socket and when the reply (or the interaction's final response) reached it; the child times
every Engine.answer call in the same run, so the engine's own cost can be told apart from
Discord handling (rendering, REST, the event loop). Results are printed and written to
bench/results/discord-load-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakediscord import FakeDiscord, FakeUser  # noqa: E402
from tests.fakediscord.crowd import (  # noqa: E402
    DM,
    MENTION,
    SLASH,
    Asked,
    acknowledged_at,
    answered_at,
    ask_all,
    percentile,
    plan,
    reply_requests,
)

RESULTS = ROOT / "bench" / "results"
QUESTIONS = [
    "why is NK courting ASEAN?",
    "how many senior-level exchanges were there?",
    "when did the North hold its third nuclear test?",
    "what did the government say on Thursday?",
    "who imposed sanctions on North Korea?",
    "How do I bake sourdough bread?",
]
SETTING_KEYS = (
    "DISCORD_TOKEN DISCORD_GUILD_ID CORPUS_DIR ANSWER_K COOLDOWN_QUESTIONS COOLDOWN_SECONDS "
    "ALLOWED_CHANNEL_IDS ASK_CHANNEL_IDS ALLOW_DMS MESSAGE_CONTENT_INTENT LOG_LEVEL SHARD_COUNT "
    "SHARD_IDS INDEX_DIR WATCH_CORPUS SEMANTIC EMBEDDING_MODEL TORCH_THREADS"
).split()


# The bot, in a child process


def child_main(api: str, gateway: str, stats_path: Path) -> int:
    """Run the production bot against the parent's fake; time the engine; report at exit."""
    import discord.gateway
    import discord.http
    import yarl

    from bot.answer.engine import Engine
    from bot.discordbot import app
    from bot.discordbot.client import QABot
    from bot.settings import load_settings

    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    engine_seconds: list[float] = []
    answer = Engine.answer

    def timed(self: Engine, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return answer(self, *args, **kwargs)
        finally:
            engine_seconds.append(time.perf_counter() - started)

    Engine.answer = timed  # type: ignore[method-assign]
    bots: list[QABot] = []
    setup_hook = QABot.setup_hook

    async def remember(self: QABot) -> None:
        bots.append(self)
        await setup_hook(self)

    QABot.setup_hook = remember  # type: ignore[method-assign]
    code = app.run(load_settings(env_file=None, require_token=True))
    stats: dict[str, Any] = {"exit_code": code, "engine_seconds": engine_seconds}
    if bots:
        bot = bots[0]
        state = bot._connection
        stats.update(
            answer_store=len(bot.store),
            answer_store_capacity=bot.store.capacity,
            cooldown_users=len(bot.cooldown._asked),
            cooldown_notified=len(bot.cooldown._notified_until),
            message_cache=len(state._messages or ()),
            private_channels=len(state._private_channels),
            cached_users=len(state._users),
            views=len(state._view_store._views),
        )
    stats["rss_kb_at_exit"] = rss_kb(os.getpid())
    stats_path.write_text(json.dumps(stats))
    return code


def rss_kb(pid: int) -> int | None:
    """Return a process's resident set size in KiB (Linux /proc), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class BotProcess:
    """The bot running in a child process against a fake Discord."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    stats_path: Path
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.asynccontextmanager
async def bot_process(
    fake: FakeDiscord, corpus: Path, env: dict[str, str] | None = None, timeout: float = 120.0
) -> AsyncIterator[BotProcess]:
    """Start the bot in a child process, wait until it is connected and ready, stop it after."""
    with tempfile.TemporaryDirectory(prefix="qabot-bench-") as tmp:
        folder = Path(tmp)
        environ = {k: v for k, v in os.environ.items() if k not in SETTING_KEYS}
        assert fake.world is not None
        environ.update(
            DISCORD_TOKEN=fake.token,
            DISCORD_GUILD_ID=str(fake.world.guild_id),
            CORPUS_DIR=str(corpus),
            LOG_LEVEL="INFO",
            XDG_STATE_HOME=str(folder / "state"),
            XDG_CACHE_HOME=str(folder / "cache"),
            PYTHONPATH=str(ROOT),
        )
        environ.update(env or {})
        log_path, stats_path = folder / "bot.log", folder / "stats.json"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, __file__, "--child", fake.base_url, fake.gateway_url,
                 str(stats_path)],
                env=environ,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        bot = BotProcess(proc, log_path, stats_path)
        try:
            await wait_until(
                lambda: "Connected to Discord" in bot.log() or proc.poll() is not None, timeout
            )
            if proc.poll() is not None:
                raise RuntimeError(f"the bot exited at start:\n{bot.log()}")
            yield bot
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            await wait_until(lambda: proc.poll() is not None, 30.0)
            if proc.poll() is None:
                proc.kill()
            if stats_path.exists():
                bot.stats = json.loads(stats_path.read_text())


async def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f}s")
        await asyncio.sleep(0.05)


# The crowd


@dataclass
class Crowd:
    """Users and channels in the fake's world."""

    users: list[FakeUser]
    channel_ids: list[int]


def build_crowd(fake: FakeDiscord, users: int, channels: int) -> Crowd:
    world = fake.populate_default_world()
    channel_ids = [world.channel_id]
    channel_ids += [fake.add_text_channel(world.guild_id, f"ch{i}") for i in range(channels - 1)]
    people = [world.alice, world.bob] + [fake.add_user(f"user{i}") for i in range(users - 2)]
    return Crowd(people[:users], channel_ids)


async def wait_answered(fake: FakeDiscord, asked: Sequence[Asked], timeout: float) -> None:
    def done() -> bool:
        replies = reply_requests(fake)
        return all(answered_at(fake, a, replies) is not None for a in asked)

    await fake.wait_for(done, timeout, "every question answered")


def summarize(values_ms: Sequence[float]) -> dict[str, float]:
    if not values_ms:
        return {"n": 0}
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 0.50), 2),
        "p90_ms": round(percentile(values_ms, 0.90), 2),
        "p99_ms": round(percentile(values_ms, 0.99), 2),
        "max_ms": round(max(values_ms), 2),
        "mean_ms": round(statistics.fmean(values_ms), 2),
    }


def latencies(fake: FakeDiscord, asked: Sequence[Asked]) -> dict[str, dict[str, float]]:
    """Gateway event to reply, per kind and overall; /ask also to its acknowledgement."""
    replies = reply_requests(fake)
    by_kind: dict[str, list[float]] = {MENTION: [], DM: [], SLASH: []}
    acks: list[float] = []
    for item in asked:
        done = answered_at(fake, item, replies)
        if done is not None:
            by_kind[item.question.kind].append((done - item.sent_at) * 1000)
        ack = acknowledged_at(fake, item)
        if ack is not None:
            acks.append((ack - item.sent_at) * 1000)
    table = {kind: summarize(values) for kind, values in by_kind.items()}
    table["all"] = summarize([v for values in by_kind.values() for v in values])
    table["slash_ack"] = summarize(acks)
    return table


async def run_load(args: argparse.Namespace) -> dict[str, Any]:
    fake = FakeDiscord(heartbeat_interval_ms=41250)
    await fake.start()
    try:
        crowd = build_crowd(fake, args.users, args.channels)
        env = {
            "COOLDOWN_QUESTIONS": str(args.cooldown),
            "COOLDOWN_SECONDS": "30",
            # Lexical unless asked: the model would dominate the engine's share of the time.
            "SEMANTIC": "true" if args.semantic else "false",
            "WATCH_CORPUS": "false",
        }
        async with bot_process(fake, args.corpus, env) as bot:
            per_user = -(-args.questions // args.users)
            questions = plan(fake, crowd.users, crowd.channel_ids, QUESTIONS, per_user)
            questions = questions[: args.questions]
            started = time.monotonic()
            asked = await ask_all(fake, questions, over=args.over)
            sent_in = time.monotonic() - started
            await wait_answered(fake, asked, args.timeout)
            table = latencies(fake, asked)
            rss = rss_kb(bot.pid)
        engine_ms = [s * 1000 for s in bot.stats.get("engine_seconds", [])]
        return {
            "questions": len(asked),
            "users": args.users,
            "channels": args.channels,
            "sent_over_s": round(sent_in, 2),
            "corpus": str(args.corpus),
            "cooldown_questions": args.cooldown,
            "gateway_to_reply": table,
            "engine_answer": summarize(engine_ms),
            "bot_rss_kb": rss,
            "bot_state_at_exit": {k: v for k, v in bot.stats.items() if k != "engine_seconds"},
        }
    finally:
        await fake.stop()


def print_report(report: dict[str, Any]) -> None:
    print(
        f"{report['questions']} questions from {report['users']} users over "
        f"{report['sent_over_s']} s, corpus {report['corpus']}"
    )
    print(f"{'':24}{'n':>6}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    rows = [(f"gateway->reply {k}", v) for k, v in report["gateway_to_reply"].items()]
    rows.append(("engine.answer alone", report["engine_answer"]))
    for name, row in rows:
        if row.get("n"):
            print(
                f"{name:24}{row['n']:>6}{row['p50_ms']:>10}{row['p90_ms']:>10}"
                f"{row['p99_ms']:>10}{row['max_ms']:>10}"
            )
    print(f"bot RSS: {report['bot_rss_kb']} KiB; state at exit: {report['bot_state_at_exit']}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1], argv[2], Path(argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--over", type=float, default=10.0, help="seconds to spread them over")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--cooldown", type=int, default=0, help="COOLDOWN_QUESTIONS (0: off)")
    parser.add_argument("--semantic", action="store_true", help="rank with the embedding model")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    report = asyncio.run(run_load(args))
    print_report(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"discord-load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
