"""Run an evaluation set through the answer engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.answer.engine import DEFAULT_K, Engine, RankingConfig, Reading
from bot.answer.followup import FollowUp
from bot.answer.models import Answer
from bot.embedding.loader import SemanticModel
from bot.evaluation.datasets import EvalQuestion, EvalSet, split_of
from bot.evaluation.metrics import (
    Calibration,
    Scores,
    is_hit,
    marked_chars,
    span_f1,
    span_holds,
)
from bot.index.aliases import build_aliases

RANK_DEPTH = 10


@dataclass
class Miss:
    """An answerable question whose first hit was not at rank 1, for reading."""

    question: EvalQuestion
    rank: int | None
    top: str


@dataclass
class EvalReport:
    """The scores of one run, with the misses kept for inspection."""

    name: str
    scores: Scores = field(default_factory=Scores)
    misses: list[Miss] = field(default_factory=list)
    false_answers: list[EvalQuestion] = field(default_factory=list)
    # Unanswerable questions by kind ("off-topic", "missing-content"...): (declined, asked).
    declined_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
    # Follow-ups read with their previous question, and those read alone.
    read_with: int = 0


def first_hit(passages: list[str], question: EvalQuestion) -> int | None:
    """Return the 1-based rank of the first passage that hits, within the rank depth."""
    for rank, text in enumerate(passages[:RANK_DEPTH], start=1):
        if is_hit(text, question.answers):
            return rank
    return None


def evaluate(
    eval_set: EvalSet,
    corpus_dir: Path | None,
    config: RankingConfig | None = None,
    engine_factory: Callable[[EvalSet, str, Path | None], Engine] | None = None,
    semantic: SemanticModel | None = None,
    split: str = "all",
) -> EvalReport:
    """Ask every question of the set and score the ranked passages.

    A question with a ``previous`` one is a follow-up: the previous question is asked
    first (as a front end would show it, with the default number of passages) and the
    follow-up is read in the context of that answer.
    """
    factory = engine_factory or (lambda s, c, d: _engine_for(s, c, d, config, semantic))
    engines: dict[str, Engine] = {}
    report = EvalReport(name=eval_set.name)
    for question in eval_set.questions:
        if split != "all" and split_of(question) != split:
            continue
        if question.corpus_id not in engines:
            engines[question.corpus_id] = factory(eval_set, question.corpus_id, corpus_dir)
            embeddings = engines[question.corpus_id].semantic
            if embeddings is not None:
                embeddings.wait()  # quality is measured with every sentence embedded
        engine = engines[question.corpus_id]
        answer = ask(engine, question)
        texts = [p.text for p in answer.passages]
        report.read_with += answer.read_with is not None
        label = answer.confidence_label if answer.answered else "declined"
        if question.answerable:
            rank = first_hit(texts, question)
            report.scores.add_answerable(rank, declined=not answer.answered)
            report.calibration.add(answer.confidence or 0.0, label or "low", True, rank == 1)
            if rank == 1 and any(a.text for a in question.answers):
                top = answer.passages[0]
                report.scores.hit1_with_text += 1
                if top.answer_spans:
                    report.scores.spans_marked += 1
                    report.scores.spans_hold += span_holds(
                        top.text, top.answer_spans, question.answers
                    )
                    report.scores.span_chars += marked_chars(top.answer_spans)
                    report.scores.gold_chars += min(len(a.text or "") for a in question.answers)
                    f1, exact = span_f1(top.text, top.answer_spans, question.answers)
                    report.scores.span_f1 += f1
                    report.scores.span_exact += exact
            if rank != 1:
                report.misses.append(Miss(question, rank, texts[0] if texts else answer.message))
        else:
            report.scores.add_unanswerable(declined=not answer.answered)
            report.calibration.add(answer.confidence or 0.0, label or "low", False, False)
            declined, asked = report.declined_by_kind.get(question.kind or "unanswerable", (0, 0))
            report.declined_by_kind[question.kind or "unanswerable"] = (
                declined + (not answer.answered),
                asked + 1,
            )
            if answer.answered:
                report.false_answers.append(question)
    return report


def ask(engine: Engine, question: EvalQuestion) -> Answer:
    """Ask one question, after its previous question when it is a follow-up."""
    return assess(engine, question)[0]


def assess(engine: Engine, question: EvalQuestion) -> tuple[Answer, Reading | None]:
    """Ask one question as :func:`ask` does; also return the reading the engine chose."""
    if question.previous is None:
        return engine.assess(question.question, k=RANK_DEPTH)
    shown = engine.answer(question.previous, k=DEFAULT_K)
    context = FollowUp.from_answer(shown) if shown.answered else question.previous
    return engine.assess(question.question, k=RANK_DEPTH, previous=context)


def engines_for(
    eval_set: EvalSet, corpus_dir: Path | None, semantic: SemanticModel | None = None
) -> Callable[[EvalQuestion], Engine]:
    """Return a function giving the engine a question of the set is asked against (cached)."""
    engines: dict[str, Engine] = {}

    def engine(question: EvalQuestion) -> Engine:
        if question.corpus_id not in engines:
            made = _engine_for(eval_set, question.corpus_id, corpus_dir, None, semantic)
            if made.semantic is not None:
                made.semantic.wait()  # fitted on what the engine sees with every embedding
            engines[question.corpus_id] = made
        return engines[question.corpus_id]

    return engine


def _engine_for(
    eval_set: EvalSet,
    corpus_id: str,
    corpus_dir: Path | None,
    config: RankingConfig | None,
    semantic: SemanticModel | None = None,
) -> Engine:
    if corpus_id in eval_set.corpora:
        corpus = eval_set.corpora[corpus_id]
        aliases = build_aliases(None, (s.text for s in corpus.sentences))
        return Engine(corpus, aliases, config, semantic)
    if corpus_dir is None:
        raise ValueError("this question set needs a corpus folder (--corpus)")
    return Engine.from_folder(corpus_dir, config, semantic)
