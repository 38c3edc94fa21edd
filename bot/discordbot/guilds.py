"""Per-server settings: guilds.toml written by the operator, changes made by admins in Discord.

``guilds.toml`` (beside ``.env``, or at ``GUILDS_FILE``) holds one table per server::

    guilds_without_corpus = "default"   # or "none": unlisted servers get no articles

    [guild.123456789012345678]
    corpus = "articles/team-a"          # relative to this file
    allowed_channels = [111, 222]       # answer only here (and in threads under them)
    ask_channels = [333]                # every message here is a question
    k = 3                               # passages per answer
    cooldown_questions = 5
    cooldown_seconds = 30
    private = false                     # /ask answers only the asker by default
    store_questions = false             # keep question text for /qa gaps
    retention_days = 30
    dm_articles = false                 # members may pick these articles in DMs
    pinned = ["corpus", "k"]            # these beat what admins set with /qa settings

Admins' changes (``/qa channels``, ``/qa settings``) are kept in the state database and beat
the file, except for the settings the operator pinned. DMs use the default corpus and the
``.env`` settings, or (with ``DM_SERVER_ARTICLES``) the articles of a server the user is a
member of that set ``dm_articles``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.discordbot.routing import Policy
from bot.settings import Settings, SettingsError

# What an admin may change in Discord (and the operator may pin), and its type.
EDITABLE: Mapping[str, type] = {
    "allowed_channels": list,
    "ask_channels": list,
    "k": int,
    "cooldown_questions": int,
    "cooldown_seconds": float,
    "private": bool,
    "store_questions": bool,
    "retention_days": int,
    "dm_articles": bool,
}
_FILE_ONLY = frozenset({"corpus", "pinned"})
DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class GuildConfig:
    """Everything that decides how the bot answers in one server (or in DMs: guild_id None)."""

    guild_id: int | None
    corpus: Path | None  # None: this server has no articles
    allowed_channels: frozenset[int] = frozenset()
    ask_channels: frozenset[int] = frozenset()
    k: int = 3
    cooldown_questions: int = 5
    cooldown_seconds: float = 30.0
    private: bool = False
    store_questions: bool = False
    retention_days: int = DEFAULT_RETENTION_DAYS
    dm_articles: bool = False  # members may pick these articles in DMs (DM_SERVER_ARTICLES)
    pinned: frozenset[str] = frozenset()
    allow_dms: bool = True
    message_content_intent: bool = False

    @property
    def policy(self) -> Policy:
        """Return where the bot answers in this server."""
        return Policy(
            allowed_channel_ids=self.allowed_channels,
            ask_channel_ids=self.ask_channels,
            allow_dms=self.allow_dms,
            message_content_intent=self.message_content_intent,
        )

    def with_values(self, values: Mapping[str, Any]) -> GuildConfig:
        """Return this config with admin-set values applied, except pinned ones."""
        changes: dict[str, Any] = {}
        for name, value in values.items():
            if name in self.pinned or name not in EDITABLE:
                continue
            changes[name] = frozenset(int(v) for v in value) if EDITABLE[name] is list else value
        return replace(self, **changes)


@dataclass(frozen=True)
class GuildsFile:
    """What guilds.toml says: per-server values and what unlisted servers answer from."""

    path: Path | None = None
    unlisted_use_default: bool = True
    guilds: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)

    def corpus_folders(self) -> list[Path]:
        """Return every folder a listed server answers from."""
        return [Path(v["corpus"]) for v in self.guilds.values() if v.get("corpus")]


def _fail(path: Path, what: str) -> SettingsError:
    return SettingsError(f"{path}: {what}")


def _check_value(path: Path, guild: str, name: str, value: Any) -> Any:
    kind = EDITABLE.get(name)
    where = f"[guild.{guild}] {name}"
    if name == "corpus":
        if not isinstance(value, str) or not value.strip():
            raise _fail(path, f'{where} must be a folder name in quotes, or "none".')
        return None if value.strip().lower() == "none" else (path.parent / value).resolve()
    if name == "pinned":
        if not isinstance(value, list) or not all(v in EDITABLE or v == "corpus" for v in value):
            names = ", ".join(["corpus", *EDITABLE])
            raise _fail(path, f"{where} must list settings among: {names}.")
        return frozenset(value)
    if kind is None:
        known = ", ".join(["corpus", "pinned", *EDITABLE])
        raise _fail(path, f"{where} is not a setting; known: {known}.")
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, int) and v > 0 for v in value):
            raise _fail(path, f"{where} must be a list of channel ids, like [123, 456].")
        return frozenset(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise _fail(path, f"{where} must be true or false.")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise _fail(path, f"{where} must be a number of seconds, 0 or more.")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(path, f"{where} must be a whole number, 0 or more.")
    if name == "k" and not 1 <= value <= 10:
        raise _fail(path, f"{where} must be between 1 and 10.")
    return value


def read_guilds_file(path: Path | None) -> GuildsFile:
    """Read and check guilds.toml; a missing file means every server uses the defaults."""
    if path is None or not path.is_file():
        return GuildsFile(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"is not valid TOML ({exc}).") from None
    unlisted = data.get("guilds_without_corpus", "default")
    if unlisted not in ("default", "none"):
        raise _fail(path, 'guilds_without_corpus must be "default" or "none".')
    tables = data.get("guild", {})
    if not isinstance(tables, dict):
        raise _fail(path, "[guild.<server id>] tables are expected.")
    guilds: dict[int, dict[str, Any]] = {}
    for key, table in tables.items():
        if not str(key).isdigit() or not isinstance(table, dict):
            raise _fail(path, f"[guild.{key}] must be named by a numeric server id.")
        guilds[int(key)] = {name: _check_value(path, key, name, v) for name, v in table.items()}
    return GuildsFile(path, unlisted == "default", guilds)


def guilds_file_path(settings: Settings) -> Path:
    """Return GUILDS_FILE, or guilds.toml beside the .env file (or in the working folder)."""
    if settings.guilds_file is not None:
        return settings.guilds_file
    folder = settings.env_file.parent if settings.env_file is not None else Path()
    return folder / "guilds.toml"


class GuildDirectory:
    """Resolve each server's settings: .env defaults, then guilds.toml, then admins' changes."""

    def __init__(self, settings: Settings, file: GuildsFile | None = None) -> None:
        self.settings = settings
        self.file = file if file is not None else read_guilds_file(guilds_file_path(settings))
        self.default_corpus = settings.corpus_dir.resolve()

    def base(self, guild_id: int | None) -> GuildConfig:
        """Return a server's settings before admins' changes (DMs: guild_id None)."""
        s = self.settings
        listed = self.file.guilds.get(guild_id, {}) if guild_id is not None else {}
        if "corpus" in listed:
            corpus = listed["corpus"]
        elif guild_id is None or self.file.unlisted_use_default:
            corpus = self.default_corpus
        else:
            corpus = None
        config = GuildConfig(
            guild_id=guild_id,
            corpus=corpus,
            allowed_channels=s.allowed_channel_ids,
            ask_channels=s.ask_channel_ids,
            k=s.answer_k,
            cooldown_questions=s.cooldown_questions,
            cooldown_seconds=s.cooldown_seconds,
            allow_dms=s.allow_dms,
            message_content_intent=s.message_content_intent,
        )
        values = {name: v for name, v in listed.items() if name not in _FILE_ONLY}
        config = replace(config, **values)
        return replace(config, pinned=listed.get("pinned", frozenset()))

    def resolve(self, guild_id: int | None, overrides: Mapping[str, Any]) -> GuildConfig:
        """Return a server's settings with admins' changes applied where not pinned."""
        config = self.base(guild_id)
        return config.with_values(overrides) if guild_id is not None else config
