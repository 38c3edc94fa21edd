"""`qabot doctor`: check everything qabot needs, each with a one-line verdict and what to do.

Each check is a small function returning a :class:`Check`; :func:`run_checks`
runs them in order and never raises, so one broken thing (a malformed setting,
a missing folder) does not hide the others. ``--quick`` leaves out the two
checks that read the saved index and load the model, for a container's
HEALTHCHECK.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bot.cli.output import Console
from bot.errors import QabotError, SemanticUnavailable, SettingsError, StoreError
from bot.settings import Settings, env_file_warning, load_settings
from bot.wording import plural

OK, WARN, FAIL = "ok", "warn", "FAIL"
MIN_PYTHON = (3, 11)


@dataclass(frozen=True)
class Check:
    """The verdict of one check: what was checked, how it went, and what to do."""

    name: str
    status: str  # OK, WARN or FAIL
    verdict: str  # one sentence
    fix: str = ""  # what to do about it, when not OK

    def line(self) -> str:
        """Return the check as one line."""
        fix = f" {self.fix}" if self.fix else ""
        return f"{self.status:<4}  {self.name:<9} {self.verdict}{fix}"


@dataclass
class Context:
    """What the checks share: the settings as far as they could be read, and which failed."""

    settings: Settings
    refused: dict[str, str] = field(default_factory=dict)  # variable -> why it was refused
    corpus: Path = Path("corpus")


def read_settings(
    env_file: Path | str | None = ".env", environ: Mapping[str, str] | None = None
) -> Context:
    """Read the settings, leaving out (and noting) each one that is refused."""
    refused: dict[str, str] = {}
    while True:
        try:
            settings = load_settings(env_file, environ, ignore=frozenset(refused))
        except SettingsError as exc:
            if exc.setting is None or exc.setting in refused:
                return Context(Settings(), {**refused, "?": str(exc)})
            refused[exc.setting] = str(exc)
            continue
        return Context(settings, refused, settings.corpus_dir)


def _sentence(text: str) -> str:
    """End a verdict built around another message with one full stop."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


# --- the checks -------------------------------------------------------------------------


def check_python(context: Context) -> Check:
    """Check the Python version."""
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < MIN_PYTHON:
        return Check(
            "python",
            FAIL,
            f"Python {version} is too old.",
            "Use Python 3.11 or newer (python3.11 -m venv .venv).",
        )
    return Check("python", OK, f"Python {version} at {sys.executable}.")


def check_packages(context: Context) -> Check:
    """Check that qabot and every runtime dependency are installed."""
    try:
        requires = metadata.requires("qabot") or []
        version = metadata.version("qabot")
    except metadata.PackageNotFoundError:
        return Check(
            "packages",
            WARN,
            "qabot is not installed as a package (running from a source folder).",
            "Run `make repl`, or `pip install .`, to install it with its dependencies.",
        )
    missing, found = [], []
    for requirement in requires:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        if name is None:
            continue
        try:
            found.append(f"{name.group()} {metadata.version(name.group())}")
        except metadata.PackageNotFoundError:
            missing.append(name.group())
    if missing:
        return Check(
            "packages",
            FAIL,
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed.",
            "Run `make repl` (or `pip install .`) again.",
        )
    return Check("packages", OK, f"qabot {version} with {', '.join(found)}.")


def check_settings(context: Context) -> Check:
    """Check that every setting (but the token, checked apart) can be read."""
    refused = {k: v for k, v in context.refused.items() if k != "DISCORD_TOKEN"}
    if refused:
        return Check("settings", FAIL, " ".join(refused.values()))
    sources = context.settings.sources
    where = f"{plural(len(sources), 'setting')} set" if sources else "all defaults"
    notes = " ".join(context.settings.warnings)
    status = WARN if notes else OK
    return Check("settings", status, f"Every setting is valid ({where}).", notes)


def check_token(context: Context) -> Check:
    """Check the token's shape without showing it."""
    if "DISCORD_TOKEN" in context.refused:
        return Check("token", FAIL, context.refused["DISCORD_TOKEN"])
    if context.settings.discord_token is None:
        return Check(
            "token",
            WARN,
            "DISCORD_TOKEN is not set.",
            "Only `qabot run` and `qabot sync` need it: put it in .env (see .env.example).",
        )
    return Check(
        "token",
        OK,
        "DISCORD_TOKEN has the shape of a bot token (not shown); only Discord can say it is valid.",
    )


def check_env_file(context: Context) -> Check:
    """Check that a .env holding the token is readable by its owner only."""
    settings = context.settings
    path = settings.env_file
    if path is None:
        return Check(".env", OK, "No .env file here; settings come from the environment.")
    warning = env_file_warning(settings)
    if warning is not None:
        return Check(".env", FAIL, warning)
    return Check(".env", OK, f"{path} is safe to keep the token in.")


def ask_channels_anywhere(settings: Settings) -> bool:
    """Tell whether any ask channel is set: ASK_CHANNEL_IDS, guilds.toml or an admin's /qa."""
    if settings.ask_channel_ids:
        return True
    from bot.discordbot.guilds import guilds_file_path, read_guilds_file

    listed = read_guilds_file(guilds_file_path(settings)).guilds.values()
    if any(guild.get("ask_channels") for guild in listed):
        return True
    from bot.discordbot.state import default_state_db
    from bot.discordbot.sync_state import default_state_dir

    path = default_state_db(settings, default_state_dir())
    if not path.is_file():
        return False
    # Read-only: looking must not create, migrate or lock the bot's database.
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        try:
            rows = db.execute(
                "SELECT value FROM guild_settings WHERE name = 'ask_channels'"
            ).fetchall()
        except sqlite3.Error:
            return False
    return any(json.loads(value) for (value,) in rows)


def check_intents(context: Context) -> Check:
    """Check that the message-content intent is asked for exactly when ask channels need it."""
    settings = context.settings
    if settings.message_content_intent and not ask_channels_anywhere(settings):
        return Check(
            "intents",
            FAIL,
            "MESSAGE_CONTENT_INTENT is true but no ask channel is set (ASK_CHANNEL_IDS, "
            "guilds.toml or /qa channels): the bot would ask Discord for a privileged intent "
            "it never uses (mentions, DMs and slash commands work without it).",
            "Set ask channels, or MESSAGE_CONTENT_INTENT=false.",
        )
    if settings.ask_channel_ids and not settings.message_content_intent:
        return Check(
            "intents",
            FAIL,
            "ASK_CHANNEL_IDS is set but MESSAGE_CONTENT_INTENT is false: Discord hides the text "
            "of messages that do not mention the bot, so ask channels would stay silent.",
            "Set MESSAGE_CONTENT_INTENT=true and enable the intent in the developer portal.",
        )
    asked = "message content too" if settings.message_content_intent else "no privileged intent"
    return Check("intents", OK, f"The intents match the settings ({asked}).")


def check_corpus(context: Context) -> Check:
    """Check that the corpus folder is there, readable and holds articles."""
    from bot.ingest.loader import scan_folder

    root = context.corpus
    fix = "Set CORPUS_DIR (or pass --corpus) to a folder of .txt or .md articles."
    if not root.exists():
        return Check("corpus", FAIL, f"The corpus folder {root} does not exist.", fix)
    if not root.is_dir():
        return Check("corpus", FAIL, f"The corpus path {root} is not a folder.", fix)
    if not os.access(root, os.R_OK | os.X_OK):
        return Check(
            "corpus", FAIL, f"The corpus folder {root} cannot be read.", "Check its permissions."
        )
    try:
        sources, _problems = scan_folder(root)
    except (OSError, QabotError) as exc:
        return Check("corpus", FAIL, f"The corpus folder {root} cannot be listed: {exc}", fix)
    if not sources:
        return Check("corpus", FAIL, f"The corpus folder {root} holds no .txt or .md files.", fix)
    return Check("corpus", OK, f"{root} holds {plural(len(sources), 'article file')}.")


def check_index(context: Context) -> Check:
    """Check the saved index of the corpus folder: present, complete, checksums right."""
    from bot.cli.info import describe_index
    from bot.index.storage import default_index_root, index_folder
    from bot.index.storage.opening import open_generation

    root = context.corpus
    if not root.is_dir():
        return Check("index", WARN, "Not checked: there is no corpus folder to index.")
    folder = index_folder(root, context.settings.index_dir or default_index_root())
    rebuild = (
        "Nothing is lost: the next start rebuilds it from the articles (`qabot info` does it now)."
    )
    try:
        generation = open_generation(folder, root)
    except StoreError as exc:
        return Check("index", FAIL, _sentence(f"The saved index is damaged: {exc}"), rebuild)
    except OSError as exc:
        verdict = _sentence(f"The saved index in {folder} cannot be read: {exc}")
        return Check("index", FAIL, verdict, rebuild)
    if generation is None:
        return Check(
            "index",
            WARN,
            f"No saved index yet in {folder}.",
            "The first question builds it (`qabot info` does it now).",
        )
    return Check("index", OK, f"Intact: {describe_index(folder)}.")


def check_model(context: Context) -> Check:
    """Check that the embedding model the settings ask for loads and embeds a sentence."""
    from bot.embedding.model import load_embedder

    settings = context.settings
    if not settings.semantic:
        return Check("model", OK, "Off (SEMANTIC=false): answers are ranked by word match.")
    fix = (
        "Set EMBEDDING_MODEL to a model folder or to all-MiniLM-L6-v2 (the packaged model), "
        "reinstall qabot (pip install .), or set SEMANTIC=false."
    )
    try:
        embedder = load_embedder(settings.embedding_model, threads=settings.torch_threads)
    except SemanticUnavailable as exc:
        off = f"semantic ranking is off: {exc}"
        verdict = _sentence(f"EMBEDDING_MODEL={settings.embedding_model}: {off}")
        return Check("model", FAIL, verdict, fix)
    try:
        embedder.encode(["Is the model working?"])
    except Exception as exc:  # any failure of a third-party model is this check's verdict
        return Check("model", FAIL, _sentence(f"The model loads but cannot embed: {exc}"), fix)
    return Check("model", OK, f"{embedder.name} loads and embeds.")


def _writable(folder: Path) -> bool:
    """Tell whether folder can be written (or made, where it does not exist yet)."""
    if folder.is_dir():
        try:
            with tempfile.TemporaryFile(dir=folder):
                return True
        except OSError:
            return False
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def check_state(context: Context) -> Check:
    """Check that the folders qabot writes (index, history, sync record) can be written."""
    from platformdirs import user_data_dir

    from bot.discordbot.sync_state import default_state_dir
    from bot.index.storage import default_index_root

    folders = {
        "index (INDEX_DIR)": context.settings.index_dir or default_index_root(),
        "REPL history": Path(user_data_dir("qabot")),
        "slash-command sync record": default_state_dir(),
    }
    stuck = [f"{what} in {path}" for what, path in folders.items() if not _writable(path)]
    if stuck:
        return Check(
            "state",
            FAIL,
            f"Cannot write: {'; '.join(stuck)}.",
            "Make these folders writable by this user, or set INDEX_DIR / XDG_STATE_HOME / "
            "XDG_DATA_HOME to folders that are.",
        )
    return Check("state", OK, f"{plural(len(folders), 'state folder')} can be written.")


QUICK: tuple[Callable[[Context], Check], ...] = (
    check_python,
    check_packages,
    check_settings,
    check_token,
    check_env_file,
    check_intents,
    check_corpus,
    check_state,
)
FULL = (*QUICK[:7], check_index, check_model, QUICK[7])


def run_checks(context: Context, quick: bool = False) -> Iterator[Check]:
    """Run the checks in order, turning an unexpected failure into that check's verdict."""
    for check in QUICK if quick else FULL:
        name = check.__name__.removeprefix("check_")
        try:
            yield check(context)
        except Exception as exc:  # a check must not take the others down
            yield Check(name, FAIL, f"The check itself failed: {type(exc).__name__}: {exc}.")


def doctor(console: Console, corpus: Path | None = None, quick: bool = False) -> int:
    """Print every check's verdict; return 1 if any failed, else 0."""
    context = read_settings()
    if corpus is not None:
        context.corpus = corpus
    failed = 0
    checks = 0
    for check in run_checks(context, quick):
        checks += 1
        failed += check.status == FAIL
        console.out_wrapped(check.line(), indent=" " * 16)
    if failed:
        console.out(f"{failed} of {plural(checks, 'check')} failed.")
        return 1
    console.out(f"All {plural(checks, 'check')} passed.")
    return 0
