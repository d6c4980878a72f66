"""Models <-> stored values, in one place.

Each fact is stored once. The fields Lua must read or change live outside the JSON, so no
script ever parses user JSON (cjson would turn big integers into doubles and ``{}`` into
``[]``):

* a session hash keeps ``created``, ``activity`` (last_activity), ``count`` and ``user`` as
  fields and everything else in ``doc``;
* a message frame is ``created \\0 parent \\0 JSON``;
* a catalog frame is ``created \\0 link \\0 name \\0 JSON`` (link = a tool's MCP server id).

Timestamps are integer microseconds since the Unix epoch, exact for every ``datetime``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any, Final, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from ai_agent.domain.models import (
    Agent,
    ExternalService,
    MCPServer,
    Message,
    MessageRole,
    Session,
    Tool,
)
from ai_agent.infrastructure.database.copies import construct, field_kinds, uuid_from_text
from ai_agent.infrastructure.database.errors import RepositoryError, RepositoryValidationError
from ai_agent.infrastructure.database.json_text import decode_json

__all__ = [
    "SESSION_FIELDS",
    "CatalogEntity",
    "catalog_body",
    "decode_catalog",
    "decode_message",
    "decode_messages",
    "decode_session",
    "from_micros",
    "message_body",
    "micros",
    "session_doc",
    "utf8",
]

CatalogEntity = TypeVar("CatalogEntity", Agent, Tool, MCPServer, ExternalService)
M = TypeVar("M", bound=BaseModel)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
NUL: Final = "\x00"

SESSION_FIELDS: Final = ("doc", "created", "activity", "count", "user")
_SESSION_OUTSIDE: Final = {"created_at", "last_activity", "message_count", "user_id"}
_MESSAGE_OUTSIDE: Final = {"created_at", "parent_message_id"}
_CATALOG_OUTSIDE: Final = {"created_at", "name", "mcp_server_id"}


def micros(value: datetime) -> int:
    """Microseconds since the epoch, exactly (integer arithmetic, no float)."""
    return (value - _EPOCH) // _MICROSECOND


def from_micros(value: str | int) -> datetime:
    return _EPOCH + timedelta(0, 0, int(value))  # positional: no keyword parsing


def utf8(text: str, what: str) -> str:
    """``text`` if it can be stored (UTF-8 encodable), else a validation error naming ``what``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RepositoryValidationError(f"{what} is not valid Unicode text") from None
    return text


def _dump(model: BaseModel, exclude: set[str]) -> str:
    try:
        return model.model_dump_json(exclude=exclude)
    except PydanticSerializationError as exc:
        name = type(model).__name__
        raise RepositoryValidationError(
            f"{name} {getattr(model, 'id', '')} cannot be stored: {exc}"
        ) from None


# Ids repeat across the rows of one read (every message names its session), so parsed ones
# are cached. UUIDs are immutable, so sharing them is safe.
_uuid = lru_cache(maxsize=4096)(uuid_from_text)


@dataclass(frozen=True, slots=True)
class _Shape:
    """How a model comes back from stored data: its fields in order, and what turns the
    ones stored as JSON text (ids, timestamps, enums) back into their types."""

    fields: tuple[str, ...]
    converters: tuple[tuple[str, Callable[[str], Any]], ...]


def _shape(model: type[BaseModel]) -> _Shape:
    """A bad value raises ``KeyError`` or ``ValueError``, which :func:`_load` turns into the
    validating path."""
    pairs: list[tuple[str, Callable[[str], Any]]] = []
    kinds = field_kinds(model)
    for name, kind in kinds.items():
        if kind is UUID:
            # A record's own id never repeats within a read: a cache would only churn.
            pairs.append((name, uuid_from_text if name == "id" else _uuid))
        elif isinstance(kind, type) and issubclass(kind, Enum):
            pairs.append((name, {member.value: member for member in kind}.__getitem__))
        elif kind is datetime:
            pairs.append((name, datetime.fromisoformat))  # pydantic writes ISO 8601, "Z"
    return _Shape(tuple(kinds), tuple(pairs))


_SHAPES: Final[dict[type[BaseModel], _Shape]] = {
    model: _shape(model) for model in (Session, Message, Agent, Tool, MCPServer, ExternalService)
}


def _load(model: type[M], data: dict[str, Any], noun: str) -> M:
    """The model from stored data, without validating it again.

    Everything stored was validated by the repository on its way in and written by
    ``model_dump_json``, so the values only need their types back (ids, timestamps, enums
    are text in JSON), which is far cheaper than ``model_validate``. Only
    the fields that need converting are visited (fields kept outside the JSON arrive
    converted already, or ``None``), and the values are then taken in field order, the
    order a validated model holds them in. Data not written that way (a field
    missing, a malformed id) takes the validating path, which says what is wrong.
    """
    shape = _SHAPES[model]
    try:
        for name, convert in shape.converters:
            value = data[name]
            if type(value) is str:
                data[name] = convert(value)
        values = {name: data[name] for name in shape.fields}
    except (KeyError, TypeError, ValueError):
        pass
    else:
        return construct(model, values)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = f"{noun} {data.get('id')}"  # built on failure only: reads run this per row
        raise RepositoryError(f"stored {where} is not a valid {model.__name__}: {exc}") from None


# -- sessions -------------------------------------------------------------------------------


def session_doc(session: Session) -> str:
    if session.user_id is not None:
        utf8(session.user_id, f"user_id of session {session.id}")
    return _dump(session, _SESSION_OUTSIDE)


def decode_session(row: list[str | None]) -> Session | None:
    """A session from ``HMGET key *SESSION_FIELDS``, or ``None`` when the key is gone.

    The fields are written out, in the model's order, as for messages: listings build a
    model per session (tests/unit/test_stored_decoding.py checks the order).
    """
    doc, created, activity, count, user = row
    if doc is None or created is None or activity is None:
        return None
    data = decode_json(doc)
    created_at, last_activity = from_micros(created), from_micros(activity)
    message_count = int(count or 0)
    try:
        values = {
            "id": uuid_from_text(data["id"]),
            "created_at": created_at,
            "updated_at": datetime.fromisoformat(data["updated_at"]),
            "user_id": user,
            "title": data["title"],
            "metadata": data["metadata"],
            "message_count": message_count,
            "last_activity": last_activity,
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        data.update(
            created_at=created_at,
            last_activity=last_activity,
            message_count=message_count,
            user_id=user,
        )
        return _load(Session, data, "session")  # says what is wrong
    return construct(Session, values)


# -- messages -------------------------------------------------------------------------------


def message_body(message: Message) -> str:
    return _dump(message, _MESSAGE_OUTSIDE)


def decode_message(frame: str) -> Message:
    created, parent, body = frame.split(NUL, 2)
    return _message(int(created), parent, decode_json(body))


def decode_messages(frames: list[str]) -> list[Message]:
    return [decode_message(frame) for frame in frames]


_ROLES: Final = {role.value: role for role in MessageRole}


def _message(created: int, parent: str, data: dict[str, Any]) -> Message:
    """``_load`` for a message, with the fields written out, in the model's order.

    Reads build a model per message, and the generic walk of ``_load`` costs as much again;
    tests/unit/test_stored_decoding.py fails should the model's fields change.
    """
    stamp = _EPOCH + timedelta(0, 0, created)  # positional: no keyword parsing
    try:
        values = {
            "id": uuid_from_text(data["id"]),  # never repeats within a read: no cache
            "created_at": stamp,
            "updated_at": datetime.fromisoformat(data["updated_at"]),
            "session_id": _uuid(data["session_id"]),
            "role": _ROLES[data["role"]],
            "content": data["content"],
            "metadata": data["metadata"],
            "tool_calls": data["tool_calls"],
            "parent_message_id": _uuid(parent) if parent else None,
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        data.update(created_at=stamp, parent_message_id=_uuid(parent) if parent else None)
        return _load(Message, data, "message")  # says what is wrong
    return construct(Message, values)


# -- catalog --------------------------------------------------------------------------------


def catalog_body(entity: Agent | Tool | MCPServer | ExternalService) -> str:
    utf8(entity.name, f"name of {type(entity).__name__} {entity.id}")
    return _dump(entity, _CATALOG_OUTSIDE)


def decode_catalog(model: type[CatalogEntity], frame: str) -> CatalogEntity:
    created, link, name, body = frame.split(NUL, 3)
    data = decode_json(body)
    data.update(created_at=from_micros(created), name=name)
    if model is Tool:
        data["mcp_server_id"] = _uuid(link) if link else None
    return _load(model, data, model.__name__)
