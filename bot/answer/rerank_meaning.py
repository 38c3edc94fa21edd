"""Match a question's words a sentence lacks to its words by MiniLM's static word-piece vectors.

"died" is not "death", nor "drop" "declined", but their pieces sit closer in the
input embedding table of the all-MiniLM-L6-v2 file already shipped (its first
layer, read from the ONNX file, not run) than unrelated words do (cosine 0.55 and
0.26 against 0.06-0.08). For each question concept a sentence lacks, the best
cosine between the concept's mean piece vector and that of any word of the
sentence is a cheap reading of whether it says so in other words (weak for a
far paraphrase: "courting" meets "ties" at 0.18). The int8 table (11 MB) is read
once, when first needed; a row's int8 scale cancels in a cosine, so rows are
compared as stored.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bot.index.tokenize import STOP_WORDS
from bot.index.wordpieces import shipped_pieces

log = logging.getLogger(__name__)

TABLE = "inner.embeddings.word_embeddings.weight_q"
# Words a sentence is compared on at most, and words whose vectors are kept.
MAX_WORDS_READ = 100
MAX_WORDS = 50_000
# The longest piece of the vocabulary tried first (its longest entries are shorter).
MAX_PIECE = 24
_WORD = re.compile(r"[^\W_]+")
# The longest run of rows whose sum run_sums works out itself (numpy's order of additions).
REDUCEAT_RUN = 8


class StaticPieces:
    """The word-piece vocabulary and static embedding table of the shipped MiniLM."""

    def __init__(self, vocab: dict[str, int], table: npt.NDArray[np.int8]) -> None:
        self._table = table
        # [CLS], [SEP], [PAD], [UNK] and punctuation-only pieces say nothing of meaning.
        self._vocab: dict[str, int] = vocab
        self._words: dict[str, tuple[int, ...]] = {}
        self._ignored = np.zeros(table.shape[0], dtype=np.bool_)
        for piece, number in vocab.items():
            if piece.startswith("[") or not any(ch.isalnum() for ch in piece):
                self._ignored[number] = True

    def _vectors(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """Return the unit vectors of some piece ids, a row each.

        Each row's norm is worked out as it is read, so only the rows a corpus's
        words use are ever brought in from the mapped file.
        """
        rows: npt.NDArray[np.float32] = self._table[ids].astype(np.float32)
        inverse = (1.0 / np.maximum(np.linalg.norm(rows, axis=1), 1e-6)).astype(np.float32)
        unit: npt.NDArray[np.float32] = rows * inverse[:, None]
        return unit

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one table per process
    def phrase(self, text: str) -> npt.NDArray[np.float32] | None:
        """Return the unit mean vector of a word or phrase's pieces (None: no meaningful piece)."""
        found = [i for w in _WORD.findall(text.casefold()) for i in self.pieces(w)]
        ids = np.asarray(found, dtype=np.int64)
        ids = ids[~self._ignored[ids]] if ids.size else ids
        return self._unit_mean(ids) if ids.size else None

    def pieces(self, word: str) -> tuple[int, ...]:
        """Return a lowercased word's piece ids (none when a piece is unknown), cached.

        Found in the vocabulary as WordPiece does (longest known prefix, then "##"
        continuations), not by the tokenizer: a question's candidates hold a hundred
        words, most never seen before in a large corpus, and the tokenizer costs tens
        of microseconds a call.
        """
        found = self._words.get(word)
        if found is None:
            if len(self._words) >= MAX_WORDS:
                self._words.clear()  # a corpus's common words come back at once
            found = self._words[word] = tuple(_word_pieces(word, self._vocab))
        return found

    def _unit_mean(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32] | None:
        mean = self._vectors(ids).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None

    def closest(self, phrases: Sequence[str], texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return, per text and phrase, the best cosine of the phrase with any word of the text.

        Words are read by a regular expression; each distinct word's vector is the
        mean of its pieces' unit vectors, all summed in one pass.
        """
        out = np.zeros((len(texts), len(phrases)), dtype=np.float64)
        vectors = [self.phrase(p) for p in phrases]
        have = [k for k, v in enumerate(vectors) if v is not None]
        if not have or not texts:
            return out
        asked = np.stack([v for v in vectors if v is not None])
        places: dict[str, int] = {}
        # Stop words meet no concept of a question (a third of a sentence's words).
        rows = [
            [
                places.setdefault(w, len(places))
                for w in _WORD.findall(t.casefold())[:MAX_WORDS_READ]
                if w not in STOP_WORDS
            ]
            for t in texts
        ]
        split = [self.pieces(w) for w in places]
        known = np.array([bool(p) for p in split], dtype=np.bool_)
        if not known.any():
            return out
        flat = np.fromiter((i for p in split for i in p), dtype=np.int64)
        counts = np.array([len(p) for p in split if p], dtype=np.int64)
        summed = run_sums(self._vectors(flat), counts)
        summed /= np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-6)
        cosines = np.zeros((len(split), len(have)), dtype=np.float32)
        cosines[known] = summed @ asked.T
        for row, found in enumerate(rows):
            if found:
                out[row, have] = cosines[found].max(axis=0)
        return out


def run_sums(
    rows: npt.NDArray[np.float32], counts: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Sum each run of consecutive rows (counts[i] rows for run i), as ``np.add.reduceat`` does.

    The same sums bit for bit, in a few passes over the runs of up to REDUCEAT_RUN
    rows (reduceat adds the first row to the sum of the others, those in order),
    and reduceat itself for longer ones: reduceat along the rows took a third of a
    millisecond for a question's 150 pieces, most of them runs of one.
    """
    starts = np.cumsum(counts) - counts
    summed: npt.NDArray[np.float32] = rows[starts]
    several = np.flatnonzero((counts > 1) & (counts <= REDUCEAT_RUN))
    if several.size:
        rest = rows[starts[several] + 1]
        for place in range(2, int(counts[several].max())):
            longer = np.flatnonzero(counts[several] > place)
            rest[longer] += rows[starts[several][longer] + place]
        summed[several] += rest
    for run in np.flatnonzero(counts > REDUCEAT_RUN).tolist():
        first = int(starts[run])
        summed[run] = np.add.reduceat(rows[first : first + int(counts[run])], [0], axis=0)[0]
    return summed


def _word_pieces(word: str, vocab: dict[str, int]) -> list[int]:
    """Split a lowercased word into the vocabulary's pieces, longest first ([]: one is unknown)."""
    if word.isascii():
        whole = vocab.get(word)
        if whole is not None:
            return [whole]
    else:
        # The uncased vocabulary has no accents (BERT's tokenizer strips them).
        decomposed = unicodedata.normalize("NFD", word)
        word = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    pieces: list[int] = []
    start = 0
    while start < len(word):
        for end in range(min(len(word), start + MAX_PIECE), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            number = vocab.get(piece)
            if number is not None:
                pieces.append(number)
                start = end
                break
        else:
            return []
    return pieces


@functools.cache
def static_pieces() -> StaticPieces | None:
    """Return the shipped model's pieces and table, read once; None when it is not installed."""
    try:
        from bot.embedding.model import minilm_model_file
        from bot.embedding.weights import initializer

        table = initializer(minilm_model_file(), TABLE)
        if table is None or table.dtype != np.int8:
            raise ValueError(f"the model file has no int8 {TABLE}")
        return StaticPieces(shipped_pieces(), table)
    except Exception as exc:  # any failure only turns the soft match off
        log.warning("the reranker's soft word match is off: %s", exc)
        return None
