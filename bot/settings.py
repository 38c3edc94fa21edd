"""Settings from the environment and a .env file, in one typed object loaded once."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

# Three dot-separated base64url parts, as Discord issues bot tokens.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
# The same shape anywhere in a value, long enough not to match a version or a host name.
_TOKEN_INSIDE = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


class Secret:
    """A string that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value, for the one place that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Settings:
    """Every setting of the program; see .env.example for what each one means."""

    discord_token: Secret | None = None
    discord_guild_id: int | None = None
    corpus_dir: Path = Path("corpus")
    answer_k: int = 3
    cooldown_questions: int = 5
    cooldown_seconds: float = 30.0
    allowed_channel_ids: frozenset[int] = frozenset()
    ask_channel_ids: frozenset[int] = frozenset()
    allow_dms: bool = True
    message_content_intent: bool = False
    log_level: str = "INFO"
    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()
    index_dir: Path | None = None
    watch_corpus: bool = True
    semantic: bool = True
    embedding_model: str = "all-MiniLM-L6-v2"
    torch_threads: int = 1
    guilds_file: Path | None = None
    state_db: Path | None = None
    redis_url: Secret | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    env_file: Path | None = field(default=None, compare=False)  # the .env file that was read

    def describe_sources(self) -> list[str]:
        """Say where each setting that was set came from, never showing the token."""
        return [f"{key} from {origin}" for key, origin in sorted(self.sources.items())]


_NOT_SETTINGS = frozenset({"sources", "env_file"})


def _shown(raw: str) -> str:
    """Quote a refused value for an error message, unless it looks like a bot token."""
    if _TOKEN_INSIDE.search(raw):
        # Pasting the token on the wrong line must not print it in the error.
        return "a value that looks like a bot token (is DISCORD_TOKEN on the wrong line?)"
    return repr(raw)


def env_file_warning(settings: Settings) -> str | None:
    """Say so if the .env file that holds the token can be read by other users."""
    path = settings.env_file
    if path is None or os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode
        holds_token = bool(dotenv_values(path).get("DISCORD_TOKEN"))
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


def _int(key: str, raw: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{key} must be a whole number, not {_shown(raw)}.") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{key} must be at least {minimum}, not {value}.")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{key} must be at most {maximum}, not {value}.")
    return value


def _float(key: str, raw: str, *, minimum: float = 0.0) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{key} must be a number, not {_shown(raw)}.") from None
    if value < minimum or value != value:
        raise SettingsError(f"{key} must be at least {minimum}, not {_shown(raw)}.")
    return value


def _bool(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{key} must be true or false, not {_shown(raw)}.")


def _ids(key: str, raw: str) -> list[int]:
    parts = [p for p in re.split(r"[,\s]+", raw.strip()) if p]
    ids = []
    for part in parts:
        if not part.isdigit():
            raise SettingsError(
                f"{key} must be a comma-separated list of numeric Discord ids, not {_shown(raw)}."
            )
        ids.append(int(part))
    return ids


def check_token(raw: str) -> Secret:
    """Check that a token has the shape of a Discord bot token."""
    token = raw.strip()
    if token.lower().startswith("bot "):
        raise SettingsError("DISCORD_TOKEN must be the bare token, without the 'Bot ' prefix.")
    if not token:
        raise SettingsError(
            "DISCORD_TOKEN is empty: copy the bot token from the Discord developer portal "
            "(Bot > Reset Token) into .env."
        )
    if not _TOKEN_SHAPE.match(token):
        raise SettingsError(
            "DISCORD_TOKEN does not look like a Discord bot token (three parts separated by "
            "dots): copy it again from the developer portal, without quotes or spaces."
        )
    return Secret(token)


def load_settings(
    env_file: Path | str | None = ".env",
    environ: Mapping[str, str] | None = None,
    *,
    require_token: bool = False,
) -> Settings:
    """Read settings from the environment, then a .env file; the environment wins."""
    environ = os.environ if environ is None else environ
    file_values: dict[str, str] = {}
    read_file: Path | None = None
    if env_file is not None and Path(env_file).is_file():
        file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        read_file = Path(env_file)
    merged: dict[str, str] = {}
    sources: dict[str, str] = {}
    keys = {f.name.upper() for f in fields(Settings) if f.name not in _NOT_SETTINGS}
    for key in keys:
        in_env = key in environ and environ[key] != ""
        if in_env:
            merged[key] = environ[key]
            overridden = " (overrides the value in .env)" if key in file_values else ""
            sources[key] = f"the environment{overridden}"
        elif key in file_values and file_values[key] != "":
            merged[key] = file_values[key]
            sources[key] = f"{env_file}"
    values: dict[str, Any] = {"sources": sources, "env_file": read_file}
    get = merged.get
    if (raw := get("DISCORD_TOKEN")) is not None:
        values["discord_token"] = check_token(raw)
    elif require_token:
        raise SettingsError(
            "DISCORD_TOKEN is not set: put DISCORD_TOKEN=<your bot token> in .env "
            "(see .env.example) or in the environment."
        )
    if (raw := get("DISCORD_GUILD_ID")) is not None:
        values["discord_guild_id"] = _int("DISCORD_GUILD_ID", raw, minimum=1)
    if (raw := get("CORPUS_DIR")) is not None:
        values["corpus_dir"] = Path(raw).expanduser()
    if (raw := get("ANSWER_K")) is not None:
        values["answer_k"] = _int("ANSWER_K", raw, minimum=1, maximum=10)
    if (raw := get("COOLDOWN_QUESTIONS")) is not None:
        values["cooldown_questions"] = _int("COOLDOWN_QUESTIONS", raw, minimum=0)
    if (raw := get("COOLDOWN_SECONDS")) is not None:
        values["cooldown_seconds"] = _float("COOLDOWN_SECONDS", raw)
    if (raw := get("ALLOWED_CHANNEL_IDS")) is not None:
        values["allowed_channel_ids"] = frozenset(_ids("ALLOWED_CHANNEL_IDS", raw))
    if (raw := get("ASK_CHANNEL_IDS")) is not None:
        values["ask_channel_ids"] = frozenset(_ids("ASK_CHANNEL_IDS", raw))
    if (raw := get("ALLOW_DMS")) is not None:
        values["allow_dms"] = _bool("ALLOW_DMS", raw)
    if (raw := get("MESSAGE_CONTENT_INTENT")) is not None:
        values["message_content_intent"] = _bool("MESSAGE_CONTENT_INTENT", raw)
    if (raw := get("LOG_LEVEL")) is not None:
        level = raw.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(
                "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
                f"not {_shown(raw)}."
            )
        values["log_level"] = level
    if (raw := get("SHARD_COUNT")) is not None:
        values["shard_count"] = _int("SHARD_COUNT", raw, minimum=1)
    if (raw := get("SHARD_IDS")) is not None:
        shard_ids = tuple(_ids("SHARD_IDS", raw))
        count = values.get("shard_count")
        if count is None:
            raise SettingsError("SHARD_IDS needs SHARD_COUNT: say how many shards there are.")
        if any(i >= count for i in shard_ids):
            raise SettingsError(
                f"SHARD_IDS must be below SHARD_COUNT ({count}), not {_shown(raw)}."
            )
        values["shard_ids"] = shard_ids
    if (raw := get("INDEX_DIR")) is not None:
        values["index_dir"] = Path(raw).expanduser()
    if (raw := get("WATCH_CORPUS")) is not None:
        values["watch_corpus"] = _bool("WATCH_CORPUS", raw)
    if (raw := get("SEMANTIC")) is not None:
        values["semantic"] = _bool("SEMANTIC", raw)
    if (raw := get("EMBEDDING_MODEL")) is not None:
        values["embedding_model"] = raw.strip()
    if (raw := get("TORCH_THREADS")) is not None:
        values["torch_threads"] = _int("TORCH_THREADS", raw, minimum=1, maximum=256)
    if (raw := get("GUILDS_FILE")) is not None:
        values["guilds_file"] = Path(raw.strip()).expanduser()
    if (raw := get("STATE_DB")) is not None:
        values["state_db"] = Path(raw.strip()).expanduser()
    if (raw := get("REDIS_URL")) is not None:
        url = raw.strip()
        if not re.match(r"^(redis|rediss|unix)://", url):
            raise SettingsError(
                "REDIS_URL must look like redis://host:6379/0 (or rediss:// or unix://), "
                f"not {_shown(raw)}."
            )
        values["redis_url"] = Secret(url)  # it may hold a password
    return Settings(**values)
