"""Request validation with Discord's documented limits and error shapes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .errors import FormErrors, empty_message

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_SELECT_OPTIONS = 25
MAX_SELECT_PLACEHOLDER = 150
MAX_V2_COMPONENTS = 40

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_COMPONENTS_V2 = 1 << 15

BUTTON = 2
ACTION_ROW = 1
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
TEXT_INPUT = 4
LINK_STYLE = 5
PREMIUM_STYLE = 6

# Chat-input command and option names: lowercase letters, digits, '-' and '_' in any script.
_CHAT_NAME_RE = re.compile(r"^[-_\w]{1,32}$")


def _check_url(errors: FormErrors, path: tuple[str | int, ...], url: Any) -> None:
    if not isinstance(url, str):
        return
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    allowed = ("http", "https", "attachment")
    if scheme not in allowed:
        errors.add(
            path,
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{scheme}" is not supported. Scheme must be one of {allowed}.',
        )


def _str_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def embed_size(embed: dict[str, Any]) -> int:
    """Return the characters an embed counts towards Discord's 6000-character budget."""
    total = _str_len(embed.get("title")) + _str_len(embed.get("description"))
    for field in embed.get("fields") or []:
        total += _str_len(field.get("name")) + _str_len(field.get("value"))
    total += _str_len((embed.get("footer") or {}).get("text"))
    total += _str_len((embed.get("author") or {}).get("name"))
    return total


def validate_embeds(errors: FormErrors, embeds: Any) -> None:
    """Check a message's `embeds` array against Discord's limits."""
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errors.add(("embeds",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > MAX_EMBEDS:
        errors.max_length(("embeds",), MAX_EMBEDS)
    total = 0
    for i, embed in enumerate(embeds):
        path: tuple[str | int, ...] = ("embeds", i)
        if not isinstance(embed, dict):
            errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        if _str_len(embed.get("title")) > MAX_EMBED_TITLE:
            errors.max_length((*path, "title"), MAX_EMBED_TITLE)
        if _str_len(embed.get("description")) > MAX_EMBED_DESCRIPTION:
            errors.max_length((*path, "description"), MAX_EMBED_DESCRIPTION)
        _check_url(errors, (*path, "url"), embed.get("url"))
        for key in ("image", "thumbnail"):
            _check_url(errors, (*path, key, "url"), (embed.get(key) or {}).get("url"))
        colour = embed.get("color")
        if colour is not None and not (isinstance(colour, int) and 0 <= colour <= 0xFFFFFF):
            errors.add((*path, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215.")
        fields = embed.get("fields") or []
        if len(fields) > MAX_EMBED_FIELDS:
            errors.max_length((*path, "fields"), MAX_EMBED_FIELDS)
        for j, field in enumerate(fields):
            fpath = (*path, "fields", j)
            for key, limit in (("name", MAX_FIELD_NAME), ("value", MAX_FIELD_VALUE)):
                value = field.get(key)
                if not isinstance(value, str) or value == "":
                    errors.required((*fpath, key))
                elif len(value) > limit:
                    errors.max_length((*fpath, key), limit)
        footer = embed.get("footer")
        if footer is not None:
            text = footer.get("text")
            if not isinstance(text, str) or text == "":
                errors.required((*path, "footer", "text"))
            elif len(text) > MAX_FOOTER_TEXT:
                errors.max_length((*path, "footer", "text"), MAX_FOOTER_TEXT)
        author = embed.get("author")
        if author is not None:
            name = author.get("name")
            if not isinstance(name, str) or name == "":
                errors.required((*path, "author", "name"))
            elif len(name) > MAX_AUTHOR_NAME:
                errors.max_length((*path, "author", "name"), MAX_AUTHOR_NAME)
            _check_url(errors, (*path, "author", "url"), author.get("url"))
        total += embed_size(embed)
    if total > MAX_EMBED_TOTAL:
        errors.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
        )


def iter_components(components: Any) -> Iterator[dict[str, Any]]:
    """Yield every component in a tree, including nested v2 layout components."""
    for component in components or []:
        if not isinstance(component, dict):
            continue
        yield component
        yield from iter_components(component.get("components"))
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                yield from iter_components([component[key]])


def _validate_interactive(
    errors: FormErrors, path: tuple[str | int, ...], component: dict[str, Any], seen: set[str]
) -> None:
    ctype = component.get("type")
    custom_id = component.get("custom_id")
    if isinstance(custom_id, str):
        if len(custom_id) > MAX_CUSTOM_ID:
            errors.max_length((*path, "custom_id"), MAX_CUSTOM_ID)
        if custom_id in seen:
            errors.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    if ctype == BUTTON:
        style = component.get("style")
        if _str_len(component.get("label")) > MAX_BUTTON_LABEL:
            errors.max_length((*path, "label"), MAX_BUTTON_LABEL)
        if style == LINK_STYLE:
            if not component.get("url"):
                errors.required((*path, "url"))
            _check_url(errors, (*path, "url"), component.get("url"))
            if custom_id is not None:
                errors.add(
                    (*path, "custom_id"),
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A custom id cannot be specified for link buttons",
                )
        elif style != PREMIUM_STYLE:
            if not custom_id:
                errors.required((*path, "custom_id"))
            if component.get("url") is not None:
                errors.add(
                    (*path, "url"),
                    "BUTTON_COMPONENT_URL_NOT_ALLOWED",
                    "A url can only be specified for link buttons",
                )
        if not component.get("label") and not component.get("emoji") and style != PREMIUM_STYLE:
            errors.add(
                (*path, "label"),
                "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                "A label or emoji must be specified",
            )
    elif ctype in SELECT_TYPES:
        if not custom_id:
            errors.required((*path, "custom_id"))
        if _str_len(component.get("placeholder")) > MAX_SELECT_PLACEHOLDER:
            errors.max_length((*path, "placeholder"), MAX_SELECT_PLACEHOLDER)
        options = component.get("options")
        if ctype == 3:
            if not options:
                errors.min_length((*path, "options"), 1)
            elif len(options) > MAX_SELECT_OPTIONS:
                errors.max_length((*path, "options"), MAX_SELECT_OPTIONS)
            for k, option in enumerate(options or []):
                for key in ("label", "value", "description"):
                    if _str_len(option.get(key)) > 100:
                        errors.max_length((*path, "options", k, key), 100)
        max_values = component.get("max_values", 1)
        if isinstance(max_values, int) and not 1 <= max_values <= MAX_SELECT_OPTIONS:
            errors.add((*path, "max_values"), "NUMBER_TYPE_MAX", "int value should be <= 25.")


def validate_components(errors: FormErrors, components: Any, *, flags: int = 0) -> None:
    """Check a message's `components` against Discord's layout rules."""
    if components is None:
        return
    if not isinstance(components, list):
        errors.add(("components",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[str] = set()
    if flags & FLAG_IS_COMPONENTS_V2:
        if sum(1 for _ in iter_components(components)) > MAX_V2_COMPONENTS:
            errors.add(
                ("components",),
                "MAX_COMPONENTS_EXCEEDED",
                f"Must be {MAX_V2_COMPONENTS} or fewer in total.",
            )
        for i, component in enumerate(iter_components(components)):
            if component.get("type") == BUTTON or component.get("type") in SELECT_TYPES:
                _validate_interactive(errors, ("components", i), component, seen)
        return
    if len(components) > MAX_ACTION_ROWS:
        errors.max_length(("components",), MAX_ACTION_ROWS)
    for i, row in enumerate(components):
        path: tuple[str | int, ...] = ("components", i)
        if not isinstance(row, dict) or row.get("type") != ACTION_ROW:
            errors.add(
                (*path, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.min_length((*path, "components"), 1)
        if len(children) > MAX_ROW_BUTTONS:
            errors.max_length((*path, "components"), MAX_ROW_BUTTONS)
        has_select = any(c.get("type") in SELECT_TYPES for c in children)
        if has_select and len(children) > 1:
            errors.add(
                (*path, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for j, child in enumerate(children):
            _validate_interactive(errors, (*path, "components", j), child, seen)


def validate_allowed_mentions(errors: FormErrors, allowed: Any) -> None:
    """Reject the `parse` + explicit id list combinations Discord refuses."""
    if not isinstance(allowed, dict):
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            errors.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


def validate_message(
    payload: dict[str, Any], *, has_attachments: bool, partial: bool = False
) -> None:
    """Validate a message create/edit body; raise a DiscordHTTPError like Discord would."""
    errors = FormErrors()
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(("content",), "BASE_TYPE_STRING", "Must be a string.")
    elif isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.max_length(("content",), MAX_CONTENT)
    validate_embeds(errors, payload.get("embeds"))
    flags = payload.get("flags") or 0
    validate_components(errors, payload.get("components"), flags=flags)
    validate_allowed_mentions(errors, payload.get("allowed_mentions"))
    nonce = payload.get("nonce")
    if isinstance(nonce, str) and len(nonce) > 25:
        errors.max_length(("nonce",), 25)
    if flags & FLAG_IS_COMPONENTS_V2:
        for key in ("content", "embeds"):
            if payload.get(key):
                errors.add(
                    (key,),
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    "The 'content' and 'embeds' fields cannot be used when using "
                    "MessageFlags.IS_COMPONENTS_V2",
                )
    errors.raise_if_any()
    if not partial and is_empty_message(payload, has_attachments=has_attachments):
        raise empty_message()


def is_empty_message(payload: dict[str, Any], *, has_attachments: bool) -> bool:
    """Return whether a message body would render as nothing at all."""
    content = payload.get("content")
    return not (
        (isinstance(content, str) and content.strip())
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or has_attachments
    )


def _validate_option_list(
    errors: FormErrors, path: tuple[str | int, ...], options: list[dict[str, Any]]
) -> None:
    if len(options) > 25:
        errors.max_length((*path, "options"), 25)
    names: set[str] = set()
    seen_optional = False
    for i, option in enumerate(options):
        opath = (*path, "options", i)
        name = option.get("name")
        if not isinstance(name, str) or not _CHAT_NAME_RE.match(name) or name != name.lower():
            errors.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            )
        elif name in names:
            errors.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Command option names must be unique",
            )
        names.add(str(name))
        description = option.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            errors.add(
                (*opath, "description"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        otype = option.get("type")
        if otype in (1, 2):
            _validate_option_list(errors, opath, option.get("options") or [])
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    (*opath, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            errors.max_length((*opath, "choices"), 25)
        if choices and option.get("autocomplete"):
            errors.add(
                (*opath, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_CHOICES_AND_AUTOCOMPLETE",
                "Autocomplete and choices cannot both be set",
            )
        for k, choice in enumerate(choices):
            if not 1 <= _str_len(choice.get("name")) <= 100:
                errors.add(
                    (*opath, "choices", k, "name"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )


def validate_commands(commands: Any) -> None:
    """Validate a bulk-overwrite body of application commands."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
        return
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        validate_command(errors, (i,), command)
        key = (int(command.get("type", 1)), str(command.get("name")))
        if key in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
    chat_count = sum(1 for c in commands if c.get("type", 1) == 1)
    if chat_count > 100:
        errors.max_length((), 100)
    errors.raise_if_any()


def validate_command(
    errors: FormErrors, path: tuple[str | int, ...], command: dict[str, Any]
) -> None:
    """Check one application command definition."""
    ctype = command.get("type", 1)
    name = command.get("name")
    description = command.get("description", "")
    if ctype == 1:
        if not isinstance(name, str) or not _CHAT_NAME_RE.match(name) or name != name.lower():
            errors.add(
                (*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            errors.add(
                (*path, "description"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        _validate_option_list(errors, path, command.get("options") or [])
    else:
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            errors.add(
                (*path, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
        if description:
            errors.add(
                (*path, "description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            )


def validate_modal(data: Any) -> None:
    """Validate the `data` of a MODAL interaction callback."""
    errors = FormErrors()
    if not isinstance(data, dict):
        errors.required(("data",))
        errors.raise_if_any()
        return
    custom_id = data.get("custom_id")
    if not custom_id:
        errors.required(("data", "custom_id"))
    elif len(custom_id) > MAX_CUSTOM_ID:
        errors.max_length(("data", "custom_id"), MAX_CUSTOM_ID)
    title = data.get("title")
    if not title:
        errors.required(("data", "title"))
    elif len(title) > 45:
        errors.max_length(("data", "title"), 45)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.add(
            ("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    errors.raise_if_any()


def validate_autocomplete(data: Any) -> None:
    """Validate the `data` of an APPLICATION_COMMAND_AUTOCOMPLETE_RESULT callback."""
    errors = FormErrors()
    choices = (data or {}).get("choices")
    if choices is None:
        errors.required(("data", "choices"))
    elif len(choices) > 25:
        errors.max_length(("data", "choices"), 25)
    else:
        for i, choice in enumerate(choices):
            if not 1 <= _str_len(choice.get("name")) <= 100:
                errors.add(
                    ("data", "choices", i, "name"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
    errors.raise_if_any()
