"""Remember which global command set was last synced, so unchanged starts skip syncing."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)


def default_state_dir() -> Path:
    """Return the per-user state folder, e.g. ~/.local/state/qabot."""
    return Path(platformdirs.user_state_dir("qabot", appauthor=False))


def commands_hash(payloads: Sequence[dict[str, Any]]) -> str:
    """Hash command payloads independently of key order."""
    canonical = json.dumps(
        sorted(payloads, key=lambda p: str(p.get("name"))),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _comparable_option(option: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": option.get("type"),
        "name": option.get("name"),
        "description": option.get("description"),
        "required": bool(option.get("required", False)),
        "choices": option.get("choices") or [],
        "options": [_comparable_option(o) for o in option.get("options") or []],
    }


def comparable(command: dict[str, Any]) -> dict[str, Any]:
    """Keep the parts of a command that both our payload and Discord's copy state alike."""
    return {
        "name": command.get("name"),
        "type": command.get("type", 1),
        "description": command.get("description"),
        "options": [_comparable_option(o) for o in command.get("options") or []],
        "contexts": sorted(command.get("contexts") or []),
        "integration_types": sorted(command.get("integration_types") or []),
        "nsfw": bool(command.get("nsfw", False)),
        "default_member_permissions": command.get("default_member_permissions"),
    }


def same_commands(ours: Sequence[dict[str, Any]], theirs: Sequence[dict[str, Any]]) -> bool:
    """Tell whether Discord already has our command set (by name, text and options)."""

    def key(commands: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted((comparable(c) for c in commands), key=lambda c: (c["type"], c["name"]))

    return key(ours) == key(theirs)


class SyncState:
    """The hash of the last globally synced command set, one small file per application."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_state_dir()

    def path(self, application_id: int) -> Path:
        """Return the state file of one application."""
        return self.directory / f"commands-{application_id}.json"

    def load(self, application_id: int) -> str | None:
        """Return the stored hash, or None if there is none or it cannot be read."""
        try:
            data = json.loads(self.path(application_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        value = data.get("global_commands_sha256") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    def save(self, application_id: int, digest: str) -> None:
        """Store the hash; a read-only home only costs a sync on the next start."""
        path = self.path(application_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"global_commands_sha256": digest}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("Could not save the command sync state to %s: %s", path, exc)
