"""The saved index under hostile conditions: shared and read-only folders, swapped files, signals."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.index.storage.generations as generations
import bot.index.storage.loading as loading
from bot.index.storage import IndexStore, index_folder, parsing
from bot.index.storage.generations import current_name
from bot.index.storage.opening import open_generation
from bot.live import LiveEngine
from tests.polling import wait_until

LONG_AGO = 1_600_000_000
WAIT = 60.0  # seconds: far above what any step needs


def write(folder: Path, name: str, text: str, *, old: bool = True) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if old:
        os.utime(path, (LONG_AGO, LONG_AGO))


def ferry(n: int) -> str:
    return f"Ferry news {n}\n\nThe harbour ferry number {n} sails at noon from the Quorvex pier.\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    for n in range(3):
        write(folder, f"a{n}.txt", ferry(n))
    return folder


# --- processes sharing one index folder -------------------------------------------


def test_two_writers_and_a_reader_keep_each_others_generations(
    corpus: Path, tmp_path: Path, monkeypatch
):
    index = tmp_path / "index"
    store_folder = index_folder(corpus, index)
    IndexStore(corpus, index).load()
    reader = IndexStore(corpus, index)
    served = reader.load().generation.folder
    writer_a, writer_b = IndexStore(corpus, index), IndexStore(corpus, index)
    writer_a.load()
    writer_b.load()
    write(corpus, "b.txt", ferry(7))

    # Writer A pauses at each of its lock requests while writer B saves: what B cleans
    # must not take what A is about to make current.
    original = generations.locked
    a_thread: list[threading.Thread] = []
    b_done = threading.Event()

    @contextlib.contextmanager
    def locked(folder: Path) -> Iterator[None]:
        if a_thread and threading.current_thread() is a_thread[0] and not b_done.is_set():
            b_turn.set()
            b_done.wait(10)
        with original(folder):
            yield

    b_turn = threading.Event()
    monkeypatch.setattr(generations, "locked", locked)
    a_thread.append(threading.Thread(target=writer_a.load))
    a_thread[0].start()
    assert b_turn.wait(WAIT)
    writer_b.load()
    b_done.set()
    a_thread[0].join(WAIT)
    assert not a_thread[0].is_alive()
    monkeypatch.undo()

    # The current generation is whole; the reader's and each writer's are still there.
    name = current_name(store_folder)
    assert name is not None and (store_folder / name / "meta.json").exists()
    assert open_generation(store_folder, corpus) is not None
    assert served is not None and (served / "meta.json").exists()
    for writer in (writer_a, writer_b):
        folder = writer.load().generation.folder
        assert folder is not None and (folder / "meta.json").exists()
    # No one rebuilds: a restart reads no file again, and the reader reloads fine.
    assert IndexStore(corpus, index).load().changes.reread == 0
    assert reader.load(strict=True).changes.added == ["b.txt"]


def test_a_generation_no_one_uses_any_more_is_deleted(corpus: Path, tmp_path: Path):
    index = tmp_path / "index"
    store_folder = index_folder(corpus, index)
    first = IndexStore(corpus, index)
    old_folder = first.load().generation.folder
    del first  # its generation is no longer held
    write(corpus, "b.txt", ferry(7), old=False)
    IndexStore(corpus, index).load()
    write(corpus, "c.txt", ferry(8), old=False)
    IndexStore(corpus, index).load()
    assert old_folder is not None and not old_folder.exists()
    assert len(list(store_folder.glob("gen-*"))) <= 2
    assert len(list(store_folder.glob("text-*"))) <= 2


# --- read-only folders, failed saves, immutable files --------------------------------


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make a folder tree unwritable, for root too (the immutable attribute), then restore it."""
    paths = [folder, *folder.rglob("*")]
    if os.geteuid() == 0:
        # Root ignores permissions: only the immutable attribute makes the folder read-only.
        assert shutil.which("chattr"), "chattr (e2fsprogs) is needed to test as root"
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
        return
    modes = {p: p.stat().st_mode for p in paths}
    for p in reversed(paths):
        p.chmod(modes[p] & ~0o222)
    try:
        yield
    finally:
        for p in paths:
            p.chmod(modes[p])


def test_a_read_only_index_folder_is_used_not_rebuilt(corpus: Path, tmp_path: Path, caplog):
    index = tmp_path / "index"
    IndexStore(corpus, index).load()
    caplog.set_level(logging.WARNING, logger="bot.index.storage")
    with read_only(index):
        with pytest.raises(OSError):
            (index / "probe").write_text("x")  # really read-only
        snapshot = IndexStore(corpus, index).load()
        assert snapshot.changes.reread == 0
        assert not caplog.records, [r.getMessage() for r in caplog.records]
        assert snapshot.generation.folder is not None  # served from the saved files
        # A change is served from memory, with one line saying it could not be saved.
        write(corpus, "b.txt", ferry(7), old=False)
        changed = IndexStore(corpus, index).load()
        assert changed.changes.added == ["b.txt"]
        assert len(caplog.records) == 1 and "could not save" in caplog.records[0].getMessage()


def listing(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        p.relative_to(folder).as_posix(): (
            p.stat().st_size,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_failed_save_leaves_no_files_behind(corpus: Path, tmp_path: Path, monkeypatch):
    index = tmp_path / "index"
    IndexStore(corpus, index).load()
    before = listing(index)
    write(corpus, "b.txt", ferry(7), old=False)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # The last file of a save: everything else (arrays, new text) is written by then.
    monkeypatch.setattr(generations, "meta_bytes", full_disk)
    snapshot = IndexStore(corpus, index).load()
    assert snapshot.changes.added == ["b.txt"]  # served from memory all the same
    assert listing(index) == before
    monkeypatch.undo()
    assert IndexStore(corpus, index).load().changes.added == ["b.txt"]


def test_saved_files_are_read_only_and_never_rewritten(corpus: Path, tmp_path: Path):
    index = tmp_path / "index"
    store = IndexStore(corpus, index)
    folder = store.load().generation.folder
    assert folder is not None
    files = sorted(folder.iterdir())
    assert files and all(p.stat().st_mode & 0o222 == 0 for p in files)
    before = listing(folder)
    write(corpus, "a1.txt", ferry(11), old=False)
    assert store.load(strict=True).changes.changed == ["a1.txt"]
    store.wait_saved()
    assert listing(folder) == before  # the old generation, still held, is untouched


# --- files changed after the listing ----------------------------------------------------


def swap_after_listing(monkeypatch, swap) -> None:
    original = loading.scan_folder

    def scan(root: Path):
        listed = original(root)
        swap()
        return listed

    monkeypatch.setattr(loading, "scan_folder", scan)


def test_a_fifo_swapped_in_after_the_listing_does_not_hang_the_build(
    corpus: Path, tmp_path: Path, monkeypatch
):
    fifo = corpus / "a1.txt"

    def swap() -> None:
        fifo.unlink()
        os.mkfifo(fifo)

    swap_after_listing(monkeypatch, swap)
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(IndexStore(corpus, tmp_path / "index").load()), daemon=True
    )
    thread.start()
    thread.join(WAIT)
    if thread.is_alive():  # release the build before failing
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("the build hung on a FIFO")
    (snapshot,) = result
    assert "skipped a1.txt: the file is a FIFO, not a regular file" in snapshot.corpus.problems
    assert [a.path for a in snapshot.corpus.articles] == ["a0.txt", "a2.txt"]


def test_a_link_re_pointed_after_the_listing_gets_no_outside_file_indexed(
    corpus: Path, tmp_path: Path, monkeypatch
):
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret\n\nThe vault code is Xylophone.\n")

    def swap() -> None:
        (corpus / "a1.txt").unlink()
        (corpus / "a1.txt").symlink_to(secret)

    swap_after_listing(monkeypatch, swap)
    snapshot = IndexStore(corpus, tmp_path / "index").load()
    texts = " ".join(s.text for s in snapshot.corpus.sentences)
    assert "Xylophone" not in texts
    assert any(p.startswith("skipped a1.txt: ") for p in snapshot.corpus.problems)


def test_a_file_unreadable_at_start_is_skipped_again_by_every_reload(
    corpus: Path, tmp_path: Path, monkeypatch
):
    write(corpus, "locked.txt", ferry(9))
    original = parsing.read_article

    def refuse(root: str, rel: str):
        if rel == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return original(root, rel)

    monkeypatch.setattr(parsing, "read_article", refuse)
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    assert "skipped locked.txt: Permission denied" in live.last_result.problems
    for n in range(2):
        write(corpus, f"new{n}.txt", ferry(20 + n), old=False)
        result = live.reload()
        assert result.ok, result.message
        assert result.changes.added == [f"new{n}.txt"]
        assert "skipped locked.txt: Permission denied" in result.problems
    # Readable again: the next reload indexes it.
    monkeypatch.undo()
    assert live.reload().changes.added == ["locked.txt"]


# --- signals during a build ---------------------------------------------------------------


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import bot.index.storage.parsing as parsing
    from bot.index.storage import IndexStore

    parse = parsing.parse_file

    def slow_parse(*args):
        time.sleep(0.05)  # about a minute for the folder: the build is surely under way
        return parse(*args)

    parsing.parse_file = slow_parse
    if sys.argv[1] == "cli":
        from bot.cli.main import main
        sys.exit(main(["ask", "--corpus", sys.argv[2], "when does the ferry sail?"]))
    IndexStore(Path(sys.argv[2]), Path(sys.argv[3])).load()
    """
)


def many_articles(tmp_path: Path) -> Path:
    folder = tmp_path / "many"
    for n in range(2 * parsing.PARALLEL_FROM):
        write(folder, f"f{n:04}.txt", ferry(n))
    return folder


def workers_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_build_leaves_no_worker_processes(how: str, tmp_path: Path):
    folder = many_articles(tmp_path)
    env = dict(os.environ, INDEX_DIR=str(tmp_path / "index"), SEMANTIC="false")
    mode = "cli" if how == "SIGTERM" else "store"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(folder), str(tmp_path / "index")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    try:
        assert wait_until(lambda: len(workers_of(child.pid)) >= 1), "no worker processes started"
        workers = workers_of(child.pid)
        child.send_signal(getattr(signal, how))
        child.wait(WAIT)
        # The build stopped (it had about a minute to go), and its workers with it.
        assert wait_until(lambda: not any(alive(w) for w in workers), timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
        for worker in workers:
            with contextlib.suppress(OSError):
                if alive(worker):
                    os.kill(worker, signal.SIGKILL)
