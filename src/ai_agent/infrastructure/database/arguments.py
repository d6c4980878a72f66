"""Argument checks of :class:`~.base.BaseRepository`: every public method re-validates what
it is given (models built with ``model_construct`` or mutated past validation, ids, paging
bounds, duplicate ids within a batch) and hands the backend fresh, owned copies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel, TypeAdapter, ValidationError

from ai_agent.domain.models import Message, UserId
from ai_agent.infrastructure.database.contract import MAX_LIMIT
from ai_agent.infrastructure.database.copies import owned
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    RepositoryConnectionError,
    RepositoryValidationError,
)

__all__ = ["ArgumentChecks", "describe_validation_error"]

M = TypeVar("M", bound=BaseModel)

_USER_ID: TypeAdapter[str | None] = TypeAdapter(UserId | None)

# Any offset past this one is past the end of every store, so it is clamped here, once, for
# every backend: SQLite and PostgreSQL take 64-bit signed integers (10**30 raised
# OverflowError), Redis parses a signed 64-bit ``long long``, and a backend may add the
# limit to it. 2**62 + MAX_LIMIT fits all of them, far past anything a store holds.
MAX_OFFSET = 2**62


def describe_validation_error(exc: ValidationError) -> str:
    """Render a pydantic error as one line without input values (they may hold secrets)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        location = ".".join(str(item) for item in error["loc"]) or "value"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


class ArgumentChecks:
    """The checks; each raises ``RepositoryValidationError`` naming what was wrong."""

    backend_name: ClassVar[str]
    _connected: bool

    def _ensure_open(self) -> None:
        if not self._connected:
            raise RepositoryConnectionError(
                f"{self.backend_name} repository is not connected; call connect() first"
            )

    def _entity(self, value: object, model: type[M]) -> M:
        """Return a freshly validated copy of ``value`` sharing nothing mutable with it."""
        self._ensure_open()
        if not isinstance(value, model):
            raise RepositoryValidationError(
                f"expected a {model.__name__}, got {type(value).__name__}"
            )
        try:
            # Validated once, here: the result shares no dict or list with the caller's model
            # (the domain's JSON validators copy as they check), so a backend may keep or
            # return it as is. The validator reads __dict__ without changing it.
            valid: M = model.__pydantic_validator__.validate_python(value.__dict__)
            return owned(valid)
        except ValidationError as exc:
            identity = value.__dict__.get("id")
            which = f"{model.__name__} {identity}" if identity else model.__name__
            raise RepositoryValidationError(
                f"invalid {which}: {describe_validation_error(exc)}"
            ) from None

    def _entities(self, values: Sequence[Message]) -> list[Message]:
        self._ensure_open()
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise RepositoryValidationError(
                f"expected a list of Message, got {type(values).__name__}"
            )
        checked = [self._entity(value, Message) for value in values]
        seen: set[UUID] = set()
        for message in checked:
            if message.id in seen:
                raise DuplicateError("message", "id", message.id)
            seen.add(message.id)
        return checked

    def _key(self, value: object, entity: str) -> UUID:
        self._ensure_open()
        if type(value) is UUID:
            return value
        if isinstance(value, UUID):  # a driver's subclass: backends may return the key as is
            return UUID(int=value.int)
        if isinstance(value, str):
            try:
                return UUID(value)
            except ValueError:
                pass
        raise RepositoryValidationError(f"{entity} id must be a UUID, got {value!r:.80}")

    def _page(self, limit: object, offset: object = 0, *, name: str = "limit") -> tuple[int, int]:
        self._ensure_open()
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise RepositoryValidationError(
                f"{name} must be an integer from 1 to {MAX_LIMIT}, got {limit!r:.80}"
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise RepositoryValidationError(f"offset must be an integer >= 0, got {offset!r:.80}")
        return limit, min(offset, MAX_OFFSET)

    @staticmethod
    def _flag(value: object, name: str) -> bool:
        if not isinstance(value, bool):
            raise RepositoryValidationError(f"{name} must be a bool, got {value!r:.80}")
        return value

    @staticmethod
    def _user_id(value: object) -> str | None:
        try:
            return _USER_ID.validate_python(value, strict=True)
        except ValidationError as exc:
            raise RepositoryValidationError(
                f"invalid user_id: {describe_validation_error(exc)}"
            ) from None
