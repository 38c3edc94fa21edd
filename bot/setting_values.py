"""Check one setting's raw text and turn it into its value, with a sentence when it is wrong.

Each checker takes (variable name, raw text) and returns the value or raises
SettingsError naming the variable; :mod:`bot.settings` declares which setting
uses which. A secret (the bot token, a Redis address with a password) is a
:class:`Secret`, which never shows itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import TOKEN_INSIDE, SettingsError

# Three dot-separated base64url parts, as Discord issues bot tokens.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

# Turns (variable name, raw text) into the setting's value, or raises SettingsError.
Parse = Callable[[str, str], Any]


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


def _shown(raw: str) -> str:
    """Quote a refused value for an error message, unless it looks like a bot token."""
    if TOKEN_INSIDE.search(raw):
        # Pasting the token on the wrong line must not print it in the error.
        return "a value that looks like a bot token (is DISCORD_TOKEN on the wrong line?)"
    return repr(raw)


def whole(minimum: int | None = None, maximum: int | None = None) -> Parse:
    """Accept a whole number within the bounds."""

    def parse(key: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise SettingsError(f"{key} must be a whole number, not {_shown(raw)}.") from None
        if minimum is not None and value < minimum:
            raise SettingsError(f"{key} must be at least {minimum}, not {value}.")
        if maximum is not None and value > maximum:
            raise SettingsError(f"{key} must be at most {maximum}, not {value}.")
        return value

    return parse


def number(minimum: float = 0.0) -> Parse:
    """Accept a number at least minimum."""

    def parse(key: str, raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise SettingsError(f"{key} must be a number, not {_shown(raw)}.") from None
        if value < minimum or value != value:
            raise SettingsError(f"{key} must be at least {minimum:g}, not {_shown(raw)}.")
        return value

    return parse


def flag(key: str, raw: str) -> bool:
    """Accept true/false, yes/no, on/off or 1/0."""
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{key} must be true or false, not {_shown(raw)}.")


def _id_list(key: str, raw: str) -> list[int]:
    ids = []
    for part in (p for p in re.split(r"[,\s]+", raw.strip()) if p):
        if not part.isdigit():
            raise SettingsError(
                f"{key} must be a comma-separated list of numeric Discord ids, not {_shown(raw)}."
            )
        ids.append(int(part))
    return ids


def id_set(key: str, raw: str) -> frozenset[int]:
    """Accept comma- or space-separated numeric Discord ids."""
    return frozenset(_id_list(key, raw))


def id_tuple(key: str, raw: str) -> tuple[int, ...]:
    """Accept comma- or space-separated numbers, keeping their order."""
    return tuple(_id_list(key, raw))


def folder(key: str, raw: str) -> Path:
    """Accept a path (~ is expanded)."""
    return Path(raw.strip()).expanduser()


def text(key: str, raw: str) -> str:
    """Accept any text, without surrounding spaces."""
    return raw.strip()


def choice(*options: str) -> Parse:
    """Accept one of options, in any case."""

    def parse(key: str, raw: str) -> str:
        value = raw.strip().upper()
        if value not in options:
            listed = ", ".join(options[:-1]) + f" or {options[-1]}"
            raise SettingsError(f"{key} must be one of {listed}, not {_shown(raw)}.")
        return value

    return parse


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


def token(key: str, raw: str) -> Secret:
    return check_token(raw)


def redis_address(key: str, raw: str) -> Secret:
    """Accept a redis://, rediss:// or unix:// address, kept secret (it may hold a password)."""
    url = raw.strip()
    if not re.match(r"^(redis|rediss|unix)://", url):
        raise SettingsError(
            f"{key} must look like redis://host:6379/0 (or rediss:// or unix://), "
            f"not {_shown(raw)}."
        )
    return Secret(url)


def feed_urls(key: str, raw: str) -> tuple[str, ...]:
    """Accept comma-separated http(s) addresses, each once, in order."""
    urls = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    for url in urls:
        if not re.match(r"^https?://[^/\s]+", url):
            raise SettingsError(
                f"{key} must be comma-separated http:// or https:// feed addresses; "
                f"{_shown(url)} is not one."
            )
    return urls
