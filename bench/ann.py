"""Choose the nearest-neighbour library by measurement: usearch, hnswlib, faiss-cpu.

On real embeddings (the packaged all-MiniLM-L6-v2 over squad-dev's sentences and 20,000
news sentences of ../shared/bench, questions: squad-dev's) and on generated vectors
(topics plus noise, like sentence embeddings): recall@10 against exact search, query
time p50/p99 (one thread), build time and the memory the index adds. Exact search
(numpy, float32) is the baseline run in the same process.

    PYTHONPATH=. python bench/ann.py [--generated 100000] [--libraries usearch,hnswlib,faiss]
    PYTHONPATH=. python bench/ann.py --candidates 2,4,8,16 [--blended 100000]
    PYTHONPATH=. python bench/ann.py --at-scale bench/data/annmem-index-1m \
        [--f16-graphs bench/data/semantic-index-1m/<corpus>/arrays/<kind>/ann/<segment>]
    PYTHONPATH=. python bench/ann.py --dtypes f16,i8,b1 [--expansion-add 32,128] [--blended 100000]

--candidates sweeps how many candidates the product's search (bot.embedding.rows) ranks
by exact cosine per result, on the real embeddings and on blended vectors like
semantic_scale.py's: recall@50 against exact search and search CPU time, to choose it.

--at-scale measures the product's search on bench/semantic_scale.py's prepared folder
(1M rows): recall@50 against a pass over every row, CPU time, and --f16-graphs the
float16 graphs of the format before, searched as it did.

--dtypes compares the graph's vector types (float16, int8, sign bits by Hamming
distance) on blended vectors: recall@50 of the graph alone against exact search,
search CPU time, file size, build.

Real embeddings are cached in bench/data/ann-real.npz (the first run embeds them).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
if not SHARED.exists():
    SHARED = Path("/work/shared")
DATA = REPO / "bench" / "data"
K = 10
DEEP = 100  # the nearest sentences the ranker asks for
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 128, 96


def rss_mb() -> float:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def news_sentences(n: int) -> list[str]:
    """n sentences of the BBC and Reuters articles, chosen with a fixed seed."""
    texts: list[str] = []
    with tarfile.open(SHARED / "bench" / "news-articles.tar.gz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            handle = archive.extractfile(member)
            assert handle is not None
            body = handle.read().decode("utf-8", "replace").split("\n", 2)[-1]
            texts.extend(s for s in re.split(r"(?<=[.!?])\s+", body.replace("\n", " ")) if s)
    random.Random(20261203).shuffle(texts)
    return [t for t in texts if 20 <= len(t) <= 400][:n]


def squad() -> tuple[list[str], list[str]]:
    sentences: list[str] = []
    for line in (SHARED / "eval" / "squad-dev" / "articles.jsonl").open():
        for paragraph in json.loads(line)["paragraphs"]:
            sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", paragraph) if s)
    questions = [
        json.loads(line)["question"]
        for line in (SHARED / "eval" / "squad-dev" / "questions.jsonl").open()
    ]
    return sentences, questions


def real_vectors() -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of squad-dev + 20k news sentences, and of 500 squad-dev questions."""
    cache = DATA / "ann-real.npz"
    if cache.exists():
        saved = np.load(cache)
        return saved["corpus"], saved["questions"]
    from bot.embedding.model import load_embedder

    embedder = load_embedder("all-MiniLM-L6-v2")
    sentences, questions = squad()
    corpus = embedder.encode(sentences + news_sentences(20_000))
    asked = np.stack([embedder.encode([q], query=True)[0] for q in questions[:500]])
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez(cache, corpus=corpus.astype(np.float16), questions=asked)
    return corpus.astype(np.float16), asked


def generated(n: int, queries: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Vectors in 2,000 topics (a topic's direction plus noise), and questions near some."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(2000, 384)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    out = np.empty((n, 384), dtype=np.float16)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        rows = topics[rng.integers(0, 2000, m)] + 0.9 * rng.normal(size=(m, 384)).astype(
            np.float32
        ) / np.sqrt(384)
        out[start : start + m] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    picked = out[rng.integers(0, n, queries)].astype(np.float32)
    asked = picked + 0.5 * rng.normal(size=picked.shape).astype(np.float32) / np.sqrt(384)
    return out, asked / np.linalg.norm(asked, axis=1, keepdims=True)


class Library:
    name = ""

    def build(self, vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray) -> np.ndarray: ...


class Usearch(Library):
    name = "usearch (f16)"

    def build(self, vectors: np.ndarray) -> None:
        from bot.embedding.ann import _usearch_index

        index = _usearch_index()(
            ndim=vectors.shape[1],
            metric="cos",
            dtype="f16",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        for start in range(0, len(vectors), 50_000):
            block = vectors[start : start + 50_000]
            index.add(np.arange(start, start + len(block), dtype=np.uint64), block, threads=2)
        self.index = index

    def search(self, query: np.ndarray) -> np.ndarray:
        return np.asarray(self.index.search(query, K, threads=1).keys)


class Hnswlib(Library):
    name = "hnswlib (f32)"

    def build(self, vectors: np.ndarray) -> None:
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=vectors.shape[1])
        index.init_index(len(vectors), ef_construction=EXPANSION_ADD, M=CONNECTIVITY)
        index.set_num_threads(2)
        for start in range(0, len(vectors), 50_000):
            block = vectors[start : start + 50_000].astype(np.float32)
            index.add_items(block, np.arange(start, start + len(block)))
        index.set_ef(EXPANSION_SEARCH)
        index.set_num_threads(1)
        self.index = index

    def search(self, query: np.ndarray) -> np.ndarray:
        labels, _ = self.index.knn_query(query, K)
        return np.asarray(labels[0])


class Faiss(Library):
    name = "faiss HNSW (f32)"

    def build(self, vectors: np.ndarray) -> None:
        import faiss

        faiss.omp_set_num_threads(2)
        index = faiss.IndexHNSWFlat(vectors.shape[1], CONNECTIVITY, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EXPANSION_ADD
        for start in range(0, len(vectors), 50_000):
            index.add(vectors[start : start + 50_000].astype(np.float32))
        index.hnsw.efSearch = EXPANSION_SEARCH
        faiss.omp_set_num_threads(1)
        self.index = index

    def search(self, query: np.ndarray) -> np.ndarray:
        _, labels = self.index.search(query[None, :].astype(np.float32), K)
        return np.asarray(labels[0])


LIBRARIES = {"usearch": Usearch, "hnswlib": Hnswlib, "faiss": Faiss}


def measure(vectors: np.ndarray, queries: np.ndarray, names: list[str]) -> dict[str, Any]:
    exact_vectors = vectors.astype(np.float32)
    truth, exact_ms = [], []
    for query in queries:
        start = time.perf_counter()
        sims = exact_vectors @ query
        top = np.argpartition(-sims, K)[:K]
        exact_ms.append((time.perf_counter() - start) * 1000)
        truth.append(set(top.tolist()))
    results: dict[str, Any] = {
        "exact (numpy f32)": {"p50_ms": statistics.median(exact_ms), "recall@10": 1.0}
    }
    for name in names:
        library = LIBRARIES[name]()
        before = rss_mb()
        start = time.perf_counter()
        library.build(vectors)
        built = time.perf_counter() - start
        grown = rss_mb() - before
        times, recall = [], []
        for query, expected in zip(queries, truth, strict=True):
            start = time.perf_counter()
            found = library.search(query)
            times.append((time.perf_counter() - start) * 1000)
            recall.append(len(expected & set(found.tolist())) / K)
        times.sort()
        results[library.name] = {
            "recall@10": statistics.mean(recall),
            "p50_ms": statistics.median(times),
            "p99_ms": times[int(0.99 * (len(times) - 1))],
            "build_s": built,
            "memory_mb": grown,
        }
        del library
    base = results["exact (numpy f32)"]["p50_ms"]
    for row in results.values():
        row["speedup_vs_exact"] = base / row["p50_ms"]
    return results


def sweep_candidates(
    vectors: np.ndarray, queries: np.ndarray, values: list[int], title: str, k: int = 50
) -> None:
    """Recall@k and search time of the product's search at each number of candidates per result.

    The product's own path (bot.embedding.rows.EmbeddingRows.search): sign-bit graphs
    propose, the float16 rows saved in a folder are read back and ranked by cosine.
    """
    import tempfile

    from bot.embedding import rows as stored
    from bot.index.storage.segments import ArrayStore

    exact = vectors.astype(np.float16).astype(np.float32)
    truth = [set(np.argpartition(-(exact @ q), k)[:k].tolist()) for q in queries]
    with tempfile.TemporaryDirectory() as folder:
        store = ArrayStore(Path(folder), "embedding:bench")
        embedded = stored.EmbeddingRows(store, vectors.shape[1])
        cpu = time.process_time()
        for start in range(0, len(vectors), 8192):  # one writer: row i is vector i
            embedded.append([(f"a{start}", vectors[start : start + 8192])])
        embedded.flush()
        built = time.process_time() - cpu
        print(f"\n{title}, the {k} nearest; graphs built in {built:.0f} s CPU")
        print("| candidates per result | rescored | recall@50 | search p50 ms CPU | p99 ms CPU |")
        print("|---|---|---|---|---|")
        for value in values:
            stored.CANDIDATES = value
            times, recall = [], []
            for query, expected in zip(queries, truth, strict=True):
                start_cpu = time.process_time()
                refs, _ = embedded.search(query.astype(np.float32), k)
                times.append((time.process_time() - start_cpu) * 1000)
                recall.append(len(expected & set((refs[:k] & stored.LOW).tolist())) / k)
            times.sort()
            print(
                f"| {value} | {max(k * value, stored.FEWEST_CANDIDATES)} | "
                f"{statistics.mean(recall):.3f} | {statistics.median(times):.2f} | "
                f"{times[int(0.99 * (len(times) - 1))]:.2f} |"
            )
        store.close()


def at_scale(prepared: Path, old_graphs: Path | None, questions: int, k: int = 50) -> None:
    """Recall@k and search CPU time of the product's search on a prepared 1M folder.

    prepared is bench/semantic_scale.py's folder (its rows and graphs); the truth is a
    pass over every row. old_graphs, a folder of float16 graphs of the same rows (the
    format before sign bits, ``ann-f16-*``), is searched as that code did: 62 a segment.
    """
    from bot.embedding import rows as stored
    from bot.embedding.loader import SemanticModel
    from bot.index.storage.segments import ArrayStore

    (folder,) = prepared.glob("*/arrays")
    store = ArrayStore(folder, SemanticModel().kind)
    name = max(store.segments().items(), key=lambda item: item[1])[0]
    embedded = stored.EmbeddingRows(store, 384)
    number = embedded._number(name)  # opens the segment's graphs
    mapped = store.segment_rows(name)
    assert mapped is not None
    asked = real_vectors()[1][:questions].astype(np.float32)
    truth = []
    for query in asked:
        cosines = np.concatenate(
            [
                mapped[start : start + 100_000].astype(np.float32) @ query
                for start in range(0, mapped.shape[0], 100_000)
            ]
        )
        truth.append(set(np.argpartition(-cosines, k)[:k].tolist()))
    del mapped
    print(f"\n{len(embedded._graphs[number]._saved)} graphs of {store.segments()[name]:,} rows")
    print("| search | recall@50 | p50 ms CPU (all threads) | p99 |")
    print("|---|---|---|---|")

    def report(label: str, search: Any) -> None:
        times, recall = [], []
        for query, expected in zip(asked, truth, strict=True):
            start = time.process_time()
            found = search(query)
            times.append((time.process_time() - start) * 1000)
            recall.append(len(expected & set(found[:k].tolist())) / k)
        times.sort()
        print(
            f"| {label} | {statistics.mean(recall):.3f} | {statistics.median(times):.2f} | "
            f"{times[int(0.99 * (len(times) - 1))]:.2f} |"
        )

    for value in (4, 8, 16):
        stored.CANDIDATES = value
        report(
            f"sign bits, {value} candidates a result",
            lambda query: embedded.search(query, k)[0] & stored.LOW,
        )
    if old_graphs is not None:
        from bot.embedding.ann import _usearch_index

        index_class = _usearch_index()
        views = [
            index_class.restore(str(p), view=True) for p in sorted(old_graphs.glob("*.usearch"))
        ]
        for view in views:
            view.expansion_search = EXPANSION_SEARCH

        def old(query: np.ndarray) -> np.ndarray:
            found = [view.search(query, 62, threads=1) for view in views]
            keys = np.concatenate([np.asarray(f.keys, dtype=np.int64) for f in found])
            return keys[np.argsort(np.concatenate([f.distances for f in found]), kind="stable")]

        report(f"float16 graphs ({len(views)}), 62 a segment", old)


def blended(n: int, seed: int = 5) -> np.ndarray:
    """n unit vectors, each a blend of two real embeddings plus noise (semantic_scale's)."""
    corpus = real_vectors()[0].astype(np.float32)
    rng = np.random.default_rng(seed)
    blend = rng.random((n, 1)).astype(np.float32)
    pairs = rng.integers(0, len(corpus), (2, n))
    noise = rng.normal(size=(n, 384)).astype(np.float32) / np.sqrt(384)
    rows = blend * corpus[pairs[0]] + (1 - blend) * corpus[pairs[1]] + 0.3 * noise
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float16)


def compare_dtypes(n: int, dtypes: list[str], additions: list[int], k: int = 50) -> None:
    """Recall@k, search time and file size of graphs holding each vector type (usearch)."""
    import os
    import tempfile

    from bot.embedding.ann import _usearch_index

    index_class = _usearch_index()
    vectors = blended(n)
    questions = real_vectors()[1][:200].astype(np.float32)
    exact = vectors.astype(np.float32)
    truth = [set(np.argpartition(-(exact @ q), k)[:k].tolist()) for q in questions]
    print(f"\n{n:,} blended vectors, the {k} nearest of 200 squad-dev questions")
    print("| vectors | expansion add | recall@50 | search p50 ms CPU | file MB | build CPU s |")
    print("|---|---|---|---|---|---|")
    for dtype in dtypes:
        for addition in additions:
            bits = dtype == "b1"  # packed signs, compared by Hamming distance
            index = index_class(
                ndim=384,
                metric="hamming" if bits else "cos",
                dtype=dtype,
                connectivity=CONNECTIVITY,
                expansion_add=addition,
                expansion_search=EXPANSION_SEARCH,
            )
            cpu = time.process_time()
            for start in range(0, n, 8192):
                block = vectors[start : start + 8192].astype(np.float32)
                added = np.packbits(block > 0, axis=1) if bits else block
                index.add(np.arange(start, start + len(block), dtype=np.uint64), added, threads=1)
            built = time.process_time() - cpu
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "graph.usearch")
                index.save(path)
                size = os.path.getsize(path) / 1e6
                view = index_class.restore(path, view=True)
                view.expansion_search = EXPANSION_SEARCH
                times, recall = [], []
                for question, expected in zip(questions, truth, strict=True):
                    start_cpu = time.thread_time()
                    asked = np.packbits(question > 0) if bits else question
                    found = view.search(asked, k, threads=1).keys
                    times.append((time.thread_time() - start_cpu) * 1000)
                    recall.append(len(expected & set(found.tolist())) / k)
                del view
            print(
                f"| {dtype} | {addition} | {statistics.mean(recall):.3f} | "
                f"{statistics.median(times):.2f} | {size:.0f} | {built:.0f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=100_000)
    parser.add_argument("--libraries", default="usearch,hnswlib,faiss")
    parser.add_argument("--candidates", help="candidates rescored per result to sweep, e.g. 4,8")
    parser.add_argument("--at-scale", help="a prepared folder of bench/semantic_scale.py")
    parser.add_argument("--f16-graphs", help="with --at-scale: float16 graphs of the same rows")
    parser.add_argument("--questions", type=int, default=50, help="with --at-scale")
    parser.add_argument("--dtypes", help="compare graphs of these vector types, e.g. f16,i8")
    parser.add_argument("--expansion-add", default="32,128", help="with --dtypes")
    parser.add_argument(
        "--blended", type=int, default=100_000, help="with --dtypes or --candidates"
    )
    args = parser.parse_args()
    if args.dtypes:
        additions = [int(v) for v in args.expansion_add.split(",")]
        compare_dtypes(args.blended, args.dtypes.split(","), additions)
        return
    if args.at_scale:
        old = Path(args.f16_graphs) if args.f16_graphs else None
        at_scale(Path(args.at_scale), old, args.questions)
        return
    if args.candidates:
        values = [int(v) for v in args.candidates.split(",")]
        corpus, questions = real_vectors()
        sweep_candidates(corpus, questions, values, f"real ({len(corpus):,} sentences)")
        title = f"{args.blended:,} blended vectors"
        sweep_candidates(blended(args.blended), questions[:200], values, title)
        return
    names = args.libraries.split(",")
    corpus, questions = real_vectors()
    report = {
        f"real ({len(corpus):,} sentences)": measure(corpus, questions, names),
        f"generated ({args.generated:,})": measure(*generated(args.generated, 300), names),
    }
    for title, results in report.items():
        print(
            f"\n{title}\n| library | recall@10 | p50 ms | p99 ms | build s | memory MB | x exact |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, row in results.items():
            print(
                f"| {name} | {row['recall@10']:.3f} | {row['p50_ms']:.2f} | "
                f"{row.get('p99_ms', float('nan')):.2f} | {row.get('build_s', 0):.1f} | "
                f"{row.get('memory_mb', 0):.0f} | {row['speedup_vs_exact']:.1f} |"
            )


if __name__ == "__main__":
    main()
