#!/usr/bin/env python3
"""The README's configuration reference, generated from the settings classes.

One row per environment variable the settings read: names, type, default, the profiles
whose defaults differ, and meaning (the field's ``description=``). Secrets never show::

    python scripts/config_reference.py                   # print the markdown
    python scripts/config_reference.py --check README.md # exit 1 with a diff if it drifted
    python scripts/config_reference.py --write README.md # rewrite the README's section
"""

from __future__ import annotations

import argparse
import difflib
import enum
import json
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import annotated_types
from pydantic import SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.loader import ENVIRONMENT_CLASSES

COMMAND = "python scripts/config_reference.py"

START_MARKER = "<!-- config-reference:start -->"
END_MARKER = "<!-- config-reference:end -->"
UNSET = "unset"
SECRET = "(secret)"

# Variables that are not fields: a URL that replaces several fields of a section (read by
# the section's UrlSettingsSource). Section name -> (variable, meaning).
URL_VARIABLES: dict[str, tuple[str, str]] = {
    "database": (
        "DATABASE_URL",
        "PostgreSQL URL (`postgres://`, `postgresql://`, `postgresql+<driver>://`); when set "
        "it replaces host, port, name, user, password and ssl mode (`?sslmode=`); user and "
        "password are percent-decoded.",
    ),
    "redis": (
        "REDIS_URL",
        "Redis URL `redis://[user:password@]host:port/db`; when set it replaces host, port, "
        "db, username, password and ssl (`rediss://` turns TLS on).",
    ),
}

_EDIT_HINT = "edit the settings classes, not this text."
_INTRO = (
    "Every variable is also read from `.env` in the working directory; real environment "
    "variables win, and an empty value counts as unset. *Default* is the base value; "
    "*Profiles* lists the environments whose defaults differ (`ENVIRONMENT` selects one; "
    "unset means development). Secrets are never shown."
)


@dataclass(frozen=True)
class Variable:
    """One environment variable (``names[0]``; the others are accepted too)."""

    names: tuple[str, ...]
    type: str
    default: str
    profiles: tuple[tuple[str, str], ...]  # (environment, its default) where it differs
    meaning: str


@dataclass(frozen=True)
class Group:
    """The variables of one settings class."""

    class_name: str
    prefixes: tuple[str, ...]
    summary: str
    variables: tuple[Variable, ...]


def _holds(annotation: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, kinds):
        return True
    return any(_holds(arg, kinds) for arg in typing.get_args(annotation))


def _is_secret(field: FieldInfo) -> bool:
    return _holds(field.annotation, (SecretStr, SecretBytes))


def _base_type(annotation: Any) -> Any:
    """``X`` of ``X | None`` and of ``Annotated[X, ...]``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _base_type(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else annotation
    return annotation


def _choices(values: Sequence[object]) -> str:
    return "one of " + ", ".join(f"`{value}`" for value in values)


_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "string", Path: "path"}


def _type_name(annotation: Any) -> str:
    base = _base_type(annotation)
    if typing.get_origin(base) is Literal:
        return _choices(typing.get_args(base))
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return _choices([member.value for member in base])
    if typing.get_origin(base) is list:
        item = _type_name(typing.get_args(base)[0])
        return f"JSON list of {item}s"
    names: dict[Any, str] = {**_TYPE_NAMES, SecretStr: "secret"}
    return names.get(base, getattr(base, "__name__", str(base)))


def _bounds(field: FieldInfo) -> str:
    """``1..10``, ``>= 1`` or ``<= 10``, then ``> 0`` and ``non-empty`` where they apply."""
    meta = field.metadata
    low = next((f"{m.ge}" for m in meta if isinstance(m, annotated_types.Ge)), None)
    high = next((f"{m.le}" for m in meta if isinstance(m, annotated_types.Le)), None)
    span = (
        f"{low}..{high}" if low and high else f">= {low}" if low else f"<= {high}" if high else ""
    )
    parts = [span] if span else []
    parts += [f"> {m.gt}" for m in meta if isinstance(m, annotated_types.Gt)]
    if any(isinstance(m, annotated_types.MinLen) and m.min_length == 1 for m in meta):
        parts.append("non-empty")
    return ", ".join(parts)


def _type_text(field: FieldInfo) -> str:
    bounds = _bounds(field)
    name = _type_name(field.annotation)
    return f"{name}, {bounds}" if bounds else name


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)


def _default_text(field: FieldInfo, value: Any) -> str:
    """The default as shown: never a secret's value."""
    if _is_secret(field) or value is None:
        return SECRET if value else UNSET
    return f"`{_format_value(value)}`"


def _field_default(field: FieldInfo) -> str:
    return _default_text(field, field.get_default(call_default_factory=True))


def _env_names(
    settings_cls: type[BaseSettings], field_name: str, field: FieldInfo
) -> tuple[str, ...]:
    if isinstance(field.validation_alias, str):
        return (field.validation_alias.upper(),)
    if isinstance(field.alias, str):
        return (field.alias.upper(),)
    prefixes = _prefixes(settings_cls)
    return tuple(f"{prefix}{field_name}".upper() for prefix in prefixes)


def _prefixes(settings_cls: type[BaseSettings]) -> tuple[str, ...]:
    prefix = str(settings_cls.model_config.get("env_prefix") or "")
    others: tuple[str, ...] = getattr(settings_cls, "alternative_env_prefixes", ())
    return (prefix.upper(), *others)


def _meaning(settings_cls: type[BaseSettings], field_name: str, field: FieldInfo) -> str:
    if not field.description:
        raise ValueError(
            f"{settings_cls.__name__}.{field_name} has no description=; the configuration "
            "reference needs one for every variable"
        )
    return " ".join(field.description.split())


def _profiles(
    section: str | None, field_name: str, field: FieldInfo, base: str
) -> tuple[tuple[str, str], ...]:
    """(environment, default) for each environment class whose default differs."""
    found: list[tuple[str, str]] = []
    for environment, env_cls in ENVIRONMENT_CLASSES.items():
        owner: type[BaseSettings] = (
            env_cls if section is None else env_cls.section_classes()[section]
        )
        shown = _field_default(owner.model_fields[field_name])
        if shown != base:
            found.append((environment.value, shown))
    return tuple(found)


def _variables(settings_cls: type[BaseSettings], section: str | None) -> list[Variable]:
    found: list[Variable] = []
    if section in URL_VARIABLES:
        name, meaning = URL_VARIABLES[section]
        found.append(Variable((name,), "URL (holds the password)", UNSET, (), meaning))
    sections = ApplicationSettings.section_classes()
    for field_name, field in settings_cls.model_fields.items():
        if section is None and field_name in sections:
            continue
        default = _field_default(field)
        # The environment class fixes ENVIRONMENT itself; its "default" is not a profile's.
        profiles = (
            () if field_name == "environment" else _profiles(section, field_name, field, default)
        )
        names = _env_names(settings_cls, field_name, field)
        meaning = _meaning(settings_cls, field_name, field)
        found.append(Variable(names, _type_text(field), default, profiles, meaning))
    return found


def _summary(settings_cls: type[BaseSettings]) -> str:
    paragraph = (settings_cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(paragraph.split()).replace("``", "`")


def groups() -> list[Group]:
    """The application level first, then each section in declaration order."""
    sections = list(ApplicationSettings.section_classes().items())
    top: list[tuple[str | None, type[BaseSettings]]] = [(None, ApplicationSettings)]
    return [
        Group(
            settings_cls.__name__,
            ("",) if section is None else _prefixes(settings_cls),
            _summary(settings_cls),
            tuple(_variables(settings_cls, section)),
        )
        for section, settings_cls in [*top, *sections]
    ]


def _row(variable: Variable) -> str:
    names = " (or " + ", ".join(f"`{n}`" for n in variable.names[1:]) + ")"
    name_cell = f"`{variable.names[0]}`" + (names if len(variable.names) > 1 else "")
    profiles = "; ".join(f"{env}: {value}" for env, value in variable.profiles)
    cells = (name_cell, variable.type, variable.default, profiles, variable.meaning)
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _render_group(group: Group) -> list[str]:
    shown = " and ".join(f"`{p}*`" for p in group.prefixes)
    prefix = "No prefix." if group.prefixes == ("",) else f"Prefix {shown}."
    return [
        f"### `{group.class_name}`",
        "",
        f"{prefix} {group.summary}",
        "",
        "| Variable | Type | Default | Profiles | Meaning |",
        "|---|---|---|---|---|",
        *(_row(variable) for variable in group.variables),
        "",
    ]


def render() -> str:
    """The whole reference as markdown (ends with a newline)."""
    header = f"<!-- Generated by `{COMMAND} --write README.md`; {_EDIT_HINT} -->"
    lines = [header, "", _INTRO, "", *(line for g in groups() for line in _render_group(g))]
    return "\n".join(lines).rstrip("\n") + "\n"


def _marker_positions(text: str) -> tuple[int, int]:
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"expected {START_MARKER} followed by {END_MARKER}")
    return start + len(START_MARKER), end


def section_of(text: str) -> str:
    """The text between the markers, without the newlines that frame it."""
    start, end = _marker_positions(text)
    return text[start:end].removeprefix("\n").removesuffix("\n") + "\n"


def replace_section(text: str, section: str) -> str:
    """``text`` with the text between the markers replaced by ``section``."""
    start, end = _marker_positions(text)
    return f"{text[:start]}\n{section.rstrip(chr(10))}\n{text[end:]}"


def _check(path: Path, generated: str) -> int:
    current = section_of(path.read_text(encoding="utf-8"))
    if current == generated:
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        generated.splitlines(keepends=True),
        fromfile=f"{path} (configuration reference)",
        tofile="generated from the settings classes",
    )
    sys.stdout.writelines(diff)
    print(
        f"{path}: the configuration reference is out of date; run `{COMMAND} --write {path}`",
        file=sys.stderr,
    )
    return 1


_OPTIONS = {
    "--check": "exit 1 with a diff if FILE's section drifted",
    "--write": "rewrite FILE's section in place",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the reference, or check (exit 1 on drift) or rewrite a README's section."""
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="The configuration reference, generated from the settings classes.",
    )
    action = parser.add_mutually_exclusive_group()
    for option, meaning in _OPTIONS.items():
        action.add_argument(option, metavar="FILE", type=Path, help=meaning)
    args = parser.parse_args(argv)
    generated = render()
    try:
        if args.check is not None:
            return _check(args.check, generated)
        if args.write is not None:
            text = args.write.read_text(encoding="utf-8")
            args.write.write_text(replace_section(text, generated), encoding="utf-8")
            return 0
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
