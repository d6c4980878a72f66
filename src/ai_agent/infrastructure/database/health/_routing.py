"""The routing core of ``FailoverRepository``: where each call goes, and the journaled write.

A call goes to the primary while the breaker is closed; a ``RepositoryConnectionError``
from it counts toward the breaker, and when that failure opens the breaker the same call is
served as an outage call (a write that did reach the primary is recognised by id at replay).
Outage calls follow the rules in docs/architecture.md ("Health and failover"). Every
fallback write and its journal entry happen under the write lock, which the last stretch of
replay also takes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import NoReturn, Protocol, TypeVar
from uuid import UUID

from ai_agent.domain.models import Message
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.errors import (
    NotFoundError,
    RepositoryConnectionError,
    RepositoryError,
)
from ai_agent.infrastructure.database.health._failover import Failover, backend_name, describe
from ai_agent.infrastructure.database.health._replay import encode_id
from ai_agent.infrastructure.database.scoped import ConnectsInContext
from ai_agent.infrastructure.database.telemetry import Measured, Telemetry

__all__ = ["Check", "Op", "Router", "exists"]

T = TypeVar("T")
Op = Callable[[Repository], Awaitable[T]]
Check = Callable[[BaseRepository], object]


class _Lifecycle(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


async def exists(found: Awaitable[object | None]) -> bool:
    return await found is not None


class Router(ConnectsInContext, Measured):
    """Lifecycle (the monitor's) and the routing helpers the repository methods use."""

    backend_name = "failover"

    def __init__(
        self, failover: Failover, lifecycle: _Lifecycle, telemetry: Telemetry | None = None
    ) -> None:
        self._failover = failover
        self._lifecycle = lifecycle
        self.telemetry = telemetry if telemetry is not None else Telemetry()

    def __repr__(self) -> str:
        failover = self._failover
        return (
            f"{type(self).__name__}(primary={failover.primary!r}, fallback={failover.fallback!r})"
        )

    def _failover_state(self) -> tuple[str, str, bool, int]:
        failover = self._failover
        fallback = "none" if failover.fallback is None else backend_name(failover.fallback)
        active = failover.running and not failover.serves_primary()
        return backend_name(failover.primary), fallback, active, failover.journal.pending_count

    # -- lifecycle: the monitor's ------------------------------------------------------------

    async def connect(self) -> None:
        await self._lifecycle.start()

    async def disconnect(self) -> None:
        await self._lifecycle.stop()

    async def health_check(self) -> bool:
        failover = self._failover
        if not failover.running:
            return False
        serving = failover.primary if failover.serves_primary() else failover.fallback
        return serving is not None and await serving.health_check()

    # -- routing -----------------------------------------------------------------------------

    async def _call(self, op: Op[T], outage: Callable[[], Awaitable[T]]) -> T:
        failover = self._failover
        failover.ensure_running()
        if failover.serves_primary():
            try:
                return await self._primary(op)
            except RepositoryConnectionError:
                if failover.serves_primary():
                    raise
                # This failure opened the breaker: serve the call as an outage call. A write
                # that did reach the primary is recognised by id when the journal is replayed.
        return await outage()

    async def _primary(self, op: Op[T]) -> T:
        failover = self._failover
        try:
            result = await op(failover.primary)
        except RepositoryConnectionError as exc:
            failover.primary_failed(exc)
            raise
        failover.primary_succeeded()
        return result

    async def _fallback(self, op: Op[T]) -> T:
        failover = self._failover
        assert failover.fallback is not None, "outage calls happen only with a fallback"
        try:
            return await op(failover.fallback)
        except RepositoryConnectionError as exc:
            raise failover.unavailable(f"and the fallback failed too: {describe(exc)}") from exc

    async def _clean(self) -> None:
        """Copies of an earlier outage must leave the fallback before it answers again.

        They were replayed, and the primary may have changed them since. (Normally they are
        cleared at failback; this covers a fallback that failed then, or a restart.)
        """
        failover = self._failover
        if failover.needs_clear:
            async with failover.write_lock:
                await self._clean_locked()

    async def _clean_locked(self) -> None:
        failover = self._failover
        if not failover.needs_clear:
            return
        try:
            await failover.clear_fallback()
        except RepositoryError as exc:
            raise failover.unavailable(
                f"and the fallback's copies of an earlier outage cannot be cleared: {describe(exc)}"
            ) from exc

    async def _get(self, op: Op[T | None], what: str, key: object) -> T | None:
        async def outage() -> T | None:
            await self._clean()
            found = await self._fallback(op)
            if found is not None:
                return found
            if self._failover.serves_primary():  # failed back meanwhile: the primary has it all
                return await self._primary(op)
            raise self._failover.unavailable(f"{what} {key} is not in the fallback")

        return await self._call(op, outage)

    async def _session_messages(self, op: Op[list[Message]], session_id: UUID) -> list[Message]:
        async def outage() -> list[Message]:
            await self._clean()
            found = await self._fallback(op)
            # A session created during the outage has all of its messages in the fallback.
            if found or await self._fallback(lambda r: r.get_session(session_id)) is not None:
                return found
            if self._failover.serves_primary():
                return await self._primary(op)
            raise self._failover.unavailable(f"session {session_id} is not in the fallback")

        return await self._call(op, outage)

    def _check(self, check: Check) -> None:
        """Run the argument checks the serving repository makes, on whichever can."""
        failover = self._failover
        for repository in (failover.fallback, failover.primary):
            if isinstance(repository, BaseRepository) and repository.is_connected:
                check(repository)
                return

    async def _refuse(self, check: Check, detail: str) -> NoReturn:
        self._check(check)
        raise self._failover.unavailable(detail)

    def _refused(self, op: Op[T], check: Check, detail: str) -> Awaitable[T]:
        return self._call(op, lambda: self._refuse(check, detail))

    async def _write(
        self,
        op: Op[T],
        operation: str,
        encode: Callable[[T], str | None],
        *,
        genuine: Callable[[Repository], Awaitable[bool]] | None = None,
        undo: Callable[[Repository, T], Awaitable[object]] | None = None,
    ) -> T:
        async def outage() -> T:
            failover = self._failover
            async with failover.write_lock:
                if not failover.serves_primary():
                    return await self._journaled(op, operation, encode, genuine, undo)
            return await self._primary(op)  # failed back while this call waited

        return await self._call(op, outage)

    async def _journaled(
        self,
        op: Op[T],
        operation: str,
        encode: Callable[[T], str | None],
        genuine: Callable[[Repository], Awaitable[bool]] | None,
        undo: Callable[[Repository, T], Awaitable[object]] | None,
    ) -> T:
        """A fallback write and its journal entry, under the write lock."""
        failover = self._failover
        failover.ensure_running()
        fallback = failover.fallback
        assert fallback is not None
        await self._clean_locked()
        try:
            result = await self._fallback(op)
        except NotFoundError as exc:
            if genuine is not None and await genuine(fallback):
                raise
            raise failover.unavailable(
                f"{exc} in the fallback, which holds only what was written during the outage"
            ) from exc
        payload = encode(result)
        if payload is None:
            return result
        try:
            await failover.journal.append(operation, payload)
        except RepositoryError as exc:
            if undo is not None:
                with contextlib.suppress(RepositoryError):
                    await undo(fallback, result)
            raise failover.unavailable(
                f"and the failover journal cannot record {operation}: {describe(exc)}"
            ) from exc
        return result

    def _delete(self, op: Op[bool], operation: str, what: str, key: object) -> Awaitable[bool]:
        async def deleting(repository: Repository) -> bool:
            deleted = await op(repository)
            if not deleted and repository is self._failover.fallback:
                raise NotFoundError(what, str(key))  # it may exist in the primary
            return deleted

        return self._write(deleting, operation, lambda _: encode_id(key))
