"""The sentence embeddings of one corpus as the answer engine queries them.

Sentences get embeddings while the index serves (see bot.embedding.background):
every query says which sentences have one, and the engine ranks the others by
word match. Vectors are read from the array store (bot.embedding.rows), only for
the sentences a question's candidates name; the nearest sentences to a question
come from the ANN index (bot.embedding.ann), never from a pass over every vector.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bot.embedding.rows import SHIFT, EmbeddingRows

if TYPE_CHECKING:
    from bot.embedding.loader import SemanticModel

Ids = npt.NDArray[np.int64]
Positions = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]

# Sentences whose similarity to the question sets the floor of the min-max scaling
# (all of them up to this many, else an even spread): the floor of a pass over every
# vector without the pass.
FLOOR_SAMPLE = 1024
# Question vectors kept, so that nearest() and similarity() of one question encode once
# (and a repeated or rephrased-back question not at all).
QUESTION_CACHE = 64

# Questions are embedded here while the caller's thread finds the word-match candidates:
# onnxruntime and the tokenizer let go of the GIL, so the two overlap.
_ENCODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qabot-question")


class SemanticIndex:
    """Which sentences of a corpus have embeddings, and their similarity to a question."""

    def __init__(self, model: SemanticModel, size: int, store: EmbeddingRows) -> None:
        self.model = model
        self.size = size
        self.store = store
        # Ref of each sentence's row in the store (bot.embedding.rows), -1 while it has none.
        self.row_of: Ids = np.full(size, -1, dtype=np.int64)
        self.embedded_count = 0
        # Per store segment, the sentence of each row (-1 for rows of other articles);
        # int32, as positions fit (4 MB a million rows, not 8).
        self._sentence_of_row: dict[int, Positions] = {}
        self._done = threading.Event()
        self._questions: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._encoding: dict[str, Future[npt.NDArray[np.float32] | None]] = {}
        self._lock = threading.Lock()
        # The rows of the floor's spread of sentences (None: to be read again).
        self._floor: npt.NDArray[np.float32] | None = None
        self.failed: str | None = None  # why embedding stopped, when it did

    # --- filled by the background job ------------------------------------------

    def assign(self, first: int, rows: Ids) -> None:
        """Record that sentences first.. have the store refs ``rows`` (one each)."""
        self.assign_at(np.arange(first, first + rows.size, dtype=np.int64), rows)

    def assign_at(self, positions: Ids, rows: Ids) -> None:
        """Record that the sentences at positions have the store refs ``rows`` (one each)."""
        self._point(positions, rows)
        with self._lock:
            self.embedded_count += int(rows.size)
            self._floor = None

    def move(self, positions: Ids, rows: Ids) -> None:
        """Record that the embedded sentences at positions now have the refs ``rows`` (merged)."""
        self._point(positions, rows)

    def _point(self, positions: Ids, rows: Ids) -> None:
        numbers = rows >> SHIFT
        with self._lock:
            for number in np.unique(numbers).tolist():
                where = numbers == number
                local = rows[where] & ((1 << SHIFT) - 1)
                of_row = self._sentence_of_row.get(number, np.full(0, -1, dtype=np.int32))
                top = int(local.max()) + 1
                if top > of_row.size:
                    # A quarter more, not twice: a restart's last growth would leave up
                    # to half of a million-row map unused.
                    grown = np.full(max(top, of_row.size + of_row.size // 4), -1, dtype=np.int32)
                    grown[: of_row.size] = of_row
                    of_row = self._sentence_of_row[number] = grown
                of_row[local] = positions[where]
            self.row_of[positions] = rows

    def finish(self, failure: str | None = None) -> None:
        """Mark the job over (every sentence embedded, or failure says why not)."""
        self.failed = failure
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the background job is over; tell whether it is."""
        return self._done.wait(timeout)

    # --- what the engine asks ----------------------------------------------------

    @property
    def complete(self) -> bool:
        """Tell whether every sentence has its embedding."""
        return self.embedded_count >= self.size

    @property
    def any_embedded(self) -> bool:
        """Tell whether some sentence has its embedding (semantic ranking can start)."""
        return self.embedded_count > 0

    def is_embedded(self, ids: Ids) -> npt.NDArray[np.bool_]:
        """Tell, for each sentence id, whether it has an embedding yet."""
        result: npt.NDArray[np.bool_] = self.row_of[ids] >= 0
        return result

    def start_embedding(self, text: str) -> None:
        """Begin embedding a question on the encoder thread, unless it is cached or under way."""
        with self._lock:
            if text in self._questions or text in self._encoding:
                return
            # RuntimeError: the interpreter is exiting; embedded inline if still asked.
            with contextlib.suppress(RuntimeError):
                self._encoding[text] = _ENCODER.submit(self._encode, text)

    def question_vector(self, text: str) -> npt.NDArray[np.float32] | None:
        """Embed a question once (cached); None when the model cannot be loaded."""
        with self._lock:
            vector = self._questions.get(text)
            if vector is not None:
                self._questions.move_to_end(text)
                return vector
            pending = self._encoding.get(text)
        return pending.result() if pending is not None else self._encode(text)

    def _encode(self, text: str) -> npt.NDArray[np.float32] | None:
        try:
            embedder = self.model.embedder
            if embedder is None:
                return None
            vector = np.asarray(embedder.encode([text], query=True)[0], dtype=np.float32)
            with self._lock:
                self._questions[text] = vector
                while len(self._questions) > QUESTION_CACHE:
                    self._questions.popitem(last=False)
            return vector
        finally:
            with self._lock:
                self._encoding.pop(text, None)

    def nearest(self, question: str, k: int) -> tuple[Ids, Floats]:
        """Return up to k embedded sentences nearest the question, and their cosine similarity."""
        ids, cosines = self.rescored(question, k)
        return ids[:k], cosines[:k]

    def rescored(self, question: str, k: int) -> tuple[Ids, Floats]:
        """Return every embedded sentence a search for the k nearest ranked by exact cosine.

        Nearest first, with their cosine: the first k are the k nearest, and the
        others' cosines spare reading their rows again.
        """
        vector = self.question_vector(question)
        if vector is None or not self.any_embedded:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        # Rows of changed or removed articles are still in the graph: some more are returned.
        refs, cosines = self.store.search(vector, k)
        ids = self._sentences_of(refs)
        kept = np.flatnonzero(ids >= 0)
        return ids[kept], np.asarray(cosines[kept], dtype=np.float64)

    def similarity(self, question: str, ids: Ids, seen: Seen | None = None) -> Floats:
        """Return the cosine similarity of the question with each sentence; NaN without one.

        seen holds cosines and rows this question already has: their rows are not read again.
        """
        vector = self.question_vector(question)
        if vector is None:
            return np.full(len(ids), np.nan)
        return self._similarity(vector, np.asarray(ids, dtype=np.int64), seen)

    def rows_of(self, ids: Ids) -> tuple[Ids, npt.NDArray[np.float32]]:
        """Return those of some sentences that have an embedding, ascending, and their vectors."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        rows = self.row_of[ids]
        have = rows >= 0
        return ids[have], self.store.vectors(rows[have])

    def similarities(self, question: str) -> Floats:
        """Return the similarity with every sentence (NaN without an embedding); small corpora."""
        return self.similarity(question, np.arange(self.size, dtype=np.int64))

    def floor(self, question: str) -> float:
        """Return the lowest similarity to the question among a fixed spread of sentences."""
        vector = self.question_vector(question)
        if vector is None or not self.any_embedded:
            return 0.0
        with self._lock:
            spread, seen = self._floor, self.embedded_count
        if spread is None:
            embedded = np.flatnonzero(self.row_of >= 0)
            if embedded.size > FLOOR_SAMPLE:
                embedded = embedded[np.linspace(0, embedded.size - 1, FLOOR_SAMPLE).astype(int)]
            # Kept in memory (1.5 MB): read per question, these scattered rows would
            # cost a read each.
            spread = self.store.vectors(self.row_of[embedded])
            with self._lock:
                if self.embedded_count == seen:  # no sentence embedded meanwhile
                    self._floor = spread
        return float((spread @ vector).min()) if spread.shape[0] else 0.0

    def _similarity(
        self, vector: npt.NDArray[np.float32], ids: Ids, seen: Seen | None = None
    ) -> Floats:
        rows = self.row_of[ids] if ids.size else np.zeros(0, dtype=np.int64)
        result = np.full(ids.size, np.nan)
        have = rows >= 0
        if seen is not None and have.any():
            have &= ~seen.fill(result, ids, vector)
        if have.any():
            result[have] = self.store.vectors(rows[have]) @ vector
        return result

    def for_question(self, question: str) -> QuestionMeaning:
        """Return the question's meaning as the ranker asks for it (bot.answer.ranking.Meaning).

        Its embedding starts at once, on a thread, so that it is ready, or nearly, when
        the ranker has its word-match candidates and asks for the nearest sentences.
        """
        if self.any_embedded and self.model.failure is None:
            self.start_embedding(question)
        return QuestionMeaning(self, question)

    @property
    def vectors(self) -> npt.NDArray[np.float32]:
        """Return every sentence's embedding as float32 (NaN rows without one); for tests."""
        out = np.full((self.size, self.store.dim), np.nan, dtype=np.float32)
        have = self.row_of >= 0
        out[have] = self.store.vectors(self.row_of[have])
        return out

    def _sentences_of(self, refs: Ids) -> Ids:
        """Return the sentence of each ref, -1 for rows of articles this corpus does not have."""
        ids = np.full(refs.size, -1, dtype=np.int64)
        numbers, local = refs >> SHIFT, refs & ((1 << SHIFT) - 1)
        with self._lock:
            for number in np.unique(numbers).tolist():
                of_row = self._sentence_of_row.get(number)
                if of_row is None:
                    continue
                where = (numbers == number) & (local < of_row.size)
                ids[where] = of_row[local[where]]
        return ids


class Seen:
    """What one question has read so far: sentences' cosines and rows, each looked up by id."""

    def __init__(self) -> None:
        self._parts: list[tuple[Ids, Floats | npt.NDArray[np.float32]]] = []

    def add_cosines(self, ids: Ids, cosines: Floats) -> None:
        """Keep some sentences' cosines with the question."""
        self._add(ids, cosines)

    def add_rows(self, ids: Ids, rows: npt.NDArray[np.float32]) -> None:
        """Keep some sentences' vectors (rows), read ahead of the question's own."""
        self._add(ids, rows)

    def _add(self, ids: Ids, values: Floats | npt.NDArray[np.float32]) -> None:
        if ids.size:
            order = np.argsort(ids, kind="stable")
            self._parts.append((ids[order], values[order]))

    def fill(self, out: Floats, ids: Ids, vector: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """Write into out the cosine of each of ids held here; return which ones were."""
        done = np.zeros(ids.size, dtype=np.bool_)
        for known, values in self._parts:
            at = np.minimum(np.searchsorted(known, ids), known.size - 1)
            hit = ~done & (known[at] == ids)
            if hit.any():
                found = values[at[hit]]
                out[hit] = found @ vector if found.ndim == 2 else found
                done |= hit
        return done


@dataclass(frozen=True)
class QuestionMeaning:
    """One question against a SemanticIndex: nearest sentences, similarities, the floor.

    It keeps what it read (the searched sentences' cosines, rows read ahead), so
    that a sentence's row is read once per question.
    """

    index: SemanticIndex
    question: str
    seen: Seen = field(default_factory=Seen, compare=False, repr=False)

    def read_ahead(self, ids: Ids) -> None:
        """Read the vectors of sentences whose cosine will be asked, while the question embeds."""
        self.seen.add_rows(*self.index.rows_of(ids))

    def nearest(self, k: int) -> tuple[Ids, Floats]:
        """Return up to k embedded sentences nearest the question, and their cosine."""
        ids, cosines = self.index.rescored(self.question, k)
        self.seen.add_cosines(ids, cosines)
        return ids[:k], cosines[:k]

    def similarity(self, ids: Ids) -> Floats:
        """Return the cosine with each sentence; NaN for those without an embedding."""
        return self.index.similarity(self.question, ids, self.seen)

    def floor(self) -> float:
        """Return the lowest cosine among a fixed spread of sentences."""
        return self.index.floor(self.question)
