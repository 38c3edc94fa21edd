"""The evaluation runner on small synthetic fixtures: scoring, follow-ups, SQuAD format."""

from __future__ import annotations

import json
from pathlib import Path

from bot.evaluation.datasets import GoldAnswer, load_eval_file
from bot.evaluation.metrics import is_hit, span_f1, span_holds
from bot.evaluation.runner import evaluate

ARTICLE = """Harbour town gets a new bridge

The council of Harbour Town opened a new bridge over the river on Monday.

The bridge cost 12 million euros and took three years to build.

The mayor, Ana Lopes, said the bridge would cut traffic in the old town.

Critics said the money should have gone to schools.
"""


def _write(folder: Path, name: str, records: list[dict[str, object]]) -> Path:
    path = folder / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_text_rule() -> None:
    gold = (GoldAnswer("12 million euros", "The bridge cost 12 million euros to build."),)
    assert is_hit("The bridge cost 12 million euros to build.", gold)
    assert is_hit("It opened. The bridge cost 12 million euros to build. Done.", gold)
    assert not is_hit("Schools got 12 million euros from a council fund.", gold)


def test_repo_format_with_follow_ups_and_kinds(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bridge.txt").write_text(ARTICLE, encoding="utf-8")
    cost = "The bridge cost 12 million euros and took three years to build."
    mayor = "The mayor, Ana Lopes, said the bridge would cut traffic in the old town."
    path = _write(
        tmp_path,
        "q.jsonl",
        [
            {"id": "1", "question": "how much did the bridge cost?", "gold_sentences": [cost]},
            {"id": "2", "question": "who is the mayor?", "gold_sentences": [mayor]},
            {
                "id": "3",
                "previous": "how much did the bridge cost?",
                "question": "and how long did it take?",
                "gold_sentences": [cost],
            },
            {"id": "4", "question": "Who won the football cup?", "kind": "off-topic"},
            {
                "id": "5",
                "question": "What is the population of Harbour Town?",
                "kind": "missing-content",
            },
        ],
    )
    eval_set = load_eval_file(path)
    assert eval_set.questions[2].previous == "how much did the bridge cost?"
    report = evaluate(eval_set, corpus)
    scores = report.scores.as_dict()
    assert scores["answerable"] == 3
    assert scores["hit@1"] == 1.0, [(m.question.question, m.top) for m in report.misses]
    assert report.declined_by_kind == {"off-topic": (1, 1), "missing-content": (1, 1)}


def test_squad_format(tmp_path: Path) -> None:
    paragraphs = [
        "The river Vale runs through Harbour Town. It floods most winters.",
        "A bridge over the Vale opened in 2021. It cost 12 million euros.",
    ]
    sentences = [[0, 0, 41], [0, 42, 65], [1, 0, 38], [1, 39, 64]]
    assert paragraphs[1][39:64] == "It cost 12 million euros."
    _write(
        tmp_path,
        "articles.jsonl",
        [{"article_id": "Vale", "title": "Vale", "paragraphs": paragraphs, "sentences": sentences}],
    )
    path = _write(
        tmp_path,
        "questions.jsonl",
        [
            {
                "qid": "q1",
                "article_id": "Vale",
                "question": "When did the bridge over the Vale open?",
                "answers": [
                    {"text": "2021", "paragraph": 1, "answer_start": 33, "sentence_ids": [2]}
                ],
            }
        ],
    )
    report = evaluate(load_eval_file(path), None)
    scores = report.scores.as_dict()
    assert scores["hit@1"] == 1.0
    # The one span marked is the year, judged beside its length and the gold answer's.
    assert scores["span_holds_gold"] == scores["hit1_with_span"] == 1
    assert scores["span_mean_chars"] == scores["gold_mean_chars"] == 4.0
    assert scores["span_f1_of_hit1"] == scores["span_exact_of_hit1"] == 1.0


def test_span_f1_reads_words_as_squads_scorer_does() -> None:
    text = "The Legislative Council (the upper house) meets in Melbourne."
    gold = (GoldAnswer("the Legislative Council", text),)
    council = (text.index("Legislative"), text.index(" ("))
    # Case, punctuation and articles aside, the words are the gold answer's.
    assert span_f1(text, (council,), gold) == (1.0, True)
    # "Council (the upper house)": 1 of its 3 words is right and 1 of the answer's 2 is
    # found, so precision 1/3, recall 1/2, F1 0.4; it overlaps the answer all the same.
    wider = (text.index("Council"), text.index(" meets"))
    f1, exact = span_f1(text, (wider,), gold)
    assert round(f1, 3) == 0.4 and not exact
    assert span_holds(text, (wider,), gold)
    assert span_f1(text, (), gold) == (0.0, False)
    assert span_f1(text, (council,), (GoldAnswer("Melbourne", text),)) == (0.0, False)
