"""Settings: typed, from the environment and .env, failing with a sentence."""

from pathlib import Path

import pytest

from bot.settings import Secret, SettingsError, load_settings

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
