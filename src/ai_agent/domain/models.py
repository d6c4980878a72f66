"""Domain entities of the agent platform: pydantic models, no I/O.

Every entity carries a client-chosen ``id`` (so a retried create can recognise its own
earlier write) and timezone-aware UTC timestamps. Field types are chosen so that every
storage backend can hold a value exactly as given:

* text never holds U+0000 (PostgreSQL cannot store it in ``text`` or ``jsonb``);
* JSON fields hold plain JSON: string keys, finite numbers, no more than
  :data:`MAX_JSON_DEPTH` levels of nesting, and only ``dict``, ``list``, ``str``, ``int``,
  ``float``, ``bool`` and ``None`` (a tuple or a UUID would come back as something else);
* datetimes must be timezone-aware and are normalised to UTC.

Usage::

    session = Session(user_id="user-1", title="Support chat")
    message = Message(session_id=session.id, role=MessageRole.USER, content="Hello")
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_NAME_LENGTH",
    "Agent",
    "AgentStatus",
    "DomainModel",
    "ExternalService",
    "ExternalServiceType",
    "MCPServer",
    "Message",
    "MessageRole",
    "Session",
    "Tool",
    "UserId",
    "plain_json",
    "utc_now",
]

MAX_JSON_DEPTH = 100
MAX_NAME_LENGTH = 255


def utc_now() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    # astimezone() returns a UTC value unchanged; the test skips the call on every write.
    return value if value.tzinfo is UTC else value.astimezone(UTC)


# NUL cannot be stored by PostgreSQL; a lone surrogate cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: str) -> str | None:
    """Describe the first character no backend can store, or ``None``.

    Runs on every string of every write, so the common cases skip the regex: ``in`` is a
    memchr, ``isascii`` reads a flag, and only a lone surrogate makes ``encode`` fail. The
    regex runs only to describe a problem.
    """
    if "\x00" not in value:
        if value.isascii():
            return None
        try:
            value.encode()  # raises on a lone surrogate, without a regex scan
        except UnicodeEncodeError:
            pass
        else:
            return None
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "the NUL character (U+0000)"
    return f"a lone surrogate (U+{ord(found.group()):04X}), which UTF-8 cannot encode"


def _reject_nul(value: str) -> str:
    problem = _unstorable(value)
    if problem:
        raise ValueError(f"text must not contain {problem}")
    return value


class _JsonError(ValueError):
    """A non-JSON value; ``path`` is filled in while the recursion unwinds (cheap when valid)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []

    def describe(self) -> str:
        where = "value" + "".join(reversed(self.path))
        return f"{where} {self.reason}"


def _plain_json(value: Any, depth: int = 1) -> Any:
    """A copy of ``value`` in plain JSON types, or ``_JsonError`` when it is not such JSON.

    Checking and copying are one walk: a validated model shares no dict or list with its
    input, and a subclass of a JSON type (an ``IntEnum``, an ``OrderedDict``) becomes the
    plain type, which is what every backend gives back after storing it.
    """
    if depth > MAX_JSON_DEPTH:
        raise _JsonError(f"nests deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        return _plain_object(value, depth)
    if isinstance(value, list):
        return _plain_array(value, depth)
    if isinstance(value, str):
        if problem := _unstorable(value):
            raise _JsonError(f"contains {problem}")
        return value if type(value) is str else str.__str__(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if type(value) is int else int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _JsonError(f"is {value}, which JSON cannot hold")
        return value if type(value) is float else float(value)
    raise _JsonError(f"holds a {type(value).__name__}, which is not JSON")


# Most JSON is ASCII text without NUL, ints, bools and None: the loops below take those
# leaves as they are, inline, so they cost no call. A leaf one level down is still within
# the depth limit only while depth < MAX_JSON_DEPTH.


def _plain_object(value: dict[Any, Any], depth: int) -> dict[str, Any]:
    copied: dict[str, Any] = {}
    shallow = depth < MAX_JSON_DEPTH
    for key, item in value.items():
        if type(key) is not str or not key.isascii() or "\x00" in key:
            key = _plain_key(key)
        if shallow:
            kind = type(item)
            if (kind is str and item.isascii() and "\x00" not in item) or (
                kind is int or kind is bool or item is None
            ):
                copied[key] = item
                continue
        try:
            copied[key] = _plain_json(item, depth + 1)
        except _JsonError as exc:
            exc.path.append(f"[{key!r}]")
            raise
    return copied


def _plain_array(value: list[Any], depth: int) -> list[Any]:
    copied: list[Any] = []
    shallow = depth < MAX_JSON_DEPTH
    for index, item in enumerate(value):
        if shallow:
            kind = type(item)
            if (kind is str and item.isascii() and "\x00" not in item) or (
                kind is int or kind is bool or item is None
            ):
                copied.append(item)
                continue
        try:
            copied.append(_plain_json(item, depth + 1))
        except _JsonError as exc:
            exc.path.append(f"[{index}]")
            raise
    return copied


def _plain_key(key: Any) -> str:
    if not isinstance(key, str):
        raise _JsonError(f"has the key {key!r}; JSON object keys must be strings")
    if problem := _unstorable(key):
        raise _JsonError(f"has a key containing {problem}: {key!r}")
    return str.__str__(key)


def plain_json(value: Any) -> Any:
    """A checked, independent copy of ``value`` in plain JSON types; ``ValueError`` names
    where it is not JSON that every backend stores alike (the path, the reason)."""
    try:
        return _plain_json(value)
    except _JsonError as exc:
        if len(exc.path) > 8:  # keep messages readable for deeply nested values
            exc.path = [*exc.path[:4], "...", *exc.path[-3:]]
        raise ValueError(exc.describe()) from None


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = plain_json(value)
    return copied


def _json_objects(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    copied: list[dict[str, Any]] = plain_json(value)
    return copied


UTCDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Text = Annotated[str, AfterValidator(_reject_nul)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_reject_nul)]
UserId = Annotated[str, Field(max_length=MAX_NAME_LENGTH), AfterValidator(_reject_nul)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]
JsonObjectList = Annotated[list[dict[str, Any]], AfterValidator(_json_objects)]
NameList = list[Name]


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class AgentStatus(StrEnum):
    IDLE = "idle"
    PROCESSING = "processing"
    WAITING = "waiting"
    ERROR = "error"
    COMPLETED = "completed"


class ExternalServiceType(StrEnum):
    LLM_PROVIDER = "llm_provider"
    MCP_SERVER = "mcp_server"
    DATABASE = "database"
    CACHE = "cache"
    SECRET_MANAGER = "secret_manager"
    MESSAGE_QUEUE = "message_queue"


class DomainModel(BaseModel):
    """Base of every entity: mutable, validated on assignment, no unknown fields."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    id: UUID = Field(default_factory=uuid4)
    created_at: UTCDateTime = Field(default_factory=utc_now)
    updated_at: UTCDateTime = Field(default_factory=utc_now)


class Session(DomainModel):
    """A conversation; the repository owns ``message_count`` and ``updated_at``."""

    user_id: UserId | None = None
    title: Text | None = None
    metadata: JsonObject = Field(default_factory=dict)
    message_count: int = Field(default=0, ge=0)
    last_activity: UTCDateTime = Field(default_factory=utc_now)


class Message(DomainModel):
    """One message of a session; ``parent_message_id`` names a message of the same session."""

    session_id: UUID
    role: MessageRole
    content: Text
    metadata: JsonObject = Field(default_factory=dict)
    tool_calls: JsonObjectList = Field(default_factory=list)
    parent_message_id: UUID | None = None


class Agent(DomainModel):
    """An agent configuration; ``tools`` holds tool names."""

    name: Name
    description: Text | None = None
    system_prompt: Text | None = None
    llm_config: JsonObject = Field(default_factory=dict)
    tools: NameList = Field(default_factory=list)
    status: AgentStatus = AgentStatus.IDLE
    metadata: JsonObject = Field(default_factory=dict)


class Tool(DomainModel):
    """A callable tool, optionally served by an MCP server."""

    name: Name
    description: Text | None = None
    tool_schema: JsonObject = Field(default_factory=dict)
    mcp_server_id: UUID | None = None
    enabled: bool = True
    metadata: JsonObject = Field(default_factory=dict)


class MCPServer(DomainModel):
    """An MCP server; ``authentication`` holds credentials and never shows in repr or errors."""

    model_config = ConfigDict(hide_input_in_errors=True)

    name: Name
    description: Text | None = None
    endpoint: Annotated[Text, Field(min_length=1)]
    authentication: JsonObject = Field(default_factory=dict, repr=False)
    capabilities: NameList = Field(default_factory=list)
    health_check_url: Text | None = None
    enabled: bool = True


class ExternalService(DomainModel):
    """A monitored dependency; ``authentication`` never shows in repr or errors."""

    model_config = ConfigDict(hide_input_in_errors=True)

    name: Name
    service_type: ExternalServiceType
    endpoint: Annotated[Text, Field(min_length=1)]
    authentication: JsonObject = Field(default_factory=dict, repr=False)
    retry_config: JsonObject = Field(default_factory=dict)
    circuit_breaker_config: JsonObject = Field(default_factory=dict)
    health_check_url: Text | None = None
    enabled: bool = True
