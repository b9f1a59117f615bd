"""Discord's request-body limits, reported as 50035 trees with Discord's codes and wording."""

from __future__ import annotations

import re
from typing import Any

from .errors import FormErrors, empty_message
from .models import MessageFlag

Path = tuple[str | int, ...]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_ITEMS = 5
MAX_COMPONENTS_V2 = 40
MAX_CHOICES = 25
MAX_OPTIONS = 25

_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
_BUTTON = 2
_SELECTS = frozenset({3, 5, 6, 7, 8})
_TEXT_INPUT = 4
_LINK_STYLE = 5
_PREMIUM_STYLE = 6
_SUBCOMMAND = 1
_SUBCOMMAND_GROUP = 2
_CHOICE_TYPES = frozenset({3, 4, 10})


def check_message(payload: dict[str, Any], *, has_files: bool, creating: bool) -> None:
    """Validate the message fields present in ``payload``; raise 50035 or 50006."""
    errors = FormErrors()
    content = payload.get("content")
    if content is not None:
        errors.max_length(("content",), str(content), MAX_CONTENT)
    embeds = payload.get("embeds")
    if embeds:
        check_embeds(errors, embeds)
    components = payload.get("components")
    if components:
        v2 = bool(int(payload.get("flags") or 0) & MessageFlag.IS_COMPONENTS_V2)
        check_components(errors, ("components",), components, v2=v2)
    mentions = payload.get("allowed_mentions")
    if mentions:
        _check_allowed_mentions(errors, mentions)
    errors.raise_if_any()
    if creating and not (
        content
        or embeds
        or components
        or has_files
        or payload.get("sticker_ids")
        or payload.get("poll")
    ):
        raise empty_message()


def check_embeds(errors: FormErrors, embeds: list[dict[str, Any]]) -> None:
    if not errors.max_length(("embeds",), embeds, MAX_EMBEDS):
        return
    total = 0
    for i, embed in enumerate(embeds):
        path: Path = ("embeds", i)
        for key, limit in (("title", 256), ("description", 4096)):
            text = embed.get(key)
            if text is not None:
                errors.max_length((*path, key), str(text), limit)
                total += len(str(text))
        footer = (embed.get("footer") or {}).get("text")
        if footer is not None:
            errors.max_length((*path, "footer", "text"), str(footer), 2048)
            total += len(str(footer))
        author = (embed.get("author") or {}).get("name")
        if author is not None:
            errors.max_length((*path, "author", "name"), str(author), 256)
            total += len(str(author))
        fields = embed.get("fields") or []
        if not errors.max_length((*path, "fields"), fields, 25):
            continue
        for j, embed_field in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                text = embed_field.get(key)
                if text is None or text == "":
                    errors.required((*path, "fields", j, key))
                    continue
                errors.max_length((*path, "fields", j, key), str(text), limit)
                total += len(str(text))
    if total > MAX_EMBED_TOTAL:
        errors.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
        )


def check_components(
    errors: FormErrors, path: Path, components: list[dict[str, Any]], *, v2: bool = False
) -> None:
    limit = MAX_COMPONENTS_V2 if v2 else MAX_ACTION_ROWS
    if not errors.max_length(path, components, limit):
        return
    seen: set[str] = set()
    for i, component in enumerate(components):
        ctype = component.get("type")
        if ctype == 1:
            _check_row(errors, (*path, i), component, seen)
        elif v2:
            _check_v2_component(errors, (*path, i), component, seen)
        else:
            errors.add(
                (*path, i, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )


def _check_v2_component(
    errors: FormErrors, path: Path, component: dict[str, Any], seen: set[str]
) -> None:
    if component.get("type") == 1:
        _check_row(errors, path, component, seen)
        return
    for i, child in enumerate(component.get("components") or []):
        _check_v2_component(errors, (*path, "components", i), child, seen)
    accessory = component.get("accessory")
    if accessory and accessory.get("type") == _BUTTON:
        _check_item(errors, (*path, "accessory"), accessory, seen)


def _check_row(errors: FormErrors, path: Path, row: dict[str, Any], seen: set[str]) -> None:
    items = row.get("components") or []
    if not errors.bad_length((*path, "components"), items, 1, MAX_ROW_ITEMS):
        return
    if len(items) > 1 and any(item.get("type") in _SELECTS for item in items):
        errors.add(
            (*path, "components"),
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        )
    for j, item in enumerate(items):
        _check_item(errors, (*path, "components", j), item, seen)


def _check_item(errors: FormErrors, path: Path, item: dict[str, Any], seen: set[str]) -> None:
    ctype = item.get("type")
    needs_custom_id = (
        ctype in _SELECTS
        or ctype == _TEXT_INPUT
        or (ctype == _BUTTON and item.get("style") not in (_LINK_STYLE, _PREMIUM_STYLE))
    )
    custom_id = item.get("custom_id")
    if needs_custom_id:
        if custom_id is None:
            errors.required((*path, "custom_id"))
        elif errors.bad_length((*path, "custom_id"), str(custom_id), 1, 100):
            if custom_id in seen:
                errors.add(
                    (*path, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
    if ctype == _BUTTON:
        if item.get("label") is not None:
            errors.max_length((*path, "label"), str(item["label"]), 80)
        if item.get("style") == _LINK_STYLE and not item.get("url"):
            errors.required((*path, "url"))
    elif ctype in _SELECTS:
        if item.get("placeholder") is not None:
            errors.max_length((*path, "placeholder"), str(item["placeholder"]), 150)
        if ctype == 3:
            options = item.get("options") or []
            if errors.bad_length((*path, "options"), options, 1, 25):
                for k, option in enumerate(options):
                    for key in ("label", "value"):
                        errors.bad_length(
                            (*path, "options", k, key), str(option.get(key, "")), 1, 100
                        )
                    if option.get("description") is not None:
                        errors.max_length(
                            (*path, "options", k, "description"), str(option["description"]), 100
                        )
    elif ctype == _TEXT_INPUT:
        _check_text_input(errors, path, item)


def _check_text_input(errors: FormErrors, path: Path, item: dict[str, Any]) -> None:
    if item.get("label") is not None:
        errors.bad_length((*path, "label"), str(item["label"]), 1, 45)
    if item.get("value") is not None:
        errors.max_length((*path, "value"), str(item["value"]), 4000)
    if item.get("placeholder") is not None:
        errors.max_length((*path, "placeholder"), str(item["placeholder"]), 100)


def _check_allowed_mentions(errors: FormErrors, mentions: dict[str, Any]) -> None:
    parse = mentions.get("parse") or []
    for i, kind in enumerate(parse):
        if kind not in ("users", "roles", "everyone"):
            errors.add(
                ("allowed_mentions", "parse", i),
                "BASE_TYPE_CHOICES",
                "Value must be one of {'users', 'roles', 'everyone'}.",
            )
    for kind in ("users", "roles"):
        if kind in parse and mentions.get(kind):
            errors.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        errors.max_length(("allowed_mentions", kind), mentions.get(kind) or [], 100)


def check_thread_name(name: Any, path: Path = ("name",)) -> None:
    errors = FormErrors()
    if name is None:
        errors.required(path)
    else:
        errors.bad_length(path, str(name), 1, 100)
    errors.raise_if_any()


def check_persona_name(errors: FormErrors, path: Path, name: str) -> None:
    """Webhook names and per-message usernames share Discord's username rules."""
    if not errors.bad_length(path, name, 1, 80):
        return
    lowered = name.lower()
    for banned in ("discord", "clyde"):
        if banned in lowered:
            errors.add(path, "USERNAME_INVALID_CONTAINS", f'Username cannot contain "{banned}"')
    if lowered in ("everyone", "here"):
        errors.add(path, "USERNAME_INVALID", "Username is invalid")


def check_choices(errors: FormErrors, path: Path, choices: list[dict[str, Any]]) -> None:
    if not errors.max_length(path, choices, MAX_CHOICES):
        return
    for i, choice in enumerate(choices):
        if choice.get("name") is None:
            errors.required((*path, i, "name"))
        else:
            errors.bad_length((*path, i, "name"), str(choice["name"]), 1, 100)
        value = choice.get("value")
        if value is None:
            errors.required((*path, i, "value"))
        elif isinstance(value, str):
            errors.max_length((*path, i, "value"), value, 100)


def check_modal(data: dict[str, Any]) -> None:
    errors = FormErrors()
    path: Path = ("data",)
    errors.bad_length((*path, "title"), str(data.get("title") or ""), 1, 45)
    errors.bad_length((*path, "custom_id"), str(data.get("custom_id") or ""), 1, 100)
    components = data.get("components") or []
    if errors.bad_length((*path, "components"), components, 1, 5):
        for i, component in enumerate(components):
            inner = component.get("components") or (
                [component["component"]] if "component" in component else []
            )
            for j, item in enumerate(inner):
                if item.get("type") == _TEXT_INPUT:
                    _check_text_input(errors, (*path, "components", i, "components", j), item)
    errors.raise_if_any()


def check_commands(commands: list[dict[str, Any]]) -> None:
    """Validate a bulk overwrite: each command, and unique (type, name) pairs."""
    errors = FormErrors()
    errors.max_length((), commands, 100)
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        _check_command(errors, (i,), command)
        key = (int(command.get("type") or 1), str(command.get("name")))
        if key in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
    errors.raise_if_any()


def check_command(command: dict[str, Any], *, partial: bool = False) -> None:
    errors = FormErrors()
    _check_command(errors, (), command, partial=partial)
    errors.raise_if_any()


def _check_command(
    errors: FormErrors, path: Path, command: dict[str, Any], *, partial: bool = False
) -> None:
    ctype = int(command.get("type") or 1)
    chat_input = ctype == 1
    if "name" in command or not partial:
        _check_name(errors, (*path, "name"), command.get("name"), chat_input=chat_input)
    description = command.get("description")
    if chat_input and ("description" in command or not partial):
        _check_description(errors, (*path, "description"), description)
    elif not chat_input and description:
        errors.add(
            (*path, "description"),
            "APPLICATION_COMMAND_DESCRIPTION_MUST_BE_EMPTY",
            "Description must be empty",
        )
    options = command.get("options") or []
    if options and not chat_input:
        errors.add((*path, "options"), "APPLICATION_COMMAND_OPTIONS_INVALID", "Options are invalid")
    elif options:
        _check_options(errors, (*path, "options"), options, depth=0)


def _check_name(errors: FormErrors, path: Path, name: Any, *, chat_input: bool) -> None:
    if name is None:
        errors.required(path)
        return
    name = str(name)
    if not errors.bad_length(path, name, 1, 32):
        return
    if chat_input and (not _COMMAND_NAME.match(name) or name != name.lower()):
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_description(errors: FormErrors, path: Path, description: Any) -> None:
    if description is None:
        errors.required(path)
    else:
        errors.bad_length(path, str(description), 1, 100)


def _check_options(
    errors: FormErrors, path: Path, options: list[dict[str, Any]], *, depth: int
) -> None:
    if not errors.max_length(path, options, MAX_OPTIONS):
        return
    types = [int(option.get("type") or 0) for option in options]
    nested = {_SUBCOMMAND, _SUBCOMMAND_GROUP}
    if any(t in nested for t in types) and not all(t in nested for t in types):
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all "
            "other types",
        )
    names: set[str] = set()
    optional_seen = False
    for i, option in enumerate(options):
        opath = (*path, i)
        otype = types[i]
        if not 1 <= otype <= 11:
            errors.add((*opath, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1..11).")
            continue
        _check_name(errors, (*opath, "name"), option.get("name"), chat_input=True)
        _check_description(errors, (*opath, "description"), option.get("description"))
        name = str(option.get("name"))
        if name in names:
            errors.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(name)
        if otype == _SUBCOMMAND_GROUP and depth > 0:
            errors.add(
                (*opath, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-command groups can only be top-level options",
            )
        if otype == _SUBCOMMAND and depth > 1:
            errors.add(
                (*opath, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-commands can only be nested one level deep",
            )
        children = option.get("options") or []
        if otype in nested:
            if otype == _SUBCOMMAND_GROUP and any(
                int(c.get("type") or 0) != _SUBCOMMAND for c in children
            ):
                errors.add(
                    (*opath, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command groups may only contain sub-commands",
                )
            if children:
                _check_options(errors, (*opath, "options"), children, depth=depth + 1)
            continue
        if option.get("required"):
            if optional_seen:
                errors.add(
                    (*opath, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if choices:
            if otype not in _CHOICE_TYPES:
                errors.add(
                    (*opath, "choices"),
                    "APPLICATION_COMMAND_OPTION_CHOICES_INVALID",
                    "Choices are not allowed for this option type",
                )
            if option.get("autocomplete"):
                errors.add(
                    (*opath, "autocomplete"),
                    "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                    "Autocomplete cannot be set with choices",
                )
            check_choices(errors, (*opath, "choices"), choices)
        for key, low, high in (("min_length", 0, 6000), ("max_length", 1, 6000)):
            value = option.get(key)
            if value is not None and not low <= int(value) <= high:
                errors.add(
                    (*opath, key),
                    "NUMBER_TYPE_MAX" if value > high else "NUMBER_TYPE_MIN",
                    f"int value should be between {low} and {high}.",
                )
