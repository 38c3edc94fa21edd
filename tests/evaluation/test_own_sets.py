"""The repo's own question sets are well formed: gold sentences of the corpus, both halves used."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation.datasets import load_eval_file, split_of
from bot.ingest.loader import load_corpus

REPO = Path(__file__).parents[2]
# The held-out sets are the lead's and are never read here.
OWN_SETS = (
    "seed_questions.jsonl",
    "followup_questions.jsonl",
    "answerability_questions.jsonl",
    "wording_questions.jsonl",
)


@pytest.fixture(scope="module")
def corpus_sentences() -> set[str]:
    return {s.text for a in load_corpus(REPO / "corpus").articles for s in a.sentences}


@pytest.mark.parametrize("name", OWN_SETS)
def test_gold_sentences_are_corpus_sentences(name: str, corpus_sentences: set[str]) -> None:
    questions = load_eval_file(REPO / "eval" / name).questions
    strays = [
        (q.qid, a.gold_sentence)
        for q in questions
        for a in q.answers
        if a.gold_sentence not in corpus_sentences
    ]
    assert questions and not strays


@pytest.mark.parametrize("name", OWN_SETS)
def test_ids_are_unique(name: str) -> None:
    ids = [q.qid for q in load_eval_file(REPO / "eval" / name).questions]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("name", "answerable", "unanswerable"),
    [("wording_questions.jsonl", 60, 30), ("news_questions.jsonl", 70, 25)],
)
def test_wording_sets_spread_over_both_halves(
    name: str, answerable: int, unanswerable: int
) -> None:
    questions = load_eval_file(REPO / "eval" / name).questions
    halves = {(q.answerable, split_of(q)) for q in questions}
    assert halves == {(True, "train"), (True, "report"), (False, "train"), (False, "report")}
    assert sum(q.answerable for q in questions) >= answerable
    assert sum(not q.answerable for q in questions) >= unanswerable


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("news_questions.jsonl", "news"),
        ("followup2_news_questions.jsonl", "followup2"),
        ("followup3_questions.jsonl", "followup3"),
    ],
)
def test_article_set_golds_are_sentences_of_its_articles(name: str, folder: str) -> None:
    sentences = {s.text for a in load_corpus(REPO / "eval" / folder).articles for s in a.sentences}
    questions = load_eval_file(REPO / "eval" / name).questions
    strays = [
        (q.qid, a.gold_sentence)
        for q in questions
        for a in q.answers
        if a.gold_sentence not in sentences
    ]
    ids = [q.qid for q in questions]
    assert questions and not strays
    assert len(ids) == len(set(ids))
