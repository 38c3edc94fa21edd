"""Alias files and acronyms learned from the text."""

from pathlib import Path

import pytest

from bot.answer.query import build_query
from bot.errors import AliasFileError
from bot.index.aliases import (
    MAX_GROUPS_PER_PHRASE,
    MAX_NAMES_PER_GROUP,
    build_aliases,
    defined_acronyms,
    load_alias_file,
)
from bot.live import LiveEngine


def test_acronyms_defined_in_the_text_are_learned() -> None:
    groups = defined_acronyms(
        [
            "members of the Association of Southeast Asian Nations (ASEAN) met.",
            "The United Nations Security Council (UNSC) slapped sanctions.",
            "He said so. (Yonhap News)",
            "in a report (PDF) today",
        ]
    )
    assert [g.names for g in groups] == [
        ("Association of Southeast Asian Nations", "ASEAN"),
        ("United Nations Security Council", "UNSC"),
    ]


def test_alias_phrases_are_found_longest_first() -> None:
    aliases = build_aliases(Path(__file__).parents[2] / "corpus", [])
    found = aliases.find(["the", "north", "korean", "leader"])
    assert found[0][:2] == (0, 2)
    assert found[0][2].canonical == "North Korea"


def test_a_learned_acronym_that_is_a_word_names_only_words_written_in_capitals(
    tmp_path: Path,
) -> None:
    # "TIME" and "H.O.W." defined by some article made every "time" and "how" of a
    # question an alias, scored apart over its own postings (the 1M p99 answers).
    (tmp_path / "aliases.toml").write_text('[aliases]\n"United States" = ["US"]\n')
    texts = [
        "Top Industrial Managers for Europe (TIME) met.",
        "the Holston Ordnance Works (H.O.W.) plant",
        "members of the Association of Southeast Asian Nations (ASEAN) met.",
    ]
    aliases = build_aliases(tmp_path, texts)

    def named(question: str) -> list[str]:
        return build_query(question, aliases).expansions

    assert named("How much time did the managers need?") == []
    assert named("what does TIME say?") == ["Top Industrial Managers for Europe"]
    assert named("how big is the HOW plant?") == ["Holston Ordnance Works"]
    # A long form names its group however it is written.
    long_form = build_query("what did top industrial managers for europe say?", aliases)
    assert [c.label for c in long_form.concepts if len(c.names) == 2] == [
        "top industrial managers for europe"
    ]
    # "asean" in small letters still matches the text's "ASEAN" as a word, not its long form.
    assert named("why is asean meeting?") == []
    assert named("why is ASEAN meeting?") == ["Association of Southeast Asian Nations"]
    # A name of the alias file matches however it is written, but not as a stop word.
    assert named("what does the US say?") == ["United States"]
    assert named("what do the united states say?") == []  # the canonical name: nothing to add
    assert named("when did us forces leave?") == []
    # In a question all in capitals, capitals say nothing.
    assert named("WHEN DID THE TIME PANEL MEET?") == []


def test_broken_alias_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "aliases.toml"
    path.write_text('[aliases]\n"North Korea" = ["NK"\n')
    with pytest.raises(AliasFileError, match=r"aliases.toml, line 2: Unclosed array"):
        load_alias_file(path)
    path.write_text('[aliases]\n"A" = ["x"]\n"North Korea" = 3\n')
    with pytest.raises(AliasFileError, match=r"aliases.toml, line 3: the value of 'North Korea'"):
        load_alias_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('aliases = "oops"\n', r'line 1: "aliases" must be a table of names, not the str \'oops\''),
        (
            "[aliases]\nNK = 3\n",
            r"line 2: the value of 'NK' must be a list of names, not the int 3",
        ),
        ("[aliases]\nA = ['x']\nNK = [1, 'x']\n", r"line 3: the value of 'NK' must be a list"),
        (
            "[aliases.NK]\nx = 1\n",
            r"line 1: the value of 'NK' must be a list of names, not a table",
        ),
        ("[aliases]\nNK = " + repr(["x"] * 100) + "\n", r"line 2: 'NK' has 101 names, over the 64"),
        ("[aliases]\nNK = ['" + "x" * 300 + "']\n", r"line 2: a name of 'NK' is 300 characters"),
        ("[aliases]\nNK = ['\xff']\n", None),
    ],
)
def test_alias_files_of_the_wrong_shape_name_the_file_and_line(
    tmp_path: Path, text: str, message: str | None
) -> None:
    path = tmp_path / "aliases.toml"
    if message is None:
        path.write_bytes(text.encode("latin-1"))  # not UTF-8
        message = r"not UTF-8 text \(bad byte at offset 17\)"
    else:
        path.write_text(text)
    with pytest.raises(AliasFileError, match=rf"aliases.toml(, |: ){message}") as info:
        load_alias_file(path)
    assert "\n" not in str(info.value)


def test_an_alias_file_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "aliases.toml").mkdir()
    with pytest.raises(AliasFileError, match="is a folder, not a regular file"):
        build_aliases(tmp_path, [])


def test_many_groups_sharing_a_name_do_not_blow_up_a_question(tmp_path: Path) -> None:
    # 5,000 groups sharing "NK" made one question take 49-151 s: every group was expanded.
    lines = ["[aliases]", '"North Korea" = ["NK", "DPRK"]']
    lines += [f'"group {i}" = ["NK", "name {i}", "other {i}"]' for i in range(5000)]
    (tmp_path / "aliases.toml").write_text("\n".join(lines) + "\n")
    aliases = build_aliases(tmp_path, [])
    query = build_query("why is NK courting ASEAN?", aliases)
    names = sum(len(concept.names) for concept in query.concepts)
    assert names <= MAX_GROUPS_PER_PHRASE * MAX_NAMES_PER_GROUP + 10
    assert query.expansions[0] == "North Korea"  # the first group in the file still counts
    # One concept for the phrase, with the names of its first MAX_GROUPS_PER_PHRASE groups.
    ((_, _, group),) = aliases.find(["nk"])
    assert group.canonical == "North Korea"
    assert group.names[:3] == ("North Korea", "NK", "DPRK")
    assert len(group.names) == 3 + 3 * (MAX_GROUPS_PER_PHRASE - 1)  # NK once
    assert sum(c.label == "NK" for c in query.concepts) == 1


def test_a_reload_with_a_wrong_alias_file_says_so_and_keeps_answering(tmp_path: Path) -> None:
    # aliases = "oops" crashed the CLI and silently killed the REPL's folder watcher.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seed = Path(__file__).parents[2] / "corpus"
    for name in ("yonhap-nk-asean-sanctions.txt", "aliases.toml"):
        (corpus / name).write_bytes((seed / name).read_bytes())
    live = LiveEngine(corpus, index_dir=tmp_path / "index")
    assert live.answer("why is NK courting ASEAN?").passages
    (corpus / "aliases.toml").write_text('aliases = "oops"\n')
    result = live.reload()
    assert result.ok
    (line,) = [p for p in result.problems if "alias" in p]
    assert line.startswith("ignored the alias file: ") and "aliases.toml, line 1: " in line
    assert live.answer("why is North Korea courting ASEAN?").passages
    live.wait_saved(30)
