"""`qabot repl` driven in-process with scripted input; the transcript is checked exactly."""

from tests.cli.conftest import CORPUS, Cli

SOURCE = (
    "Source: N. Korea striving for closer ties with ASEAN to weaken sanctions: gov't (Yonhap\n"
    "        News)"
)
HINT = (
    'Ask a question about the article in plain words, for example "why is North Korea\n'
    'courting ASEAN?" or "when was the third nuclear test?". Answers quote the article\'s\n'
    "sentences with citations like [3.1] (paragraph 3, sentence 1)."
)


def test_scripted_session_transcript(cli: Cli) -> None:
    script = "\n".join(
        [
            ":k 1",
            "how old is Kim?",
            ":sources",
            "",
            ":bogus",
            "How do I bake sourdough bread?",
            ":k 99",
            ":k 2",
            ":help",
            ":quit",
            "this line is never read",
        ]
    )
    result = cli("repl", "--corpus", str(CORPUS), stdin=script + "\n")
    assert result.code == 0
    assert result.stderr == ""
    expected = "\n".join(
        [
            "Asking 1 article, 17 sentences. Type :help for commands, :quit to leave.",
            "qabot> Showing up to 1 passage per answer.",
            "qabot> [7.1] Kim, who is said to be around 30, took control of the country following the sudden",
            "      death of his father Kim Jong-il in late 2011.",
            SOURCE,
            "(more passages match: :k N shows more)",
            "qabot> yonhap-nk-asean: N. Korea striving for closer ties with ASEAN to weaken sanctions: gov't",
            "    — Yonhap News (17 sentences)",
            f"qabot> {HINT}",
            "qabot> Unknown command ':bogus'. Type :help for commands.",
            "qabot> The article doesn't say. It covers: “N. Korea striving for closer ties with ASEAN to",
            "weaken sanctions: gov't”.",
            "qabot> Usage: :k N, with N from 1 to 10.",
            "qabot> Showing up to 2 passages per answer.",
            "qabot> Type a question and press Enter. Commands:",
            "  :help      show this help",
            "  :sources   list the indexed articles",
            "  :k N       show up to N passages per answer (now 2)",
            "  :reload    read the corpus folder again (changed, added and removed articles)",
            "  :new       start afresh: the next question is not read with the previous one",
            "  :quit      leave (Ctrl-D works too)",
            "qabot> ",
        ]
    )
    assert result.stdout == expected


def test_end_of_input_leaves_cleanly(cli: Cli) -> None:
    result = cli("repl", "--corpus", str(CORPUS), stdin=":k 3\n")
    assert result.code == 0
    assert result.stdout.endswith("qabot> Showing up to 3 passages per answer.\nqabot> \n")
