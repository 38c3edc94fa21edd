"""Sentence terms stored with the index: computed once, reread after a restart, redone per article."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.answer.answerability import Evidence, features
from bot.answer.engine import Engine, question_terms
from bot.index.terms import hash_terms, term_hash, terms_kind
from bot.index.tokenize import terms
from bot.live import LiveEngine

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "yonhap-nk-asean-sanctions.txt"


def write_corpus(folder: Path) -> None:
    """Four articles cut from the real Yonhap story."""
    paragraphs = [p for p in CORPUS.read_text(encoding="utf-8").split("\n\n") if len(p) > 60]
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(4):
        body = "\n\n".join(paragraphs[n * 3 : n * 3 + 3])
        (folder / f"part-{n}.txt").write_text(
            f"Part {n} of the story\n\n{body}\n", encoding="utf-8"
        )


def ready(engine: Engine) -> Engine:
    engine.serve()
    assert engine.terms.ready.wait(60)
    return engine


def assert_terms_match_the_text(engine: Engine) -> None:
    for i in range(len(engine.sentences)):
        expected = hash_terms(terms(engine.sentences[i].text))
        assert engine.terms.hashes(i).tolist() == expected.tolist()


def test_a_build_stores_every_sentence_s_terms_once(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_corpus(folder)
    engine = ready(Engine.from_folder(folder, index_dir=index))
    # The build hands over the terms it tokenised for the index: none is tokenised again.
    assert engine.terms.computed == 0
    assert_terms_match_the_text(engine)
    assert engine.terms.computed == 0  # answers read them, never tokenise
    stored = list(index.rglob("MANIFEST"))
    assert any(terms_kind().split(":")[0] in str(p.parent.name) for p in stored)


def test_a_restart_reads_the_stored_terms(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_corpus(folder)
    ready(Engine.from_folder(folder, index_dir=index))
    again = ready(Engine.from_folder(folder, index_dir=index))
    assert again.terms.computed == 0
    assert_terms_match_the_text(again)
    assert again.terms.computed == 0


def test_a_changed_article_computes_only_its_terms(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_corpus(folder)
    live = LiveEngine(folder, index_dir=index)
    ready(live.engine)
    changed = folder / "part-2.txt"
    changed.write_text(
        "Part 2, rewritten\n\nThe envoys met again in Hanoi on Friday. Talks went on late.\n",
        encoding="utf-8",
    )
    kind_folder = next(p.parent for p in index.rglob("MANIFEST") if "terms" in p.parent.name)
    before = sum(p.stat().st_size for p in kind_folder.glob("seg-*.rows"))
    result = live.reload()
    assert result.ok, result.message
    engine = ready(live.engine)
    article = next(a for a in engine.articles if a.path == "part-2.txt")
    assert engine.terms.computed == 0  # the reload's parse gave them
    # Only the changed article's terms were added: 8 bytes a term.
    added = sum(p.stat().st_size for p in kind_folder.glob("seg-*.rows")) - before
    assert added == 8 * sum(len(terms(s.text)) for s in article.sentences) > 0
    assert_terms_match_the_text(engine)
    answer = engine.answer("Where did the envoys meet on Friday?")
    assert answer.answered and "Hanoi" in answer.passages[0].text


def test_a_one_shot_engine_never_opens_the_stored_terms(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_corpus(folder)
    ready(Engine.from_folder(folder, index_dir=index))
    again = Engine.from_folder(folder, index_dir=index)
    answer = again.answer("Why is North Korea courting ASEAN?")
    assert answer.answered and "ASEAN" in answer.passages[0].text
    # Nothing said it serves: the passages were tokenised, the stored rows left shut.
    assert not again.terms.ready.is_set()
    assert again.terms.computed > 0


def test_a_serving_live_engine_opens_each_reload_s_terms_before_the_swap(
    tmp_path: Path,
) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_corpus(folder)
    live = LiveEngine(folder, index_dir=index)
    live.serve()
    assert live.engine.terms.ready.wait(60)
    (folder / "part-1.txt").write_text(
        "Part 1, rewritten\n\nThe envoys met again in Hanoi on Friday.\n", encoding="utf-8"
    )
    before = live.engine
    result = live.reload()
    assert result.ok, result.message
    assert live.engine is not before
    assert live.engine.terms.ready.is_set()  # no wait: opened on the reload thread
    assert live.engine.terms.computed == 0
    assert_terms_match_the_text(live.engine)


def test_an_engine_without_an_index_folder_keeps_them_in_memory(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_corpus(folder)
    engine = ready(Engine.from_folder(folder))
    assert engine.terms.computed == 0
    assert_terms_match_the_text(engine)
    assert engine.terms.computed == 0


def test_tokens_keep_the_question_s_terms_in_place_and_blank_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_corpus(folder)
    engine = ready(Engine.from_folder(folder))
    real = terms(engine.sentences[3].text) + terms(engine.sentences[4].text)
    wanted = {real[0], real[-1], "nowhere"}
    tokens = engine.terms.tokens([3, 4], wanted)
    assert len(tokens) == len(real)
    assert tokens == [t if t in wanted else "" for t in real]
    assert term_hash("korea") == term_hash("korea") != term_hash("korean")


@pytest.mark.parametrize(
    "question",
    [
        "Why is North Korea courting ASEAN?",
        "When did the unification ministry say Pyongyang stepped up efforts?",
        "Who has the North maintained cordial ties with?",
        "How many nations are members of ASEAN?",
        "What is the capital of Laos?",
    ],
)
def test_features_from_stored_terms_equal_those_from_tokenising(
    tmp_path: Path, question: str
) -> None:
    folder = tmp_path / "articles"
    write_corpus(folder)
    engine = ready(Engine.from_folder(folder))
    _, reading = engine.assess(question)
    assert reading is not None and reading.groups
    tokenised = [
        [t for i in group.ids for t in terms(engine.sentences[i].text)]
        for group in reading.groups[:3]
    ]
    evidence = reading.evidence
    assert [len(t) for t in evidence.tokens] == [len(t) for t in tokenised]
    wanted = question_terms(reading.query)
    assert [list(t) for t in evidence.tokens] == [
        [t if t in wanted else "" for t in group] for group in tokenised
    ]
    full = Evidence(evidence.texts, tokenised, evidence.scores, evidence.top_raw)
    assert reading.values == features(reading.query, full, engine.index)


def test_many_articles_are_stored_as_one_segment_and_then_reused(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    paragraphs = [p for p in CORPUS.read_text(encoding="utf-8").split("\n\n") if len(p) > 60]
    folder.mkdir()
    for n in range(90):  # more than are appended one by one
        body = paragraphs[n % len(paragraphs)]
        (folder / f"brief-{n:03d}.txt").write_text(f"Brief {n}\n\n{body}\n", encoding="utf-8")
    engine = ready(Engine.from_folder(folder, index_dir=index))
    assert engine.terms.computed == 0
    assert_terms_match_the_text(engine)
    kind_folder = next(p.parent for p in index.rglob("MANIFEST") if "terms" in p.parent.name)
    assert len(list(kind_folder.glob("seg-*.rows"))) == 1
    again = ready(Engine.from_folder(folder, index_dir=index))
    assert again.terms.computed == 0
    assert_terms_match_the_text(again)
    (folder / "brief-007.txt").write_text("Brief 7\n\nA new line. And another.\n", encoding="utf-8")
    changed = ready(Engine.from_folder(folder, index_dir=index))
    assert changed.terms.computed == 0
    assert_terms_match_the_text(changed)


def test_terms_lost_from_the_store_are_tokenised_again_once(tmp_path: Path) -> None:
    folder, index = tmp_path / "articles", tmp_path / "index"
    write_corpus(folder)
    ready(Engine.from_folder(folder, index_dir=index))
    kind_folder = next(p.parent for p in index.rglob("MANIFEST") if "terms" in p.parent.name)
    shutil.rmtree(kind_folder)
    again = ready(Engine.from_folder(folder, index_dir=index))
    assert again.terms.computed == len(again.sentences)  # nothing handed over: tokenised
    assert_terms_match_the_text(again)
    third = ready(Engine.from_folder(folder, index_dir=index))
    assert third.terms.computed == 0
