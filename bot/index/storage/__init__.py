"""Persist the index of a corpus folder and bring it up to date incrementally.

Building the index of a large folder means reading, splitting and tokenising
every article. This module keeps the result on disk (``INDEX_DIR``) so that a
restart only checks the folder and memory-maps the saved arrays, and so that a
change re-reads only the files that changed.

Layout of the index folder of one corpus (see :func:`index_folder`)::

    CURRENT              name of the live generation, replaced atomically
    lock                 advisory lock taken while switching generations
    CHECKED              stamps (stat) of the current generation's files when last
                         checked or written: a start re-checks only what changed
    text-<id>.bin        a text pack: sentences' UTF-8 text, appended to by
                         each generation (kept articles keep their bytes), rewritten
                         with only the live text once more than half of it is dead
    gen-<id>/            one complete index ("generation")
        meta.json        header line (magic, format, CRC-32 of the rest), then JSON:
                         code version, BM25 parameters, one row per article file
                         (path, size, mtime, content digest, title... or why it
                         was skipped; one compact value per column), the size
                         and CRC-32 of every array file and the pack's name,
                         used length and CRC-32
        vocab.txt        the terms, one a line; a term's id is its line number
        offsets.npy      postings: offsets[t]..offsets[t+1] index docs and tf
        docs.npy, tf.npy the sentences holding each term and how often
        lengths.npy      terms per sentence
        contrib.npy      the BM25 saturation of every posting under the saved parameters
        sentences.npy    per sentence: start and end in the pack, paragraph, number
        linked.npy       per sentence: is the next one in the same body paragraph
        order.npy        the term ids sorted by their terms: a start finds a question's
                         terms by binary search instead of mapping every term first
    arrays/<kind>/       per-sentence arrays (embeddings) by article, outside the
                         generations: see bot.index.storage.arrays

Every file of a generation is written into a temporary folder, then the
folder is renamed and CURRENT replaced, so a reader sees the old generation or
the new one, never half of one. A generation is checked when opened: magic,
format, code version, corpus path, sizes and CRC-32 checksums (on another thread
while the folder is listed) of every file changed since it was last checked
(:mod:`.checked`). A file that fails is reported in one log line and the index
is rebuilt from the articles.

A file whose size and modification time match the saved row is not read again;
one whose stat changed is read and hashed, and only if its content changed is
it split and tokenised again. The postings of the unchanged articles are kept,
renumbered and merged with the new ones; N, avgdl and IDF are recomputed from
the merged arrays. A reload serves the new index from memory at once and saves
it in the background, then reads the saved files instead (same values).

Modules, one job each: :mod:`.records` (the row of one article file),
:mod:`.parsing` (reading, splitting and tokenising files, in parallel),
:mod:`.generation` (one complete index), :mod:`.merging` (postings and sentence
merge), :mod:`.format` (meta and array files, CRC checks), :mod:`.generations`
(saving, holding, switching and cleaning generations), :mod:`.opening` (opening the
current one, checked), :mod:`.segments` (append-only
per-article rows: the store, over :mod:`.segment_format`, :mod:`.segment_reader`
and :mod:`.segment_writer`), :mod:`.arrays` (a snapshot's per-sentence arrays: the API),
:mod:`.checked` (which files need checking again),
:mod:`.snapshot` (what a load hands the engine), :mod:`.memory` (the cycle
collector held off during loads, freed memory given back) and :mod:`.loading`
(:class:`IndexStore`, which ties them together).
"""

from bot.errors import ReadError, StoreError
from bot.index.storage.format import code_version
from bot.index.storage.generations import default_index_root, index_folder, saved_size
from bot.index.storage.loading import IndexStore
from bot.index.storage.memory import release_memory
from bot.index.storage.records import FileRecord
from bot.index.storage.snapshot import Changes, Snapshot

__all__ = [
    "Changes",
    "FileRecord",
    "IndexStore",
    "ReadError",
    "Snapshot",
    "StoreError",
    "code_version",
    "default_index_root",
    "index_folder",
    "release_memory",
    "saved_size",
]
