"""The bot with semantic ranking on: the real packaged all-MiniLM-L6-v2 (int8 ONNX) model.

The only Discord test that runs the model; the others run lexically. The model comes with
the default install, so this test never skips.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.discordbot.client import make_bot
from bot.discordbot.sync_state import SyncState
from tests.discordbot.conftest import settings_for
from tests.discordbot.helpers import embed_of, final_message, slash, visible
from tests.fakediscord import FakeDiscord
from tests.fakediscord.harness import running_client

# Seed question a05: the article says "Traditionally, the North has maintained cordial ties
# with Vietnam, Laos and Cambodia" (3.1); word match alone has preferred 11.1 ("its
# traditional supporters China and Russia").
QUESTION = "which countries has the North traditionally been friendly with"
GOLD = "3.1-3.2"
START_TIMEOUT = 120.0  # generous: a busy machine


async def test_the_bot_answers_with_the_packaged_embedding_model(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(
        fake_discord,
        semantic="true",
        embedding_model="all-MiniLM-L6-v2",
        index_dir=tmp_path / "index",
        cooldown_questions=0,
    )
    bot = make_bot(settings, sync_state=SyncState(tmp_path / "state"))  # loads in setup_hook
    with caplog.at_level(logging.INFO):
        async with running_client(bot, fake_discord, timeout=START_TIMEOUT) as running:
            engine = running.engine
            assert engine is not None and engine.semantic is not None
            # Embeddings come in the background; wait for them, then ask.
            assert engine.semantic.wait(START_TIMEOUT) and engine.semantic.complete
            expected = engine.answer(QUESTION, settings.answer_k)
            assert expected.passages[0].citation == GOLD
            _, responses = await slash(fake_discord, "ask", {"question": QUESTION})
            embed = embed_of(final_message(responses))
    assert visible(embed["description"]).startswith(f"[{GOLD}] Traditionally, the North has")
    assert "Yonhap News" in embed["footer"]["text"]
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        line.startswith("Ranking by word match and sentence embeddings (all-MiniLM-L6-v2")
        for line in lines
    ), lines
    assert not any("semantic ranking is off" in line for line in lines)
