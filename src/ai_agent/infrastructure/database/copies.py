"""Copies that share nothing mutable, and models built from trusted values, in one place.

``BaseRepository`` validates every argument (which copies its JSON) and gives it exact types
(:func:`owned`) before a backend sees it, so a backend may keep or return it as is; the
in-memory backend clones what it keeps for each caller (:func:`clone`). Backends that read
rows, hashes or JSON from a server build fresh objects from the wire and rebuild models with
:func:`construct`.
"""

from __future__ import annotations

from datetime import datetime
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin
from uuid import UUID, SafeUUID

from pydantic import AwareDatetime, BaseModel

__all__ = [
    "clone",
    "construct",
    "copy_json",
    "field_kinds",
    "owned",
    "uuid_from_int",
    "uuid_from_text",
]

M = TypeVar("M", bound=BaseModel)

_MUTABLE_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}
_EXACT_FIELDS: dict[type[BaseModel], tuple[tuple[str, type], ...]] = {}


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
    """Give a freshly validated ``model`` exactly the declared types, in place.

    Validation already detached its dicts and lists from the caller (the domain's JSON
    validators return checked copies; pydantic builds new lists), but it keeps a subclass of
    ``UUID`` or ``datetime`` as given (a driver's UUID class, say): those become the standard
    types here, so that every backend stores, and hands back, exactly the declared types.
    """
    fields = model.__dict__
    for name, kind in _exact_fields(type(model)):
        value = fields[name]
        if value is not None and type(value) is not kind:
            fields[name] = _exact(value)
    return model


def _exact_fields(cls: type[BaseModel]) -> tuple[tuple[str, type], ...]:
    found = _EXACT_FIELDS.get(cls)
    if found is None:
        kinds = field_kinds(cls).items()
        found = tuple((name, kind) for name, kind in kinds if kind is UUID or kind is datetime)
        _EXACT_FIELDS[cls] = found
    return found


def _exact(value: UUID | datetime) -> UUID | datetime:
    if isinstance(value, UUID):
        return UUID(int=value.int)
    return datetime.combine(value.date(), value.timetz())  # timetz(): tzinfo and fold too


def construct(cls: type[M], values: dict[str, Any]) -> M:
    """Build a ``cls`` from ``values`` without validating: each field given, of its type.

    For values a repository validated on the way in and reads back from its own store.
    What ``model_construct`` does for these models (no extra fields, no private attributes,
    every field given), at a fifth of its cost: it walks defaults and aliases in Python.
    ``values`` becomes the model's ``__dict__``.
    """
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, set(values))
    _set_extra(model, None)
    _set_private(model, None)
    return model


def uuid_from_text(text: str) -> UUID:
    """Exactly a ``uuid.UUID`` of ``text``; the canonical form skips ``UUID.__init__``."""
    if len(text) != 36:  # not the canonical form the stores write: let UUID parse it
        return UUID(text)
    return uuid_from_int(int(text.replace("-", ""), 16))


def uuid_from_int(value: int) -> UUID:
    """Exactly a ``uuid.UUID`` of ``value``, its two slots filled as unpickling does.

    ``UUID(int=...)`` checks its arguments in Python first; ids read back from a store were
    validated on the way in, so readers build them here.
    """
    uuid = _new(UUID)
    _set_uuid_int(uuid, value)
    _set_uuid_safe(uuid, _UNKNOWN_SAFETY)
    return uuid


def clone(model: M) -> M:
    """Return an independent copy of a stored model, for handing to a caller."""
    values = dict(model.__dict__)
    for name in _mutable_fields(type(model)):
        values[name] = copy_json(values[name])
    return construct(type(model), values)


_new = object.__new__  # BaseModel defines no __new__: bound once, not looked up per model
# The slots' own descriptors: cheaper per call than object.__setattr__'s attribute lookup.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_set_uuid_int = UUID.__dict__["int"].__set__
_set_uuid_safe = UUID.__dict__["is_safe"].__set__
_UNKNOWN_SAFETY = SafeUUID.unknown


def field_kinds(cls: type[BaseModel]) -> dict[str, type]:
    """Each field's value type, ``None`` and ``Annotated`` removed, in field order.

    ``UUID``, ``datetime``, an enum, ``dict``, ``list``, ``bool``, ``int`` or ``str``: what a
    backend's decoder needs to know to turn a stored value back into the field's type.
    """
    kinds: dict[str, type] = {}
    for name, info in cls.model_fields.items():
        kind: Any = info.annotation
        if get_origin(kind) in (Union, UnionType):
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        kind = get_origin(kind) or kind
        kinds[name] = datetime if kind is AwareDatetime else kind
    return kinds
