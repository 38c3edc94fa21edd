"""What a load hands the engine: the Snapshot of a loaded index and the Changes it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.index.aliases import DefinedAcronyms
from bot.index.bm25 import BM25Index
from bot.index.sentences import SentenceTable, StoredCorpus
from bot.index.storage.arrays import ArrayStores, ArticleSlot, SentenceArrays
from bot.index.storage.generation import Generation


@dataclass
class Changes:
    """What a load found changed since the saved index."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reread: int = 0  # files read again (changed stat), whether or not their content changed

    @property
    def any(self) -> bool:
        """Tell whether any article was added, changed or removed."""
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        """Say what changed, in a few words."""
        parts = [
            f"{len(items)} {label}"
            for items, label in (
                (self.added, "added"),
                (self.changed, "changed"),
                (self.removed, "removed"),
            )
            if items
        ]
        return ", ".join(parts) if parts else "no article changed"


@dataclass
class Snapshot:
    """A loaded index: corpus, BM25 index, per-sentence arrays and what the aliases need."""

    root: Path
    generation: Generation
    corpus: StoredCorpus
    index: BM25Index
    changes: Changes
    store_folder: Path | None
    # The per-sentence array stores of the index folder (in memory without one),
    # shared by the snapshots of one IndexStore.
    array_stores: ArrayStores = field(default_factory=lambda: ArrayStores(None), compare=False)

    @property
    def table(self) -> SentenceTable:
        """Return the sentence table."""
        assert self.corpus.view is not None
        return self.corpus.view.table

    @property
    def acronym_key(self) -> tuple[str, ...]:
        """Identify the acronym definitions: same key, same acronym aliases."""
        return tuple(r.digest for r in self.generation.articles if r.acronyms)

    @property
    def acronym_texts(self) -> DefinedAcronyms:
        """Return the sentences that define acronyms, in corpus order (and what they define)."""
        return self.generation.acronyms

    def article_slots(self) -> list[ArticleSlot]:
        """Describe where each article's per-sentence rows go, in corpus order."""
        starts = self.generation.article_starts().tolist()
        return [
            ArticleSlot(position, record.rows_key, starts[position], record.sentences)
            for position, record in enumerate(self.generation.articles)
        ]

    def arrays(self, kind: str) -> SentenceArrays:
        """Open the rows of one kind (e.g. "embedding:<model>"), see bot.index.storage.arrays."""
        return SentenceArrays(self.array_stores.get(kind), self.article_slots(), len(self.table))
