"""Time a feed poll round of 100 entries (fetch from loopback, extract, index) and unchanged ones.

Run from the repository root:

    PYTHONPATH=. python bench/feeds.py [--entries 100] [--repeat 3]

A loopback HTTP server (the one the tests use) serves an RSS feed of N entries,
each a news page built from a real article of ../shared/bench (synthetic text
when that archive is absent). For each repeat, in a fresh corpus folder:

- new round: poll the feed (every page fetched and extracted, files written),
  then reload the live engine (the new files indexed): seconds for each part;
- unchanged round, 304: the server answers the conditional request Not Modified;
- unchanged round, 200: the server ignores the validators and sends the same
  feed again: every entry is recognised by its GUID and version, no page fetched;
  (no file is written in either, so there is nothing to reload: the bot reloads
  only when a round changed something, and the folder watcher sees no event);
- one changed entry: its page changes and its entry's date: one page fetched,
  one file replaced, one article re-indexed.

The baseline, measured in the same process, is indexing the same N articles
from plain files already on disk: the ratio says what fetching and extraction
add on top of indexing. The median of the repeats is printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.feeds.config import FeedSpec  # noqa: E402
from bot.feeds.reader import Reader  # noqa: E402
from bot.live import LiveEngine  # noqa: E402
from tests.feeds.pages import article_page, rss  # noqa: E402
from tests.feeds.server import Route, Site  # noqa: E402

# ../shared from a clone beside it, or the shared folder of a worktree two levels down.
ARCHIVES = [
    REPO.parent / "shared" / "bench" / "news-articles.tar.gz",
    REPO.parents[1] / "shared" / "bench" / "news-articles.tar.gz",
]
SEED = REPO / "corpus" / "yonhap-nk-asean-sanctions.txt"


def articles(n: int, source: Path | None) -> list[tuple[str, list[str]]]:
    """Return n (title, paragraphs) pairs from the news archive, or synthetic ones."""
    found: list[tuple[str, list[str]]] = []
    if source is not None:
        with tarfile.open(source) as archive:
            for member in archive:
                if len(found) >= n:
                    break
                if not member.isfile() or not member.name.endswith(".txt"):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                text = handle.read().decode("utf-8", "replace")
                parts = [p.strip() for p in text.split("\n\n") if p.strip()]
                if len(parts) >= 3:
                    found.append((parts[0], parts[1:]))
    while len(found) < n:
        i = len(found)
        found.append(
            (
                f"Story number {i} about port {i} traffic",
                [
                    f"Port {i} handled {i * 37 + j} ships in week {j}, officials said on day "
                    f"{j}. Cargo volumes at berth {j} rose {j + i} percent from a year ago, "
                    f"the authority said in a statement issued after its meeting {j}."
                    for j in range(5)
                ],
            )
        )
    return found


def serve(site: Site, stories: list[tuple[str, list[str]]], etag: bool) -> str:
    items = []
    for i, (title, paragraphs) in enumerate(stories):
        path = f"/news/{i}"
        site.routes[path] = Route(
            article_page(title=title, paragraphs=paragraphs, dateline=None).encode()
        )
        items.append({"title": title, "link": site.url(path), "guid": f"story-{i}"})
    site.routes["/rss.xml"] = Route(
        rss("Bench News", items).encode(),
        content_type="application/rss+xml",
        etag='"bench"' if etag else None,
    )
    return site.url("/rss.xml")


def one_run(stories: list[tuple[str, list[str]]], scratch: Path) -> dict[str, float]:
    site = Site()
    try:
        return _measure(site, stories, scratch)
    finally:
        site.close()


def _measure(site: Site, stories: list[tuple[str, list[str]]], scratch: Path) -> dict[str, float]:
    result: dict[str, float] = {}
    # Baseline: the same articles as plain files, indexed by a cold LiveEngine.
    plain = scratch / "plain"
    plain.mkdir()
    for i, (title, paragraphs) in enumerate(stories):
        (plain / f"{i:03}.txt").write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n")
    start = time.perf_counter()
    LiveEngine(plain, index_dir=scratch / "plain-index")
    result["baseline_index_files"] = time.perf_counter() - start

    corpus = scratch / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    live = LiveEngine(corpus, index_dir=scratch / "index")
    feed = serve(site, stories, etag=True)
    spec = FeedSpec(feed, 900)
    reader = Reader(corpus)
    try:
        start = time.perf_counter()
        report = reader.poll([spec], force=True)
        fetched = time.perf_counter()
        reload = live.reload()
        done = time.perf_counter()
        assert sum(p.outcome.value == "new" for p in report.all_pages) == len(stories), (
            report.failures
        )
        assert reload.ok and len(reload.changes.added) == len(stories)
        result["new_fetch_extract_write"] = fetched - start
        result["new_index"] = done - fetched
        result["new_round"] = done - start

        live.wait_saved(60)
        start = time.perf_counter()
        report = reader.poll([spec], force=True)
        # Nothing was written, so nothing is reloaded (the bot reloads on report.changed).
        assert not report.changed
        result["unchanged_round_304"] = time.perf_counter() - start
        assert report.feeds[0].status == "not modified"

        site.routes["/rss.xml"].etag = None  # a server that ignores validators
        start = time.perf_counter()
        report = reader.poll([spec], force=True)
        assert not report.changed
        result["unchanged_round_200"] = time.perf_counter() - start
        assert all(p.outcome.value == "unchanged" for p in report.all_pages)

        title, paragraphs = stories[0]
        site.routes["/news/0"] = Route(
            article_page(
                title=title, paragraphs=[*paragraphs, "This story was updated."], dateline=None
            ).encode()
        )
        items = [
            {
                "title": t,
                "link": site.url(f"/news/{i}"),
                "guid": f"story-{i}",
                **({"description": "updated"} if i == 0 else {}),
            }
            for i, (t, _) in enumerate(stories)
        ]
        site.routes["/rss.xml"].body = rss("Bench News", items).encode()
        start = time.perf_counter()
        report = reader.poll([spec], force=True)
        polled = time.perf_counter()
        changed = live.reload()
        result["one_changed_poll"] = polled - start
        result["one_changed_round"] = time.perf_counter() - start
        assert [p.outcome.value for p in report.all_pages].count("updated") == 1
        assert len(changed.changes.changed) == 1
    finally:
        reader.close()
        live.wait_saved(60)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    parser.add_argument(
        "--source",
        type=Path,
        default=next((p for p in ARCHIVES if p.exists()), None),
        help="news-articles.tar.gz to take the articles from (default: ../shared/bench)",
    )
    args = parser.parse_args()
    stories = articles(args.entries, args.source)
    print(f"articles from {args.source or 'synthetic text'}", file=sys.stderr)
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="qabot-bench-feeds-") as scratch:
            runs.append(one_run(stories, Path(scratch)))
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    base = medians["baseline_index_files"]
    if args.json:
        print(json.dumps({"entries": args.entries, "repeat": args.repeat, **medians}))
        return 0
    print(f"{args.entries} feed entries, median of {args.repeat} runs (seconds; x baseline)")
    for key, value in medians.items():
        print(f"  {key:<26} {value:8.3f} s   {value / base:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
