"""Turn a reading into the answer a front end shows: passages worth reading, or a plain decline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.answer.answerability import Model
from bot.answer.cues import question_cue
from bot.answer.models import Answer, Passage, Status
from bot.answer.passages import Group, PassageConfig, build_passage, worth_reading
from bot.answer.reading import Reading
from bot.answer.sentences import CorpusSentences
from bot.embedding.index import SemanticIndex
from bot.index.bm25 import BM25Index
from bot.ingest.models import Article


@dataclass(frozen=True)
class Responder:
    """What an answer is made from besides its reading: the corpus, the model, the settings."""

    sentences: CorpusSentences
    index: BM25Index
    model: Model
    config: PassageConfig
    semantic: SemanticIndex | None

    def respond(
        self, text: str, reading: Reading, k: int, offset: int, read_with: str | None
    ) -> Answer:
        """Answer text from a reading with up to k passages from offset, or decline it."""
        probability = round(reading.probability, 4)
        # Read with the previous question, the question refers back: it is on topic.
        nearest = reading.scored.nearest if read_with is None else None
        label = self.model.label(reading.probability, nearest) if reading.groups else None
        notes = (f"read with your previous question: \u201c{read_with}\u201d",) if read_with else ()
        if label is None:
            return Answer(
                question=text,
                status=Status.NOT_FOUND,
                message=not_found_message(self.sentences.articles),
                notes=notes,
                confidence=probability,
                ranking=ranked_by(reading, reading.groups[:1]),
                read_with=read_with,
            )
        worth = worth_reading(
            reading.groups, reading.query, self.index, self.config, offset + k + 1
        )
        shown = worth[offset : offset + k]
        ranking = ranked_by(reading, shown)
        index = self.semantic
        if ranking == "lexical" and index is not None and index.model.failure is None:
            notes = (*notes, *_embedding_note(index))
        return Answer(
            question=text,
            status=Status.ANSWERED,
            passages=self._passages(text, reading, shown),
            has_more=len(worth) > offset + k,
            offset=offset,
            notes=notes,
            confidence=probability,
            confidence_label=label,
            ranking=ranking,
            read_with=read_with,
        )

    def _passages(self, text: str, reading: Reading, shown: Sequence[Group]) -> tuple[Passage, ...]:
        """Make the cited passages of the groups shown, their matches and answering phrases."""
        cue = question_cue(text) or question_cue(reading.query.text)
        sentences = self.sentences
        return tuple(
            build_passage(
                group,
                sentences.sentences,
                sentences.article_of(group.ids[0]),
                reading.query.terms,
                cue,
                text,
            )
            for group in shown
        )


def ranked_by(reading: Reading, shown: Sequence[Group]) -> str:
    """Say "semantic" when meaning ranked every sentence shown, else "lexical"."""
    cosines = reading.scored.similarity
    ids = [i for group in shown for i in group.ids]
    return "semantic" if ids and all(i in cosines for i in ids) else "lexical"


def not_found_message(articles: Sequence[Article]) -> str:
    """Say plainly that the corpus does not answer, and what it does cover."""
    if len(articles) == 1:
        return f"The article doesn't say. It covers: \u201c{articles[0].title}\u201d."
    titles = "; ".join(f"\u201c{a.title}\u201d" for a in articles[:5])
    more = f" and {len(articles) - 5} more" if len(articles) > 5 else ""
    return f"The articles don't say. They cover: {titles}{more}."


def _embedding_note(index: SemanticIndex) -> tuple[str, ...]:
    """Say that word match ranked an answer while sentence embeddings are being computed."""
    if index.complete:
        return ()
    done = index.embedded_count / max(index.size, 1)
    return (f"ranked by word match: sentence embeddings are still being computed ({done:.0%})",)
