"""Merge kept articles' postings and sentences with newly read ones into a new generation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.index.bm25 import BM25Params, average_length
from bot.index.storage.generation import Generation
from bot.index.storage.parsing import ParsedFile
from bot.index.storage.records import FileRecord
from bot.ingest.loader import article_keys

# A text pack is rewritten with only live text when more than half of it is dead
# (removed or changed articles) and it is larger than this.
COMPACT_FROM = 16 << 20


def _ranges(starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Concatenate range(start, start + count) for every pair, as one array."""
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shifts = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    ranges: npt.NDArray[np.int64] = np.arange(total, dtype=np.int64) + shifts
    return ranges


@dataclass
class _Plan:
    """Where each article of a new generation comes from, in sentence ids."""

    counts: npt.NDArray[np.int64]  # sentences per article, new order
    starts: npt.NDArray[np.int64]  # first sentence id per article, plus the total
    from_old: npt.NDArray[np.int64]  # positions (new order) of kept articles
    old_positions: npt.NDArray[np.int64]  # ... and their positions in the old generation
    from_new: npt.NDArray[np.int64]  # positions of newly read articles
    old_ids: npt.NDArray[np.int64]  # old sentence ids of the kept articles' sentences
    kept_ids: npt.NDArray[np.int64]  # ... and their new ids
    new_ids: npt.NDArray[np.int64]  # sentence ids of the newly read articles' sentences
    parsed: list[ParsedFile]  # the newly read articles, in order


def merge(
    old: Generation | None,
    records: list[FileRecord],
    kept: dict[int, int],
    parsed: dict[int, ParsedFile],
    params: BM25Params,
) -> Generation:
    """Build the generation of records from the old one and the newly parsed articles.

    records are the new rows in corpus order; kept maps the position of a
    usable row to the position of the same article among the old generation's
    articles, parsed maps it to the newly read file. The old postings of kept
    articles are renumbered, never tokenised again.
    """
    usable = [i for i, r in enumerate(records) if r.usable]
    counts = np.fromiter((records[i].sentences for i in usable), dtype=np.int64, count=len(usable))
    starts = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    from_old = np.array([p for p, i in enumerate(usable) if i in kept], dtype=np.int64)
    from_new = np.array([p for p, i in enumerate(usable) if i not in kept], dtype=np.int64)
    old_positions = np.array([kept[usable[p]] for p in from_old], dtype=np.int64)
    if old is not None and from_old.size:
        old_ids = _ranges(old.article_starts()[old_positions], counts[from_old])
    else:
        old_ids = np.empty(0, dtype=np.int64)
    plan = _Plan(
        counts=counts,
        starts=starts,
        from_old=from_old,
        old_positions=old_positions,
        from_new=from_new,
        old_ids=old_ids,
        kept_ids=_ranges(starts[from_old], counts[from_old]),
        new_ids=_ranges(starts[from_new], counts[from_new]),
        parsed=[parsed[usable[p]] for p in from_new],
    )
    vocabulary, offsets, docs, tf, term_ids, fresh_terms = _merge_postings(old, plan)
    lengths, rows, text, tail = _merge_sentences(old, plan)
    keys = article_keys([r.rel for r in records])
    generation = Generation(
        records=records,
        keys=[keys[records[i].rel] for i in usable],
        prefix=sum(1 for r in records if r.readable) > 1,
        params=params,
        vocabulary=vocabulary,
        offsets=offsets,
        docs=docs,
        tf=tf,
        lengths=lengths,
        avgdl=average_length(lengths),
        contrib=None,
        text=text,
        sentences=rows,
        linked=_linked(rows, counts),
        tail=tail,
    )
    if old is not None and text is old.text:
        # Same pack: it stays held (not deleted by another process) while this lives.
        generation.pack, generation.pack_crc = old.pack, old.pack_crc
        generation.holds = old.holds
    if term_ids is not None:
        generation.__dict__["term_ids"] = term_ids
    generation.fresh_terms = fresh_terms
    return generation


def _merge_postings(
    old: Generation | None, plan: _Plan
) -> tuple[
    list[str],
    npt.NDArray[np.int64],
    npt.NDArray[np.int32],
    npt.NDArray[Any],
    dict[str, int] | None,
    dict[int, npt.NDArray[np.uint64]],
]:
    """Renumber the kept postings, insert the new articles' and drop terms no longer used.

    Also returns the term map of the new vocabulary when it comes for free, and
    each new article's hashed terms in reading order (by its position), for the
    stored sentence terms (bot.index.terms).
    """
    vocabulary = list(old.vocabulary) if old is not None else []
    term_ids = dict(old.term_ids) if old is not None else {}
    new_terms: list[npt.NDArray[np.int64]] = []
    new_docs: list[npt.NDArray[np.int64]] = []
    for position, file in zip(plan.from_new.tolist(), plan.parsed, strict=True):
        file_terms = file.terms()
        mapping = np.fromiter(
            (term_ids.setdefault(t, len(term_ids)) for t in file_terms),
            dtype=np.int64,
            count=len(file_terms),
        )
        first = int(plan.starts[position])
        ids = np.arange(first, first + file.lengths.size, dtype=np.int64)
        new_terms.append(mapping[file.tokens])
        new_docs.append(np.repeat(ids, file.lengths))
    vocabulary.extend(list(term_ids)[len(vocabulary) :])
    added_keys, added_tf = _group(new_terms, new_docs)
    del new_docs
    # After grouping, whose copies are gone by now: a lower peak at a million sentences.
    fresh_terms = _hashed(vocabulary, plan.from_new.tolist(), new_terms)
    del new_terms
    added_terms = added_keys >> 32
    added_docs = (added_keys & 0xFFFFFFFF).astype(np.int32)
    added_counts = np.bincount(added_terms, minlength=len(vocabulary))
    counts = added_counts.copy()
    if old is not None and plan.old_ids.size:
        # Renumbering keeps each term's sentences in ascending order: sentences of
        # kept articles keep their relative order.
        renumber = np.full(old.lengths.size, -1, dtype=np.int32)
        renumber[plan.old_ids] = plan.kept_ids
        moved = renumber[old.docs]
        del renumber
        kept_counts = np.diff(old.offsets)
        removed = np.flatnonzero(moved < 0)
        kept_docs, kept_tf = moved, np.asarray(old.tf)
        if removed.size:
            keep = moved >= 0
            kept_docs, kept_tf = moved[keep], kept_tf[keep]
            terms_removed = np.searchsorted(old.offsets, removed, side="right") - 1
            kept_counts = kept_counts - np.bincount(terms_removed, minlength=kept_counts.size)
        counts[: kept_counts.size] += kept_counts
        kept_offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(counts - added_counts, out=kept_offsets[1:])
        where = _insertion_points(kept_offsets, kept_docs, added_terms, added_docs)
        largest = int(added_tf.max()) if added_tf.size else 0
        tf_type = _count_type(max(largest, _top_count(kept_tf)))
        docs = np.insert(kept_docs, where, added_docs)
        tf = np.insert(kept_tf.astype(tf_type, copy=False), where, added_tf.astype(tf_type))
    else:
        docs = added_docs
        tf = added_tf.astype(_count_type(int(added_tf.max()) if added_tf.size else 0))
    live = np.flatnonzero(counts)
    offsets = np.zeros(live.size + 1, dtype=np.int64)
    np.cumsum(counts[live], out=offsets[1:])
    if live.size != len(vocabulary):
        return [vocabulary[i] for i in live.tolist()], offsets, docs, tf, None, fresh_terms
    return vocabulary, offsets, docs, tf, term_ids, fresh_terms


def _hashed(
    vocabulary: list[str], positions: list[int], tokens: list[npt.NDArray[np.int64]]
) -> dict[int, npt.NDArray[np.uint64]]:
    """Return each new article's terms as hashes, in order, from its tokens' term ids.

    Each term the new articles use is hashed once: the merge has their tokens as
    term ids already, so the stored terms need no second tokenising.
    """
    from bot.index.terms import hash_terms  # imported late: bot.index.terms imports storage

    if not tokens:
        return {}
    table = np.zeros(len(vocabulary), dtype=np.uint64)
    if sum(ids.size for ids in tokens) < len(vocabulary):
        used = np.unique(np.concatenate(tokens))  # a reload: the few terms it uses
        table[used] = hash_terms(vocabulary[i] for i in used.tolist())
    else:
        table[:] = hash_terms(vocabulary)  # a build: each term once, no sort of every token
    return {p: table[ids] for p, ids in zip(positions, tokens, strict=True)}


def _insertion_points(
    offsets: npt.NDArray[np.int64],
    docs: npt.NDArray[np.int32],
    terms: npt.NDArray[np.int64],
    new_docs: npt.NDArray[np.int32],
) -> npt.NDArray[np.int64]:
    """Return where each new (term, sentence) posting goes among the kept postings.

    terms (with new_docs) are sorted; a term's kept postings are
    docs[offsets[t]:offsets[t + 1]], ascending.
    """
    where = np.empty(terms.size, dtype=np.int64)
    if not terms.size:
        return where
    bounds = np.flatnonzero(np.diff(terms)) + 1
    firsts = np.concatenate([[0], bounds]).tolist()
    lasts = np.concatenate([bounds, [terms.size]]).tolist()
    if len(firsts) > 200_000:
        # Many terms at once (a large change): one vectorised search over (term, sentence) keys.
        term_of = np.repeat(np.arange(offsets.size - 1, dtype=np.int64), np.diff(offsets))
        keys = (term_of << 32) | docs
        found: npt.NDArray[np.int64] = np.searchsorted(keys, (terms << 32) | new_docs)
        return found
    starts = offsets[terms[firsts]].tolist()
    ends = offsets[terms[firsts] + 1].tolist()
    for first, last, start, end in zip(firsts, lasts, starts, ends, strict=True):
        where[first:last] = start + np.searchsorted(docs[start:end], new_docs[first:last])
    return where


def _count_type(largest: int) -> type[np.unsignedinteger[Any]]:
    """Return the smallest unsigned type that holds term counts up to largest."""
    if largest <= 0xFF:
        return np.uint8
    return np.uint16 if largest <= 0xFFFF else np.uint32


def _top_count(tf: npt.NDArray[Any]) -> int:
    """Return the largest count the type of tf can hold (no scan of the values)."""
    return int(np.iinfo(tf.dtype).max) if tf.size else 0


def _merge_sentences(
    old: Generation | None, plan: _Plan
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.uint8], bytes]:
    """Lay out the sentences in the new order: lengths, rows, and the text pack.

    Kept sentences keep their place in the pack; new ones are appended. When
    more than half the pack is dead text (removed or changed articles), the live
    text is copied into a new pack.
    """
    n = int(plan.starts[-1])
    lengths = np.empty(n, dtype=np.int32)
    rows = np.empty((n, 4), dtype=np.int64)
    text = old.text if old is not None else np.empty(0, dtype=np.uint8)
    tail = old.tail if old is not None else b""
    if old is not None and plan.old_ids.size:
        lengths[plan.kept_ids] = old.lengths[plan.old_ids]
        rows[plan.kept_ids] = old.sentences[plan.old_ids]
    if plan.parsed:
        sizes = np.concatenate([f.sizes for f in plan.parsed])
        ends = text.size + len(tail) + np.cumsum(sizes)
        lengths[plan.new_ids] = np.concatenate([f.lengths for f in plan.parsed])
        rows[plan.new_ids, 0] = ends - sizes
        rows[plan.new_ids, 1] = ends
        rows[plan.new_ids, 2] = np.concatenate([f.paragraphs for f in plan.parsed])
        rows[plan.new_ids, 3] = np.concatenate([f.numbers for f in plan.parsed])
        tail += b"".join(f.text for f in plan.parsed)
    total = text.size + len(tail)
    live = int((rows[:, 1] - rows[:, 0]).sum())
    if total > COMPACT_FROM and live * 2 < total:
        return (lengths, *_compact(rows, text, tail, plan))
    return lengths, rows, text, tail


def _linked(rows: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Tell, for each sentence but the last, whether the next is in the same body paragraph."""
    articles = np.repeat(np.arange(counts.size), counts)
    paragraphs = rows[:, 2]
    linked: npt.NDArray[np.bool_] = (
        (articles[1:] == articles[:-1]) & (paragraphs[1:] == paragraphs[:-1]) & (paragraphs[1:] > 0)
    )
    return linked


def _compact(
    rows: npt.NDArray[np.int64], text: npt.NDArray[np.uint8], tail: bytes, plan: _Plan
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], bytes]:
    """Copy the live text into a new pack, article by article; rebase the rows."""
    whole = memoryview(text.data).cast("B") if text.size else memoryview(b"")
    tail_view = memoryview(tail)
    pieces: list[memoryview] = []
    shifts = np.empty(plan.counts.size, dtype=np.int64)
    size = 0
    firsts = plan.starts[:-1].tolist()
    lasts = plan.starts[1:].tolist()
    for position, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
        if first == last:
            shifts[position] = 0
            continue
        start, end = int(rows[first, 0]), int(rows[last - 1, 1])
        if end <= text.size:
            pieces.append(whole[start:end])
        else:
            pieces.append(tail_view[start - text.size : end - text.size])
        shifts[position] = size - start
        size += end - start
    rebased = rows.copy()
    per_sentence = np.repeat(shifts, plan.counts)
    rebased[:, 0] += per_sentence
    rebased[:, 1] += per_sentence
    return rebased, np.empty(0, dtype=np.uint8), b"".join(pieces)


def _group(
    term_ids: list[npt.NDArray[np.int64]], doc_ids: list[npt.NDArray[np.int64]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return the sorted (term << 32 | sentence) keys of the occurrences, and their counts."""
    if not term_ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    keys = (np.concatenate(term_ids) << 32) | np.concatenate(doc_ids)
    unique, counts = np.unique(keys, return_counts=True)
    return unique, counts.astype(np.int64)
