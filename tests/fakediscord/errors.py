"""Discord's JSON error bodies, built the way the real API shapes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# JSON error codes from https://discord.com/developers/docs/topics/opcodes-and-status-codes
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MESSAGE = 10008
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_APPLICATION_COMMAND = 10063
UNKNOWN_INTERACTION = 10062
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
INVALID_FORM_BODY = 50035
INVALID_WEBHOOK_TOKEN = 50027
INVALID_JSON = 50109
ALREADY_ACKNOWLEDGED = 40060
REQUEST_TOO_LARGE = 40005


class DiscordHTTPError(Exception):
    """An error response the fake sends back instead of a success."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        """Capture the HTTP status, JSON body and extra headers of the error."""
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, code: int, message: str) -> DiscordHTTPError:
    """Build a plain Discord error such as `{"message": "Unknown Channel", "code": 10003}`."""
    return DiscordHTTPError(status, {"message": message, "code": code})


def not_found() -> DiscordHTTPError:
    """Build the body Discord uses for routes that do not exist."""
    return error(404, 0, "404: Not Found")


def unauthorized() -> DiscordHTTPError:
    """Build the body Discord uses for a missing or wrong bot token."""
    return error(401, 0, "401: Unauthorized")


def empty_message() -> DiscordHTTPError:
    """Build the error for a message with nothing to show."""
    return error(400, EMPTY_MESSAGE, "Cannot send an empty message")


class FormErrors:
    """Collect nested field errors and render them like Discord's `errors` object."""

    def __init__(self) -> None:
        """Start with no errors."""
        self._tree: dict[str, Any] = {}

    def add(self, path: Iterable[str | int], code: str, message: str) -> None:
        """Record one error at a field path such as `("embeds", 0, "title")`."""
        node = self._tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Iterable[str | int], limit: int) -> None:
        """Record Discord's error for a string or list that is too long."""
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def min_length(self, path: Iterable[str | int], limit: int) -> None:
        """Record Discord's error for a string or list that is too short."""
        self.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length.")

    def required(self, path: Iterable[str | int]) -> None:
        """Record Discord's error for a missing required field."""
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def __bool__(self) -> bool:
        """Return whether any error was recorded."""
        return bool(self._tree)

    def as_dict(self) -> dict[str, Any]:
        """Return the nested `errors` object."""
        return self._tree

    def raise_if_any(self) -> None:
        """Raise a 400 Invalid Form Body if any error was recorded."""
        if self._tree:
            raise DiscordHTTPError(
                400,
                {"code": INVALID_FORM_BODY, "errors": self._tree, "message": "Invalid Form Body"},
            )
