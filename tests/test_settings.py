"""Settings: typed, from the environment and .env, failing with a sentence."""

from dataclasses import fields
from pathlib import Path

import pytest

from bot.errors import (
    AliasFileError,
    CorpusError,
    QabotError,
    ReadError,
    StoreError,
    redact,
)
from bot.settings import (
    SETTINGS,
    Secret,
    Settings,
    SettingsError,
    env_example,
    env_file_warning,
    load_settings,
)

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAw.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789"


def test_defaults_without_anything(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.env", environ={})
    assert settings.discord_token is None
    assert settings.corpus_dir == Path("corpus")
    assert settings.answer_k == 3
    assert (settings.cooldown_questions, settings.cooldown_seconds) == (5, 30.0)
    assert settings.allow_dms is True
    assert settings.describe_sources() == []


def test_env_file_and_environment_precedence(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={TOKEN}\nANSWER_K=5\nASK_CHANNEL_IDS=1, 2,3\n")
    settings = load_settings(env_file, environ={"ANSWER_K": "2"})
    assert settings.answer_k == 2
    assert settings.ask_channel_ids == frozenset({1, 2, 3})
    assert settings.discord_token == Secret(TOKEN)
    sources = dict(line.split(" from ", 1) for line in settings.describe_sources())
    assert sources["ANSWER_K"] == "the environment (overrides the value in .env)"
    assert sources["DISCORD_TOKEN"] == str(env_file)


def test_token_never_shows_in_repr_or_str(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"DISCORD_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in " ".join(settings.describe_sources())
    assert settings.discord_token is not None
    assert settings.discord_token.reveal() == TOKEN


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "not a token"}, "DISCORD_TOKEN does not look like a Discord bot token"),
        ({"DISCORD_TOKEN": f"Bot {TOKEN}"}, "without the 'Bot ' prefix"),
        ({"DISCORD_TOKEN": TOKEN, "ANSWER_K": "0"}, "ANSWER_K must be at least 1, not 0."),
        ({"DISCORD_TOKEN": TOKEN, "ANSWER_K": "three"}, "ANSWER_K must be a whole number"),
        ({"DISCORD_TOKEN": TOKEN, "ALLOW_DMS": "maybe"}, "ALLOW_DMS must be true or false"),
        ({"DISCORD_TOKEN": TOKEN, "ALLOWED_CHANNEL_IDS": "general"}, "ALLOWED_CHANNEL_IDS must be"),
        ({"DISCORD_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"DISCORD_TOKEN": TOKEN, "SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        (
            {"DISCORD_TOKEN": TOKEN, "SHARD_COUNT": "2", "SHARD_IDS": "2"},
            "must be below SHARD_COUNT",
        ),
        ({"DISCORD_TOKEN": TOKEN, "COOLDOWN_SECONDS": "-1"}, "COOLDOWN_SECONDS must be at least 0"),
    ],
)
def test_bad_settings_fail_with_a_sentence_naming_them(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(None, environ=environ, require_token=True)
    assert TOKEN not in str(info.value)


def test_env_example_is_generated_from_the_settings_table() -> None:
    example = Path(__file__).parents[1] / ".env.example"
    assert example.read_text() == env_example(), (
        "regenerate it: python -m bot.settings > .env.example"
    )
    lines = example.read_text().splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert names == [s.name for s in SETTINGS]
    assert {f.name.upper() for f in fields(Settings)} - set(names) == {
        "SOURCES",
        "ENV_FILE",
        "WARNINGS",
    }


def test_every_setting_is_documented_and_parses_its_own_example() -> None:
    for row in SETTINGS:
        if row.example and row.name != "DISCORD_TOKEN":
            assert row.parse(row.name, row.example) == row.default, row.name
    # A setting without a doc line shares the comment above it (COOLDOWN_SECONDS, SHARD_IDS).
    assert SETTINGS[0].doc and all(row.doc or i > 0 for i, row in enumerate(SETTINGS))


@pytest.mark.parametrize("name", ["CORPUS_DIR", "INDEX_DIR", "EMBEDDING_MODEL", "ANSWER_K"])
def test_a_token_on_the_wrong_line_is_refused_without_printing_it(name: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(None, environ={name: TOKEN})
    assert str(info.value) == (
        f"{name} holds a value that looks like a bot token: put the token on the "
        f"DISCORD_TOKEN line and give {name} its own value."
    )


def test_every_error_message_redacts_a_token() -> None:
    error = CorpusError(f"corpus folder /srv/{TOKEN} does not exist")
    assert str(error) == "corpus folder /srv/[token redacted] does not exist"
    assert redact(f"a {TOKEN} b") == "a [token redacted] b"
    assert redact("version 1.22.3 of example.com") == "version 1.22.3 of example.com"


def test_errors_share_one_root() -> None:
    for error in (SettingsError, CorpusError, ReadError, StoreError, AliasFileError):
        assert issubclass(error, QabotError)
    assert issubclass(SettingsError, ValueError)  # callers that catch ValueError keep working


def test_env_file_with_a_bad_byte_costs_one_warning(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"ANSWER_K=4\n# caf\xe9\nCORPUS_DIR=articles\n")
    settings = load_settings(env_file, environ={})
    assert (settings.answer_k, settings.corpus_dir) == (4, Path("articles"))
    assert settings.warnings == (
        f"{env_file} is not UTF-8 text (byte 0xe9 on line 2); the bad bytes were replaced: "
        "save the file as UTF-8.",
    )


def test_a_bad_byte_inside_the_token_is_a_shape_error_not_a_crash(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"DISCORD_TOKEN=" + TOKEN.encode() + b"\xff\n")
    with pytest.raises(SettingsError, match="does not look like a Discord bot token") as info:
        load_settings(env_file, environ={})
    assert TOKEN not in str(info.value)


def test_env_file_warning_for_a_readable_token_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={TOKEN}\n")
    env_file.chmod(0o644)
    warning = env_file_warning(load_settings(env_file, environ={}))
    assert warning == (
        f"{env_file} holds DISCORD_TOKEN but other users can read it (mode rw-r--r--): "
        f"run `chmod 600 {env_file}`."
    )
    env_file.chmod(0o600)
    assert env_file_warning(load_settings(env_file, environ={})) is None
