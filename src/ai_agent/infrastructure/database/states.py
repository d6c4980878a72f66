"""State operations of :class:`~.base.BaseRepository`: scoped state beside sessions and messages.

A *scope* is a caller-chosen name (``'["adk", "app", "my_app"]'``, say) for one JSON object
stored key by key, shared by whichever sessions the caller lets read it. Deltas merge
shallowly: each key given replaces the stored key (JSON ``null`` included), others stay.
What :mod:`ai_agent.integrations.adk` needs for ADK's ``app:`` and ``user:`` state, with no
ADK name in the contract. The public methods check their arguments and hand the backend
owned copies; backends implement the private ``_<method>`` (contract: :mod:`.contract`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from pydantic import TypeAdapter, ValidationError

from ai_agent.domain.models import JsonObject, Message, Session
from ai_agent.infrastructure.database.arguments import ArgumentChecks, describe_validation_error
from ai_agent.infrastructure.database.calls import CallRunner, same_write
from ai_agent.infrastructure.database.contract import MAX_LIMIT
from ai_agent.infrastructure.database.errors import ConflictError, RepositoryValidationError

__all__ = [
    "MAX_SCOPE_BYTES",
    "MAX_STATE_KEY_BYTES",
    "StateDeltas",
    "StateOperations",
    "StatefulAppend",
    "checked_delta",
    "checked_deltas",
    "checked_instant",
    "checked_scopes",
    "merge_session_state",
]

#: Longest scope name and state key, in UTF-8 bytes (together they fit a btree key).
MAX_SCOPE_BYTES: Final = 1024
MAX_STATE_KEY_BYTES: Final = 1024

#: Checked deltas, scope -> key -> JSON value, scopes and keys in code-point order (the
#: order every backend writes, and so locks, them in).
StateDeltas = dict[str, dict[str, Any]]


class StatefulAppend(NamedTuple):
    """One checked ``append_message_with_state`` call, as a backend receives it: the message,
    the scope deltas, the session's own delta (``None``: none) and ``if_last_activity``."""

    message: Message
    state: StateDeltas
    session_state: dict[str, Any] | None
    if_last_activity: datetime | None


_JSON_OBJECT: TypeAdapter[dict[str, Any]] = TypeAdapter(JsonObject)


class StateOperations(ArgumentChecks, CallRunner, ABC):
    """``get_states``, ``create_session_with_state`` and ``append_message_with_state``."""

    async def get_states(self, scopes: Sequence[str]) -> dict[str, dict[str, Any]]:
        self._ensure_open()
        names = checked_scopes(scopes)
        if not names:
            return {}
        found: dict[str, dict[str, Any]] = await self._run(self._get_states, names)
        return {name: found.get(name, {}) for name in names}

    async def create_session_with_state(
        self, session: Session, *, state: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Session:
        valid = self._entity(session, Session)
        deltas = checked_deltas(state)
        if not deltas:
            return await self._create(self._create_session, valid, self._get_session)

        async def identical_copy() -> Session | None:
            stored = await self._attempt(self._get_session, (valid.id,))
            return stored if stored is not None and same_write(stored, valid) else None

        created: Session = await self._run(
            self._create_session_with_state, valid, deltas, recover=identical_copy
        )
        return created

    async def append_message_with_state(
        self,
        message: Message,
        *,
        state: Mapping[str, Mapping[str, Any]] | None = None,
        session_state: Mapping[str, Any] | None = None,
        if_last_activity: datetime | None = None,
    ) -> Message:
        valid = self._entity(message, Message)
        deltas = checked_deltas(state)
        own = checked_delta(session_state, "session_state") if session_state is not None else {}
        limit = checked_instant(if_last_activity)

        async def identical_copy() -> Message | None:
            # Only an attempt that stored the message (and its state with it, atomically)
            # leaves an identical message behind.
            stored = await self._attempt(self._get_message, (valid.id,))
            return stored if stored is not None and same_write(stored, valid) else None

        stored: Message | None = await self._run(
            self._append_message_with_state,
            StatefulAppend(valid, deltas, own or None, limit),
            recover=identical_copy,
        )
        if stored is None:  # refused by if_last_activity: a retry would be refused again
            raise ConflictError(
                f"session {valid.session_id} changed after {limit.isoformat() if limit else '?'}"
                " (its last_activity is later); reload it before appending"
            )
        return stored

    # -- what a backend implements -----------------------------------------------------------

    @abstractmethod
    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        """The stored state of each of ``scopes`` that has any (others may be left out)."""

    @abstractmethod
    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        """``_create_session`` and the merge of ``state`` (non-empty), atomically."""

    @abstractmethod
    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        """The atomic step of ``append_message_with_state``; ``None`` when the stored
        session's ``last_activity`` is later than ``if_last_activity`` (nothing written).

        Every check comes before any write: the session exists (``NotFoundError``) and the
        message id is new (``DuplicateError``), in either order; the parent exists; and only
        then ``if_last_activity``, so that a retry meets its own earlier write as a duplicate.
        """

    @abstractmethod
    async def _get_session(self, session_id: Any) -> Session | None: ...
    @abstractmethod
    async def _create_session(self, session: Session) -> Session: ...
    @abstractmethod
    async def _get_message(self, message_id: Any) -> Message | None: ...


def merge_session_state(metadata: dict[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` with ``delta`` merged into its ``"state"`` object (a non-object there is
    replaced); the memory, SQLite and Redis backends merge in Python, PostgreSQL in SQL."""
    current = metadata.get("state")
    merged = dict(current) if isinstance(current, dict) else {}
    merged.update(delta)
    return {**metadata, "state": merged}


def _text(value: object, what: str, limit: int, *, empty: bool) -> str:
    if not isinstance(value, str):
        raise RepositoryValidationError(f"{what} must be a str, got {type(value).__name__}")
    try:
        size = len(value.encode())
    except UnicodeEncodeError:
        raise RepositoryValidationError(f"{what} {value!r:.80} is not valid text") from None
    if "\x00" in value:
        raise RepositoryValidationError(f"{what} {value!r:.80} must not contain NUL")
    if size > limit or (not empty and size == 0):
        low = 0 if empty else 1
        raise RepositoryValidationError(
            f"{what} must be {low} to {limit} bytes of UTF-8, got {size}: {value!r:.80}"
        )
    return value


def checked_scopes(values: object) -> list[str]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise RepositoryValidationError(
            f"scopes must be a list of str, got {type(values).__name__}"
        )
    if len(values) > MAX_LIMIT:
        raise RepositoryValidationError(f"at most {MAX_LIMIT} scopes per call, got {len(values)}")
    names = [_text(value, "scope", MAX_SCOPE_BYTES, empty=False) for value in values]
    return list(dict.fromkeys(names))


def checked_delta(value: object, what: str) -> dict[str, Any]:
    """A validated, owned copy of one delta, keys in code-point order."""
    if not isinstance(value, Mapping):
        raise RepositoryValidationError(f"{what} must be a mapping, got {type(value).__name__}")
    for key in value:
        _text(key, f"{what} key", MAX_STATE_KEY_BYTES, empty=True)
    try:
        checked = _JSON_OBJECT.validate_python(dict(value))
    except ValidationError as exc:
        raise RepositoryValidationError(
            f"invalid {what}: {describe_validation_error(exc)}"
        ) from None
    return dict(sorted(checked.items()))  # checked: the validator's own copy


def checked_deltas(value: object) -> StateDeltas:
    """Checked scope deltas, empty ones dropped, scopes in code-point order."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RepositoryValidationError(f"state must be a mapping, got {type(value).__name__}")
    if len(value) > MAX_LIMIT:
        raise RepositoryValidationError(f"at most {MAX_LIMIT} scopes per call, got {len(value)}")
    deltas: StateDeltas = {}
    for scope in sorted(value, key=lambda name: str(name)):
        name = _text(scope, "scope", MAX_SCOPE_BYTES, empty=False)
        delta = checked_delta(value[scope], f"state[{name!r:.80}]")
        if delta:
            deltas[name] = delta
    return deltas


def checked_instant(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise RepositoryValidationError(
            f"if_last_activity must be a timezone-aware datetime, got {value!r:.80}"
        )
    return value.astimezone(UTC)  # as stored: every backend keeps UTC
