"""Live reload: questions keep being answered, exactly once, while the corpus changes."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from bot.answer.engine import Engine
from bot.cli.repl import Repl
from bot.index.storage import parsing
from bot.live import LiveEngine
from tests.polling import wait_until

SEED_ARTICLE = Path(__file__).resolve().parent.parent / "corpus" / "yonhap-nk-asean-sanctions.txt"
LONG_AGO = 1_600_000_000
WAIT = 20.0  # seconds to wait for a watcher, far above what it needs


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def ferry(n: int) -> str:
    return f"Ferry news\n\nThe harbour ferry number {n} sails at noon from the Quorvex pier.\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    os.utime(folder / SEED_ARTICLE.name, (LONG_AGO, LONG_AGO))
    write(folder, "ferry.txt", ferry(0))
    return folder


def test_questions_during_reloads_are_each_answered_exactly_once(corpus: Path, tmp_path: Path):
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    asked: list[int] = []
    answered: dict[int, list[str]] = {}
    failures: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            asked.append(n)
            try:
                answer = live.answer("Which ferry sails from the Quorvex pier?")
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)
                return
            answered.setdefault(n, []).append(answer.passages[0].text)

    thread = threading.Thread(target=ask)
    thread.start()
    results = []
    for version in range(1, 9):
        write(corpus, "ferry.txt", ferry(version))
        if version % 3 == 0:
            write(corpus, f"extra-{version}.txt", f"Extra {version}\n\nA note about trams.\n")
        results.append(live.reload())
        time.sleep(0.01)
    stop.set()
    thread.join(WAIT)
    assert not failures
    assert all(r.ok for r in results), [r.message for r in results]
    assert len(asked) > 0
    # Every question asked got one answer, none was dropped or answered twice.
    assert sorted(answered) == asked
    assert all(len(texts) == 1 for texts in answered.values())
    # Each answer came from one of the versions of the article: old or new, never a mix.
    versions = {
        f"The harbour ferry number {v} sails at noon from the Quorvex pier." for v in range(9)
    }
    assert {texts[0] for texts in answered.values()} <= versions
    assert (
        live.answer("Which ferry sails from the Quorvex pier?")
        .passages[0]
        .text.startswith("The harbour ferry number 8")
    )


def test_questions_asked_during_a_reload_are_answered_by_the_old_index(
    corpus: Path, tmp_path: Path, monkeypatch
):
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    building = threading.Event()
    release = threading.Event()
    original = Engine.from_snapshot

    def slow_build(*args, **kwargs):
        building.set()
        assert release.wait(WAIT)
        return original(*args, **kwargs)

    monkeypatch.setattr(Engine, "from_snapshot", slow_build)
    write(corpus, "ferry.txt", ferry(1))
    reloading = threading.Thread(target=live.reload)
    reloading.start()
    assert building.wait(WAIT)
    during = live.answer("Which ferry sails from the Quorvex pier?")
    release.set()
    reloading.join(WAIT)
    after = live.answer("Which ferry sails from the Quorvex pier?")
    assert "number 0" in during.passages[0].text
    assert "number 1" in after.passages[0].text


def test_a_failed_reload_keeps_serving_and_says_what_failed(
    corpus: Path, tmp_path: Path, monkeypatch
):
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    before = live.engine
    write(corpus, "ferry.txt", ferry(1))
    original = parsing.read_article

    def refuse(root: str, rel: str):
        if rel.endswith("ferry.txt"):
            raise PermissionError(13, "Permission denied")
        return original(root, rel)

    monkeypatch.setattr(parsing, "read_article", refuse)
    result = live.reload()
    assert not result.ok
    assert "cannot read ferry.txt (Permission denied)" in result.message
    assert "Still answering from the previous index" in result.message
    assert live.engine is before
    assert "number 0" in live.answer("Which ferry sails from the Quorvex pier?").passages[0].text
    monkeypatch.undo()
    result = live.reload()
    assert result.ok and result.changes.changed == ["ferry.txt"]
    assert "number 1" in live.answer("Which ferry sails from the Quorvex pier?").passages[0].text


def test_an_emptied_folder_keeps_the_last_good_index(corpus: Path, tmp_path: Path):
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    for path in corpus.iterdir():
        path.unlink()
    result = live.reload()
    assert not result.ok and "holds no .txt or .md files" in result.message
    assert live.answer("Which ferry sails from the Quorvex pier?").answered


def test_a_reload_with_no_change_keeps_the_same_engine(corpus: Path, tmp_path: Path):
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    engine = live.engine
    result = live.reload()
    assert result.ok and not result.changed
    assert "no article changed" in result.message
    assert live.engine is engine
    # The alias file is part of the engine: a change to it is picked up.
    write(corpus, "aliases.toml", '"Quorvex pier" = ["QP"]\n')
    live.reload()
    assert live.engine is not engine
    assert live.answer("Which ferry sails from QP?").answered


def test_the_polling_watcher_picks_up_a_new_article(corpus: Path):
    live = LiveEngine(corpus)
    seen = []
    live.add_listener(seen.append)
    watcher = live.start_watching(force_polling=True, poll_seconds=0.05)
    try:
        write(corpus, "tunnel.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
        assert wait_until(lambda: live.answer("When does the Plimbo tunnel close?").answered)
    finally:
        watcher.stop()
    assert not watcher.thread.is_alive()
    assert any(r.changes.added == ["tunnel.txt"] for r in seen)


def test_the_file_event_watcher_picks_up_changes(corpus: Path):
    live = LiveEngine(corpus)
    watcher = live.start_watching(debounce_ms=50)
    try:
        time.sleep(0.3)  # let the watcher start
        write(corpus, "tunnel.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
        assert wait_until(lambda: live.answer("When does the Plimbo tunnel close?").answered)
        (corpus / "ferry.txt").unlink()
        assert wait_until(lambda: len(live.engine.articles) == 2)
        # Files the index does not read do not cause reloads.
        reloads = live.last_result
        write(corpus, "notes.json", "{}")
        time.sleep(0.5)
        assert live.last_result is reloads
    finally:
        watcher.stop()


async def test_awatch_reloads_in_an_asyncio_program(corpus: Path):
    live = LiveEngine(corpus)
    stop = asyncio.Event()
    task = asyncio.create_task(live.awatch(stop, debounce_ms=50))
    await asyncio.sleep(0.3)
    write(corpus, "tunnel.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
    deadline = time.monotonic() + WAIT
    while not live.answer("When does the Plimbo tunnel close?").answered:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, WAIT)
    result = await live.areload()
    assert result.ok and not result.changed


def test_relevant_paths(corpus: Path):
    live = LiveEngine(corpus)
    assert live.relevant(str(corpus / "a.txt"))
    assert live.relevant(str(corpus / "sub" / "B.MD"))
    assert live.relevant(str(corpus / "aliases.toml"))
    assert live.relevant(str(corpus / "a-folder"))
    assert not live.relevant(str(corpus / "notes.json"))
    assert not live.relevant(str(corpus / ".hidden" / "a.txt"))
    assert not live.relevant(str(corpus.parent / "elsewhere.txt"))


def test_repl_reload_command_and_watcher_notice(corpus: Path, tmp_path: Path):
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    out: list[str] = []
    lines = iter([":reload", "When does the Plimbo tunnel close?", ":quit"])
    repl = Repl(live, lambda prompt: next(lines), out.append)
    write(corpus, "tunnel.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
    assert repl.run() == 0
    assert out[1].startswith("Reloaded in ") and "1 added. Now 3 articles" in out[1]
    assert "The Plimbo tunnel closes in July." in out[2]
    # A reload done by the watcher is mentioned once, before the next answer.
    write(corpus, "bridge.txt", "Bridge news\n\nThe Zentor bridge opens in May.\n")
    live.reload()
    out.clear()
    repl.handle("When does the Zentor bridge open?")
    repl.handle("When does the Zentor bridge open?")
    assert out[0].startswith("(Reloaded in ") and out[0].endswith(")")
    assert not out[2].startswith("(Reloaded")
    # A plain engine cannot reload.
    plain = Repl(live.engine, lambda prompt: ":quit", out.append)
    assert plain.reload() == "This session cannot reload its articles."


def test_a_replaced_folder_is_reloaded_and_watched_again(corpus: Path, tmp_path: Path):
    live = LiveEngine(corpus)
    watcher = live.start_watching(debounce_ms=50, poll_seconds=0.1)
    try:
        replacement = tmp_path / "replacement"
        shutil.copytree(corpus, replacement)
        write(replacement, "tunnel.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
        corpus.rename(tmp_path / "old")
        replacement.rename(corpus)
        assert wait_until(lambda: live.answer("When does the Plimbo tunnel close?").answered)
        # File events now follow the new folder.
        write(corpus, "bridge.txt", "Bridge news\n\nThe Zandor bridge opens in May.\n")
        assert wait_until(lambda: live.answer("When does the Zandor bridge open?").answered)
    finally:
        watcher.stop()
    assert not watcher.thread.is_alive()


async def test_the_watcher_polls_when_file_events_fail(corpus: Path, monkeypatch, caplog):
    import watchfiles

    async def no_events(*args, **kwargs):
        raise OSError(28, "inotify watch limit reached")
        yield  # an async generator, as watchfiles.awatch is

    monkeypatch.setattr(watchfiles, "awatch", no_events)
    live = LiveEngine(corpus)
    watcher = live.watcher(debounce_ms=50, poll_seconds=0.05)
    watcher.start()
    try:
        await asyncio.wait_for(watcher.started.wait(), WAIT)
        deadline = time.monotonic() + WAIT
        while not watcher.polling:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        write(corpus, "tunnel.txt", "Tunnel news\n\nThe Plimbo tunnel closes in July.\n")
        while not live.answer("When does the Plimbo tunnel close?").answered:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        # Polling reloads on changes only, not on every look.
        before = live.last_result
        await asyncio.sleep(0.3)
        assert live.last_result is before
    finally:
        await watcher.stop()
    assert not watcher.running
    assert any("by polling" in r.getMessage() for r in caplog.records)
