"""Copies that share nothing mutable, so callers can never reach the stored state."""

from __future__ import annotations

from typing import Any, TypeVar, get_origin

from pydantic import BaseModel

__all__ = ["clone", "copy_json", "owned"]

M = TypeVar("M", bound=BaseModel)

_MUTABLE_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}


def _mutable_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Names of the fields holding dicts or lists (everything else in a model is immutable)."""
    names = _MUTABLE_FIELDS.get(cls)
    if names is None:
        names = tuple(
            name
            for name, field in cls.model_fields.items()
            if get_origin(field.annotation) in (dict, list)
        )
        _MUTABLE_FIELDS[cls] = names
    return names


def copy_json(value: Any) -> Any:
    """Deep-copy validated JSON; subclasses (an ``IntEnum``, an ``OrderedDict``) become plain.

    Plain values come back exactly as the other backends return them after a JSON round trip.
    Leaves are handled inline: this runs twice on every write, and calls dominate its cost.
    """
    kind = type(value)
    if kind is dict:
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                key = str.__str__(key)
            leaf = type(item)
            if leaf is str or leaf is int or leaf is float or leaf is bool or item is None:
                copied[key] = item
            else:
                copied[key] = copy_json(item)
        return copied
    if kind is list:
        return [copy_json(item) for item in value] if value else []
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return _plain(value)


def _plain(value: Any) -> Any:
    # Only subclasses of the JSON types get here: model validation rejected everything else.
    if isinstance(value, dict):
        return copy_json(dict(value))
    if isinstance(value, list):
        return copy_json(list(value))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    return float(value)


def owned(model: M) -> M:
    """Detach ``model``'s dicts and lists from anything the caller holds, in place.

    ``BaseRepository`` hands backends a freshly validated copy, but pydantic copies only the
    outer container of a ``dict[str, Any]`` field: nested values are still the caller's.
    """
    fields = model.__dict__
    for name in _mutable_fields(type(model)):
        fields[name] = copy_json(fields[name])
    return model


def clone(model: M) -> M:
    """Return an independent copy of a stored model, for handing to a caller."""
    return owned(model.__copy__())  # what model_copy() does, minus its argument handling
