"""Read evaluation question sets: the repo's own format and the SQuAD-derived split."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.ingest.loader import Corpus, parse_article


@dataclass(frozen=True)
class GoldAnswer:
    """One acceptable answer: a string that must appear and the gold sentence holding it."""

    text: str | None  # None: any passage overlapping the gold sentence counts
    gold_sentence: str


@dataclass(frozen=True)
class EvalQuestion:
    """A question, the corpus it is asked against, and what counts as a hit."""

    qid: str
    question: str
    corpus_id: str
    answers: tuple[GoldAnswer, ...] = ()
    kind: str = ""
    previous: str | None = None  # the question before, for follow-up sets

    @property
    def answerable(self) -> bool:
        """Tell whether the question has gold answers."""
        return bool(self.answers)


@dataclass
class EvalSet:
    """Questions plus the corpora they are asked against (None: the --corpus folder)."""

    name: str
    questions: list[EvalQuestion] = field(default_factory=list)
    corpora: dict[str, Corpus] = field(default_factory=dict)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}, line {number}: expected a JSON object")
            yield number, record


def load_eval_file(path: Path) -> EvalSet:
    """Load a question file; SQuAD-style files bring their articles from articles.jsonl."""
    records = list(_read_jsonl(path))
    if records and "article_id" in records[0][1]:
        return _load_squad(path, [r for _, r in records])
    eval_set = EvalSet(name=path.name)
    for number, record in records:
        question = str(record.get("question", "")).strip()
        if not question:
            raise ValueError(f"{path}, line {number}: missing 'question'")
        golds = record.get("gold_sentences", [])
        if not isinstance(golds, list):
            raise ValueError(f"{path}, line {number}: 'gold_sentences' must be a list")
        answers = tuple(GoldAnswer(None, str(g)) for g in golds)
        previous = record.get("previous")
        eval_set.questions.append(
            EvalQuestion(
                qid=str(record.get("id", number)),
                question=question,
                corpus_id="",
                answers=answers,
                kind=str(record.get("kind", "")),
                previous=str(previous) if previous else None,
            )
        )
    return eval_set


def _load_squad(path: Path, records: list[dict[str, object]]) -> EvalSet:
    articles_path = path.parent / "articles.jsonl"
    if not articles_path.is_file():
        raise ValueError(f"{path}: SQuAD-style questions need {articles_path} beside them")
    eval_set = EvalSet(name=f"{path.parent.name}/{path.name}")
    reference: dict[str, list[str]] = {}
    for _, article in _read_jsonl(articles_path):
        article_id = str(article["article_id"])
        paragraphs = [str(p) for p in article["paragraphs"]]  # type: ignore[attr-defined]
        title = str(article.get("title", article_id))
        text = title + "\n\n" + "\n\n".join(paragraphs)
        parsed = parse_article(
            text, rel_path=f"{article_id}.txt", key=article_id, prefix_citations=False
        )
        corpus = Corpus(root=articles_path, articles=[parsed])
        eval_set.corpora[article_id] = corpus
        reference[article_id] = [
            paragraphs[p][start:end].strip()
            for p, start, end in article["sentences"]  # type: ignore[attr-defined]
        ]
    for record in records:
        article_id = str(record["article_id"])
        sentences = reference[article_id]
        answers: list[GoldAnswer] = []
        for answer in record.get("answers", []):  # type: ignore[attr-defined]
            gold = " ".join(sentences[i] for i in answer["sentence_ids"])
            answers.append(GoldAnswer(str(answer["text"]), gold))
        eval_set.questions.append(
            EvalQuestion(
                qid=str(record["qid"]),
                question=str(record["question"]),
                corpus_id=article_id,
                answers=tuple(answers),
            )
        )
    return eval_set


SPLITS = ("train", "report", "all")
SPLIT_SALT = 0


def split_of(question: EvalQuestion) -> str:
    """Say whether a question is for fitting ("train") or for reporting ("report").

    SQuAD questions split by article (a whole article is on one side, so no
    question is scored on an article the model was fitted on); the repo's own
    questions split by id. The rule is a hash, stable across runs and machines.
    """
    key = question.corpus_id or question.qid
    # The salt balances squad-dev's ten articles: five a side, two of the four with
    # unanswerable questions on each.
    digest = hashlib.sha1(f"{SPLIT_SALT}:{key}".encode()).digest()
    return "report" if digest[0] % 2 else "train"
