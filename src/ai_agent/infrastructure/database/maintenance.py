"""Maintenance operations of :class:`~.base.BaseRepository`: what retention needs.

Not part of the request-path contract (:class:`~.contract.Repository`): a job calls them,
through :func:`ai_agent.infrastructure.database.retention.prune`. Each call changes a
bounded amount of data in one short atomic step, so concurrent appends keep flowing while
a large prune runs, and a prune interrupted at any point leaves exact counts behind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from ai_agent.infrastructure.database.arguments import ArgumentChecks
from ai_agent.infrastructure.database.calls import CallRunner
from ai_agent.infrastructure.database.contract import MAX_LIMIT
from ai_agent.infrastructure.database.errors import RepositoryValidationError

__all__ = ["MaintenanceOperations"]


class MaintenanceOperations(ArgumentChecks, CallRunner, ABC):
    """Deleting old sessions and the oldest messages of long sessions, a batch at a time."""

    async def prune_sessions(
        self, inactive_before: datetime, limit: int = MAX_LIMIT
    ) -> tuple[int, int]:
        """Delete up to ``limit`` sessions (with their messages) whose ``last_activity`` is
        before ``inactive_before``, least recently active first; return how many sessions,
        and how many messages they held."""
        self._ensure_open()
        cutoff = _instant(inactive_before)
        count = _count(limit, "limit", minimum=1)
        deleted: tuple[int, int] = await self._run(self._prune_sessions, cutoff, count)
        return deleted

    async def count_inactive_sessions(self, inactive_before: datetime) -> tuple[int, int]:
        """How many sessions ``prune_sessions`` would delete, and how many messages they hold."""
        self._ensure_open()
        counts: tuple[int, int] = await self._run(
            self._count_inactive_sessions, _instant(inactive_before)
        )
        return counts

    async def trim_messages(self, session_id: UUID, keep: int, limit: int = MAX_LIMIT) -> int:
        """Delete up to ``limit`` of the session's oldest messages beyond its newest ``keep``;
        return how many (``message_count`` follows, in the same atomic step)."""
        key = self._key(session_id, "session")
        kept = _count(keep, "keep", minimum=0)
        count = _count(limit, "limit", minimum=1)
        deleted: int = await self._run(self._trim_messages, key, kept, count)
        return deleted

    async def long_sessions(
        self, more_than: int, after: UUID | None = None, limit: int = MAX_LIMIT
    ) -> list[tuple[UUID, int]]:
        """Sessions holding more than ``more_than`` messages, as ``(id, message_count)``, in
        id order after ``after``: page through them by passing the last id back."""
        threshold = _count(more_than, "more_than", minimum=0)
        start = None if after is None else self._key(after, "session")
        count = _count(limit, "limit", minimum=1)
        found: list[tuple[UUID, int]] = await self._run(
            self._long_sessions, threshold, start, count
        )
        return found

    @abstractmethod
    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]: ...
    @abstractmethod
    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]: ...
    @abstractmethod
    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int: ...
    @abstractmethod
    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]: ...


def _instant(value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise RepositoryValidationError(
            f"inactive_before must be a timezone-aware datetime, got {value!r:.80}"
        )
    return value


def _count(value: object, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RepositoryValidationError(
            f"{name} must be an integer >= {minimum}, got {value!r:.80}"
        )
    return min(value, MAX_LIMIT) if name == "limit" else value
