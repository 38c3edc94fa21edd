"""Soak: 10,000 questions through the engine and 2,000 through a fake Discord; memory stays flat.

Run from the repository root:

    .venv/bin/python bench/soak.py [--engine-questions 10000] [--discord-questions 2000]
                                   [--corpus corpus] [--users 400]

Engine: questions of every kind (seed questions, words drawn from the corpus, hostile text,
greetings, over-long input) answered one after another in this process; resident memory is
read from /proc/self/status after a warm-up and then every 1,000 questions.

Discord: the production bot in a child process (see bench/discord_load.py) answers 2,000
questions from --users users, mentions in three channels, DMs and /ask, sent in waves of 50
with the default cooldown on (5 per 30 s per user); its memory is read from /proc/<pid>/status
every 250 answers. At exit the child reports how full its bounded state is: the answer store
(capacity 2,000), the cooldown table, discord.py's message cache.

Prints a table and writes bench/results/soak-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.discord_load import (  # noqa: E402
    QUESTIONS,
    RESULTS,
    bot_process,
    build_crowd,
    rss_kb,
    wait_answered,
)
from bot.answer.engine import Engine  # noqa: E402
from tests.fakediscord import FakeDiscord  # noqa: E402
from tests.fakediscord.crowd import ask_all, plan  # noqa: E402

HOSTILE = [
    "@everyone <@&123456789012345678> why [x](https://evil.example)?",
    "```py\nprint(1)``` ||spoiler|| " + "\u200d" * 4000,
    "hi there",
    "why " * 400,
    "",
]


def questions(engine: Engine, count: int, seed: int = 7) -> list[str]:
    """Make count questions: seed ones, corpus words in new orders, hostile and odd input."""
    rng = random.Random(seed)
    words = [w for s in engine.sentences[:5000] for w in s.text.split() if w.isalpha()]
    made = []
    for i in range(count):
        roll = i % 10
        if roll < 3:
            made.append(QUESTIONS[i % len(QUESTIONS)])
        elif roll < 8 and words:
            picked = " ".join(rng.choice(words) for _ in range(rng.randint(2, 9)))
            made.append(f"{rng.choice(['why', 'what', 'who', 'when', 'how'])} {picked}?")
        else:
            made.append(HOSTILE[i % len(HOSTILE)] + f" #{i}")
    return made


def engine_soak(corpus: Path, count: int) -> dict[str, Any]:
    engine = Engine.from_folder(corpus)
    asked = questions(engine, count)
    for question in asked[:200]:  # warm-up: caches, first allocations
        engine.answer(question)
    gc.collect()
    samples = [(0, rss_kb(os.getpid()))]
    started = time.perf_counter()
    for i, question in enumerate(asked, start=1):
        engine.answer(question)
        if i % 1000 == 0:
            gc.collect()
            samples.append((i, rss_kb(os.getpid())))
    elapsed = time.perf_counter() - started
    return {
        "questions": count,
        "seconds": round(elapsed, 2),
        "per_question_ms": round(elapsed / count * 1000, 3),
        "rss_kb": samples,
    }


async def discord_soak(corpus: Path, count: int, users: int) -> dict[str, Any]:
    fake = FakeDiscord(heartbeat_interval_ms=41250)
    await fake.start()
    try:
        crowd = build_crowd(fake, users, 3)
        per_user = -(-count // users)
        planned = plan(fake, crowd.users, crowd.channel_ids, QUESTIONS, per_user)[:count]
        # Each user's questions are spread over the run, so the cooldown (5 per 30 s) lets
        # most through when users take turns in waves.
        samples: list[tuple[int, int | None]] = []
        async with bot_process(fake, corpus) as bot:
            samples.append((0, rss_kb(bot.pid)))
            done = 0
            for start in range(0, len(planned), 50):
                wave = await ask_all(fake, planned[start : start + 50])
                await wait_answered(fake, wave, 120.0)
                done += len(wave)
                if done % 250 == 0 or done == len(planned):
                    samples.append((done, rss_kb(bot.pid)))
        return {
            "questions": len(planned),
            "users": users,
            "rss_kb": samples,
            "bot_state_at_exit": {k: v for k, v in bot.stats.items() if k != "engine_seconds"},
            "engine_answers": len(bot.stats.get("engine_seconds", [])),
        }
    finally:
        await fake.stop()


def growth(samples: list[tuple[int, int | None]]) -> str:
    first, last = samples[0][1], samples[-1][1]
    if first is None or last is None:
        return "n/a"
    return f"{first / 1024:.1f} MiB -> {last / 1024:.1f} MiB ({(last - first) / 1024:+.1f} MiB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--engine-questions", type=int, default=10_000)
    parser.add_argument("--discord-questions", type=int, default=2_000)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--users", type=int, default=400)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"corpus": str(args.corpus)}
    if args.engine_questions:
        report["engine"] = engine_soak(args.corpus, args.engine_questions)
        engine = report["engine"]
        print(
            f"engine: {engine['questions']} questions in {engine['seconds']} s "
            f"({engine['per_question_ms']} ms each); RSS {growth(engine['rss_kb'])}"
        )
        print("  RSS KiB by questions answered:", engine["rss_kb"])
    if args.discord_questions:
        report["discord"] = asyncio.run(
            discord_soak(args.corpus, args.discord_questions, args.users)
        )
        soak = report["discord"]
        print(
            f"discord: {soak['questions']} questions from {soak['users']} users "
            f"({soak['engine_answers']} reached the engine); bot RSS {growth(soak['rss_kb'])}"
        )
        print("  RSS KiB by questions answered:", soak["rss_kb"])
        print("  state at exit:", soak["bot_state_at_exit"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
