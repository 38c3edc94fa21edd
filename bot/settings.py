"""Settings from the environment and a .env file, each declared once in the Settings class.

Every setting is one field of :class:`Settings`: its name (the field's name in
capitals is the variable to set), its type (the annotation), its default, the
sentence that documents it and the function that checks a raw value, as in
python-discord/bot's ``constants.py``. :data:`SETTINGS` is that table, read
from the class; ``.env.example`` is generated from it (``python -m
bot.settings > .env.example``) and a test keeps the two in step. To add a
setting, add a field with :func:`setting` and regenerate ``.env.example``.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bot.errors import TOKEN_INSIDE
from bot.errors import SettingsError as SettingsError
from bot.setting_values import (
    Parse,
    choice,
    feed_urls,
    flag,
    folder,
    id_set,
    id_tuple,
    number,
    redis_address,
    text,
    token,
    whole,
)
from bot.setting_values import Secret as Secret


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str  # the variable to set, e.g. ANSWER_K
    attr: str  # the Settings attribute, e.g. answer_k
    type: str  # the annotation, e.g. "int | None"
    default: Any
    doc: str  # one or two sentences for .env.example and `qabot info`
    parse: Parse
    example: str  # the value .env.example shows


def setting(default: Any, doc: str, parse: Parse, *, example: str | None = None) -> Any:
    """Declare a setting: its default, what it means, how a raw value is checked."""
    return field(
        default=default,
        metadata={"doc": doc, "parse": parse, "example": example},
    )


@dataclass(frozen=True)
class Settings:
    """Every setting of the program; the field name in capitals is the variable to set."""

    discord_token: Secret | None = setting(
        None,
        "Required for `qabot run`: the bot token from "
        "https://discord.com/developers/applications (Bot > Reset Token).",
        token,
    )
    discord_guild_id: int | None = setting(
        None,
        "Optional: a server (guild) id to register slash commands to instantly, for development.",
        whole(minimum=1),
    )
    corpus_dir: Path = setting(
        Path("corpus"), "Folder of .txt/.md articles to answer from.", folder
    )
    answer_k: int = setting(3, "Passages per answer (1-10).", whole(1, 10))
    cooldown_questions: int = setting(
        5,
        "Per-user cooldown: at most COOLDOWN_QUESTIONS questions per COOLDOWN_SECONDS "
        "(0 questions = no limit).",
        whole(minimum=0),
    )
    cooldown_seconds: float = setting(30.0, "", number(0.0), example="30")
    allowed_channel_ids: frozenset[int] = setting(
        frozenset(),
        "Optional comma-separated channel ids: answer only in these channels (and their threads).",
        id_set,
    )
    ask_channel_ids: frozenset[int] = setting(
        frozenset(),
        "Optional comma-separated channel ids where every message is a question "
        "(needs MESSAGE_CONTENT_INTENT).",
        id_set,
    )
    allow_dms: bool = setting(True, "Answer direct messages (true/false).", flag)
    message_content_intent: bool = setting(
        False,
        "Ask Discord for the privileged message-content intent "
        "(enable it in the developer portal first).",
        flag,
    )
    log_level: str = setting(
        "INFO",
        "DEBUG, INFO, WARNING or ERROR. Question text is logged only at DEBUG.",
        choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    )
    shard_count: int | None = setting(
        None,
        "Optional gateway sharding: total shards, and the shard ids this process runs "
        "(comma-separated).",
        whole(minimum=1),
    )
    shard_ids: tuple[int, ...] = setting((), "", id_tuple)
    index_dir: Path | None = setting(
        None, "Where the persisted index is kept (default: the user's cache directory).", folder
    )
    watch_corpus: bool = setting(
        True, "Re-index automatically when files in CORPUS_DIR change (true/false).", flag
    )
    semantic: bool = setting(
        True,
        "Fuse word match with sentence embeddings (the packaged model) (true/false).",
        flag,
    )
    embedding_model: str = setting(
        "all-MiniLM-L6-v2",
        "Embedding model: all-MiniLM-L6-v2 (packaged), multilingual-e5-small ([e5] extra) "
        "or a folder with model.onnx and tokenizer.json; never downloaded.",
        text,
    )
    torch_threads: int = setting(
        1, "CPU threads per embedding call (corpus embedding runs one per core).", whole(1, 256)
    )
    guilds_file: Path | None = setting(
        None,
        "Optional per-server settings file (default: guilds.toml beside .env): one "
        "[guild.<id>] table each with corpus, allowed/ask channels, k, cooldown, private.",
        folder,
    )
    state_db: Path | None = setting(
        None,
        "Where the bot keeps server settings, votes and unanswered-question counts (SQLite; "
        "default: qabot.sqlite3 in the user's state directory, e.g. ~/.local/state/qabot).",
        folder,
    )
    redis_url: Secret | None = setting(
        None,
        "Optional redis://host:6379/0: share the cooldown and the answers behind the buttons "
        "between the bot's processes (shards).",
        redis_address,
    )
    dm_server_articles: bool = setting(
        False,
        "In DMs, let a member pick a server's articles (/ask server:) where that server "
        "allows it (dm_articles in guilds.toml or /qa settings) (true/false).",
        flag,
    )
    feeds: tuple[str, ...] = setting(
        (),
        "Optional comma-separated RSS/Atom feed addresses whose new articles are saved into "
        "CORPUS_DIR (or list them in feeds.toml beside the articles).",
        feed_urls,
    )
    feed_interval_minutes: float = setting(
        15.0, "How often each feed is polled, in minutes (at least 1).", number(1.0)
    )
    feed_keep_days: float | None = setting(
        None,
        "Optional: delete a feed's saved article this many days after it left the feed "
        "(unset keeps every article).",
        number(0.01),
    )
    feed_timeout_seconds: float = setting(
        20.0, "Seconds before a feed or article request gives up.", number(1.0)
    )
    feed_max_mb: float = setting(
        5.0, "Largest feed or article page accepted, in megabytes.", number(0.01)
    )

    # Not settings: where the values came from, for `qabot info` and the bot's start-up log.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    env_file: Path | None = field(default=None, compare=False)  # the .env file that was read
    warnings: tuple[str, ...] = field(default=(), compare=False)  # one line each, e.g. bad bytes

    def describe_sources(self) -> list[str]:
        """Say where each setting that was set came from, never showing the token."""
        return [f"{key} from {origin}" for key, origin in sorted(self.sources.items())]


def _example(default: Any) -> str:
    if default is None or default == () or default == frozenset():
        return ""
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def _table() -> tuple[Setting, ...]:
    rows = []
    for f in fields(Settings):
        if "parse" not in f.metadata:
            continue
        example = f.metadata["example"]
        rows.append(
            Setting(
                name=f.name.upper(),
                attr=f.name,
                type=str(f.type),
                default=f.default,
                doc=f.metadata["doc"],
                parse=f.metadata["parse"],
                example=_example(f.default) if example is None else example,
            )
        )
    return tuple(rows)


SETTINGS: tuple[Setting, ...] = _table()
SETTING_NAMES = frozenset(s.name for s in SETTINGS)

ENV_EXAMPLE_HEADER = """\
# Copy to .env and fill in. Shell environment variables override this file.
# Never commit .env: it holds your bot token.
# Generated from bot/settings.py: python -m bot.settings > .env.example

"""


def env_example() -> str:
    """Return the text of .env.example: every setting with its doc and default."""
    lines = [ENV_EXAMPLE_HEADER]
    for row in SETTINGS:
        if row.doc:
            lines.append(f"# {row.doc}\n")
        lines.append(f"{row.name}={row.example}\n")
    return "".join(lines)


def read_env_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """Read a .env file's values; bytes that are not UTF-8 cost one warning, not the program."""
    data = path.read_bytes()
    warnings = []
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        content = data.decode("utf-8", errors="replace")
        warnings.append(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "the bad bytes were replaced: save the file as UTF-8."
        )
    from dotenv import dotenv_values  # only when there is a .env file: no cost otherwise

    values = dotenv_values(stream=io.StringIO(content))
    return {k: v for k, v in values.items() if v is not None}, warnings


def env_file_warning(settings: Settings) -> str | None:
    """Say so if the .env file that holds the token can be read by other users."""
    path = settings.env_file
    if path is None or os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode
        holds_token = bool(read_env_file(path)[0].get("DISCORD_TOKEN"))
    except OSError:
        return None
    if not holds_token:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return (
        f"{path} holds DISCORD_TOKEN but other users can read it (mode "
        f"{stat.filemode(mode)[1:]}): run `chmod 600 {path}`."
    )


def _check_together(values: dict[str, Any]) -> None:
    """Refuse settings that are each fine but contradict each other."""
    shard_ids = values.get("shard_ids")
    if shard_ids is not None:
        count = values.get("shard_count")
        if count is None:
            raise SettingsError(
                "SHARD_IDS needs SHARD_COUNT: say how many shards there are.", "SHARD_IDS"
            )
        if any(i >= count for i in shard_ids):
            shown = ", ".join(map(str, shard_ids))
            raise SettingsError(
                f"SHARD_IDS must be below SHARD_COUNT ({count}), not {shown}.", "SHARD_IDS"
            )


def load_settings(
    env_file: Path | str | None = ".env",
    environ: Mapping[str, str] | None = None,
    *,
    require_token: bool = False,
    ignore: frozenset[str] = frozenset(),
) -> Settings:
    """Read settings from the environment, then a .env file; the environment wins.

    Settings named in ignore keep their defaults (`qabot doctor` checks the rest).
    A SettingsError names the variable at fault in its ``setting``.
    """
    environ = os.environ if environ is None else environ
    file_values: dict[str, str] = {}
    warnings: list[str] = []
    read_file: Path | None = None
    if env_file is not None and Path(env_file).is_file():
        read_file = Path(env_file)
        try:
            file_values, warnings = read_env_file(read_file)
        except OSError as exc:
            raise SettingsError(f"{read_file} cannot be read: {exc.strerror}.") from None
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for row in SETTINGS:
        if row.name in ignore:
            continue
        if environ.get(row.name, "") != "":
            raw = environ[row.name]
            overridden = " (overrides the value in .env)" if row.name in file_values else ""
            sources[row.name] = f"the environment{overridden}"
        elif file_values.get(row.name, "") != "":
            raw = file_values[row.name]
            sources[row.name] = f"{env_file}"
        else:
            continue
        if row.name != "DISCORD_TOKEN" and TOKEN_INSIDE.search(raw):
            # A token pasted on the wrong line would be printed, or become a folder name.
            raise SettingsError(
                f"{row.name} holds a value that looks like a bot token: put the token on "
                f"the DISCORD_TOKEN line and give {row.name} its own value.",
                row.name,
            )
        try:
            values[row.attr] = row.parse(row.name, raw)
        except SettingsError as exc:
            exc.setting = row.name
            raise
    if "discord_token" not in values and require_token:
        raise SettingsError(
            "DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in .env "
            "(see .env.example) or in the environment.",
            "DISCORD_TOKEN",
        )
    _check_together(values)
    return Settings(**values, sources=sources, env_file=read_file, warnings=tuple(warnings))


if __name__ == "__main__":
    sys.stdout.write(env_example())
