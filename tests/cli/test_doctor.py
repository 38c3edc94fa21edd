"""`qabot doctor` and `qabot info`: each problem named, with what to do; exit 1 on a failure."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.conftest import CORPUS, Cli, Run

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAw.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789"


def verdicts(stdout: str) -> dict[str, tuple[str, str]]:
    """Map each check's name to its status and the rest of its line."""
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"^(ok|warn|FAIL)\s+(\S+)\s+(.*)$", line)
        if match:
            found[match.group(2)] = (match.group(1), match.group(3))
    return found


def test_a_healthy_installation_passes(cli: Cli, tmp_path: Path) -> None:
    result = cli("doctor", "--corpus", str(CORPUS), env={"INDEX_DIR": str(tmp_path / "index")})
    assert result.code == 0, result.stdout
    checks = verdicts(result.stdout)
    assert list(checks) == [
        "python",
        "packages",
        "settings",
        "token",
        ".env",
        "intents",
        "corpus",
        "index",
        "model",
        "state",
    ]
    assert checks["corpus"] == ("ok", f"{CORPUS} holds 1 article file.")
    assert checks["token"][0] == "warn"  # not set: only `qabot run` needs it
    assert checks["model"] == ("ok", "Off (SEMANTIC=false): answers are ranked by word match.")
    assert result.stdout.endswith("All 10 checks passed.\n")


def test_corpus_missing(cli: Cli, tmp_path: Path) -> None:
    result = cli("doctor", "--quick", "--corpus", str(tmp_path / "nope"))
    assert result.code == 1
    assert verdicts(result.stdout)["corpus"] == (
        "FAIL",
        f"The corpus folder {tmp_path / 'nope'} does not exist. Set CORPUS_DIR (or pass "
        "--corpus) to a folder of .txt or .md articles.",
    )
    assert result.stdout.endswith("1 of 8 checks failed.\n")


def test_index_corrupted(cli: Cli, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert cli("ask", "--corpus", str(CORPUS), "hi", env={"INDEX_DIR": str(index)}).code == 0
    (docs,) = index.glob("*/gen-*/docs.npy")
    data = bytearray(docs.read_bytes())
    data[-1] ^= 0xFF
    docs.write_bytes(bytes(data))
    result = cli("doctor", "--corpus", str(CORPUS), env={"INDEX_DIR": str(index)})
    assert result.code == 1
    status, verdict = verdicts(result.stdout)["index"]
    assert status == "FAIL"
    assert verdict.startswith("The saved index is damaged: ")
    assert "docs.npy" in verdict
    assert verdict.endswith(
        "Nothing is lost: the next start rebuilds it from the articles (`qabot info` does it now)."
    )


def test_model_file_missing(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "models" / "none"
    result = cli(
        "doctor", "--corpus", str(CORPUS), env={"SEMANTIC": "true", "EMBEDDING_MODEL": str(missing)}
    )
    assert result.code == 1
    status, verdict = verdicts(result.stdout)["model"]
    assert status == "FAIL"
    assert verdict.startswith(f"EMBEDDING_MODEL={missing}: semantic ranking is off:")
    assert "Set EMBEDDING_MODEL to a model folder" in verdict


def test_env_file_world_readable(cli: Cli, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={TOKEN}\n")
    env_file.chmod(0o644)
    result = cli("doctor", "--quick", "--corpus", str(CORPUS))
    assert result.code == 1
    assert verdicts(result.stdout)[".env"] == (
        "FAIL",
        ".env holds DISCORD_TOKEN but other users can read it (mode rw-r--r--): run "
        "`chmod 600 .env`.",
    )
    assert verdicts(result.stdout)["token"][0] == "ok"
    assert TOKEN not in result.stdout + result.stderr
    env_file.chmod(0o600)
    assert cli("doctor", "--quick", "--corpus", str(CORPUS)).code == 0


def test_token_malformed_is_named_and_the_other_checks_still_run(cli: Cli) -> None:
    result = cli(
        "doctor", "--quick", "--corpus", str(CORPUS), env={"DISCORD_TOKEN": "abc", "ANSWER_K": "0"}
    )
    assert result.code == 1
    checks = verdicts(result.stdout)
    assert checks["token"] == (
        "FAIL",
        "DISCORD_TOKEN does not look like a Discord bot token (three parts separated by dots): "
        "copy it again from the developer portal, without quotes or spaces.",
    )
    assert checks["settings"] == ("FAIL", "ANSWER_K must be at least 1, not 0.")
    assert checks["corpus"][0] == "ok"
    assert result.stdout.endswith("2 of 8 checks failed.\n")


def test_message_content_intent_without_ask_channels(cli: Cli) -> None:
    result = cli(
        "doctor", "--quick", "--corpus", str(CORPUS), env={"MESSAGE_CONTENT_INTENT": "true"}
    )
    assert result.code == 1
    status, verdict = verdicts(result.stdout)["intents"]
    assert status == "FAIL"
    assert verdict.startswith("MESSAGE_CONTENT_INTENT is true but no ask channel is set")
    assert verdict.endswith("Set ask channels, or MESSAGE_CONTENT_INTENT=false.")
    both = cli(
        "doctor",
        "--quick",
        "--corpus",
        str(CORPUS),
        env={"MESSAGE_CONTENT_INTENT": "true", "ASK_CHANNEL_IDS": "123"},
    )
    assert verdicts(both.stdout)["intents"][0] == "ok"
    only_channels = cli("doctor", "--quick", "--corpus", str(CORPUS), env={"ASK_CHANNEL_IDS": "1"})
    assert verdicts(only_channels.stdout)["intents"][0] == "FAIL"


def test_the_health_check_command_is_quick_and_real(qabot: Run, tmp_path: Path) -> None:
    """The Dockerfile's HEALTHCHECK runs exactly this; it fails when the corpus is gone."""
    healthy = qabot("doctor", "--quick", env={"CORPUS_DIR": str(CORPUS)})
    assert healthy.returncode == 0, healthy.stdout
    assert healthy.stdout.endswith("All 8 checks passed.\n")
    broken = qabot("doctor", "--quick", env={"CORPUS_DIR": str(tmp_path / "gone")})
    assert broken.returncode == 1


def test_info_says_where_each_setting_came_from(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\nANSWER_K=4\n")
    (tmp_path / ".env").chmod(0o600)
    index = tmp_path / "index"
    result = cli("info", "--corpus", str(CORPUS), env={"INDEX_DIR": str(index), "ANSWER_K": "2"})
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == f"corpus        {CORPUS}"
    assert lines[2] == "articles      1 article, 17 sentences"
    assert re.fullmatch(
        rf"index         {index}/corpus-[0-9a-f]{{12}} \(\d+\.\d KB, saved \d+ seconds? ago\)",
        lines[3],
    )
    assert lines[4] == "ranking       lexical: word match only (SEMANTIC=false)"
    assert lines[5] == f".env          {tmp_path / '.env'}"
    settings = {line.split()[0]: line for line in lines[7:]}
    assert settings["DISCORD_TOKEN"].endswith("set (not shown)  (.env)")
    assert settings["ANSWER_K"].endswith("2  (the environment (overrides the value in .env))")
    assert settings["CORPUS_DIR"].endswith("corpus  (default)")
    assert TOKEN not in result.stdout


def test_ask_channels_in_guilds_toml_or_set_by_an_admin_count(cli: Cli, tmp_path: Path) -> None:
    from bot.discordbot.state import StateDB

    env = {"MESSAGE_CONTENT_INTENT": "true"}
    (tmp_path / "guilds.toml").write_text("[guild.123]\nask_channels = [333]\n")
    in_file = cli("doctor", "--quick", "--corpus", str(CORPUS), env=env)
    assert verdicts(in_file.stdout)["intents"][0] == "ok"
    (tmp_path / "guilds.toml").unlink()
    db = StateDB(tmp_path / "state.sqlite3")
    db.set_guild_values(123, {"ask_channels": [444]}, by=1)
    db.close()
    by_admin = cli(
        "doctor",
        "--quick",
        "--corpus",
        str(CORPUS),
        env={**env, "STATE_DB": str(tmp_path / "state.sqlite3")},
    )
    assert verdicts(by_admin.stdout)["intents"][0] == "ok"
