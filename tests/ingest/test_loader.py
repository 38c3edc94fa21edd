"""Loading a corpus folder: cleaning, metadata, citation ids and bad files."""

from pathlib import Path

import pytest

from bot.errors import CorpusError
from bot.ingest.loader import article_keys, load_corpus

CORPUS = Path(__file__).parents[2] / "corpus"


def test_seed_article_is_cleaned_and_cited() -> None:
    corpus = load_corpus(CORPUS)
    assert corpus.problems == []
    (article,) = corpus.articles
    assert (
        article.title == "N. Korea striving for closer ties with ASEAN to weaken sanctions: gov't"
    )
    assert article.source == "Yonhap News"
    texts = [s.text for s in article.sentences]
    assert "Back To Top" not in texts
    assert not any("Yonhap" in t for t in texts)
    assert texts[-1].endswith('as reported," he said.')
    citations = [s.citation for s in article.sentences]
    assert citations[:5] == ["0.1", "1.1", "2.1", "3.1", "3.2"]
    assert citations[-1] == "13.1"
    assert article.body_sentence_count == 16
    by_citation = {s.citation: s for s in article.sentences}
    assert by_citation["9.2"].text.startswith("The insider said all countries")
    assert (by_citation["9.2"].paragraph, by_citation["9.2"].number) == (9, 2)


def test_same_corpus_gives_same_ids(tmp_path: Path) -> None:
    first = [s.citation for s in load_corpus(CORPUS).sentences]
    second = [s.citation for s in load_corpus(CORPUS).sentences]
    assert first == second


def test_several_articles_get_prefixed_citations_and_bad_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "b-story.txt").write_text("Headline B\n\nBody of B is here. Second one.\n")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "a-story.md").write_text(
        "---\ntitle: Front matter title\nsource: Example Wire\nurl: https://example.org/a\n"
        "date: 2013-11-28\n---\n# Front matter title\n\nThe body sentence.\n"
    )
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait.".encode("latin-1"))
    (tmp_path / "notes.csv").write_text("ignored,file\n")
    corpus = load_corpus(tmp_path)
    assert [a.path for a in corpus.articles] == ["b-story.txt", "nested/a-story.md"]
    b, a = corpus.articles
    assert b.title == "Headline B"
    assert [s.citation for s in b.sentences] == ["b-story:0.1", "b-story:1.1", "b-story:1.2"]
    assert (a.title, a.source, a.url, a.date) == (
        "Front matter title",
        "Example Wire",
        "https://example.org/a",
        "2013-11-28",
    )
    assert [s.text for s in a.sentences] == ["Front matter title", "The body sentence."]
    assert sorted(corpus.problems) == [
        "skipped binary.txt: the file looks binary, not text",
        "skipped empty.txt: the file is empty",
        "skipped latin1.txt: the file is not UTF-8 text (bad byte at offset 3)",
    ]


def test_missing_and_empty_folders_fail_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match=r"holds no \.txt or \.md files"):
        load_corpus(tmp_path)
    (tmp_path / "blank.txt").write_text("\n\n   \n")
    with pytest.raises(CorpusError, match="none usable") as info:
        load_corpus(tmp_path)
    assert info.value.problems == ["skipped blank.txt: the file is empty"]


def test_symlink_outside_the_corpus_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret\n\nThis must not be indexed.\n")
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    (corpus_dir / "real.txt").write_text("Title\n\nA real sentence.\n")
    (corpus_dir / "link.txt").symlink_to(outside)
    corpus = load_corpus(corpus_dir)
    assert [a.path for a in corpus.articles] == ["real.txt"]


def test_article_keys_are_short_unique_and_stable() -> None:
    keys = article_keys(["x/Very Long Article Name About Many Things.txt", "a.txt", "y/a.md"])
    assert keys == {
        "a.txt": "a",
        "x/Very Long Article Name About Many Things.txt": "very-long-article-name",
        "y/a.md": "a-2",
    }


def test_link_to_another_article_inside_the_corpus_is_not_indexed_twice(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("Title\n\nA real sentence.\n")
    (tmp_path / "again.txt").symlink_to(tmp_path / "real.txt")
    (tmp_path / ".drafts").mkdir()
    (tmp_path / ".drafts" / "draft.txt").write_text(
        "Draft\n\nA hidden draft, published by a link.\n"
    )
    (tmp_path / "published.txt").symlink_to(tmp_path / ".drafts" / "draft.txt")
    corpus = load_corpus(tmp_path)
    assert [a.path for a in corpus.articles] == ["published.txt", "real.txt"]
    assert corpus.problems == ["skipped again.txt: it links to real.txt, which is indexed already"]


def test_utf16_files_get_a_reason_a_person_can_act_on(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Title\n\nGood text.\n")
    (tmp_path / "wide.txt").write_bytes("Title\n\nWide text.\n".encode("utf-16"))
    corpus = load_corpus(tmp_path)
    assert corpus.problems == ["skipped wide.txt: the file is UTF-16 text: save it as UTF-8"]


def test_file_names_with_control_characters_stay_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Title\n\nGood text.\n")
    (tmp_path / "bad\nERROR forged.txt").write_text("")
    corpus = load_corpus(tmp_path)
    assert corpus.problems == ["skipped bad\\nERROR forged.txt: the file is empty"]


def test_keys_of_non_latin_and_accented_names_are_distinct_and_typeable() -> None:
    keys = article_keys(["café-news.txt", "북한.txt", "일본.txt"])
    assert keys["café-news.txt"] == "cafe-news"
    assert keys["북한.txt"] != keys["일본.txt"]
    assert all(key.isascii() and key for key in keys.values())


def test_sentences_without_a_letter_or_digit_are_left_out_without_renumbering(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.txt").write_text(
        "Headline\n\nThe envoy arrived.\n\n!!! He left.\n\n- - - -\n\nThe talks ended.\n"
    )
    (tmp_path / "dots.txt").write_text("." * 5000)
    corpus = load_corpus(tmp_path)
    (article,) = corpus.articles
    assert [(s.citation, s.text) for s in article.sentences] == [
        ("a:0.1", "Headline"),
        ("a:1.1", "The envoy arrived."),
        ("a:2.2", "He left."),
        ("a:4.1", "The talks ended."),
    ]
    assert corpus.problems == ["skipped dots.txt: the file has no sentences (no letters or digits)"]
