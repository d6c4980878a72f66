"""Opening and closing a repository: ``connect``, ``disconnect``, ``health_check``.

:class:`Lifecycle` is the part of :class:`~.base.BaseRepository` that owns the connection
state; a backend implements ``_connect``, ``_disconnect`` and ``_ping``. Connecting watches
the repository so that one dropped while connected is reported and released
(:mod:`.abandoned`).
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from typing import TYPE_CHECKING, ClassVar

from ai_agent.infrastructure.database import abandoned
from ai_agent.infrastructure.database.errors import RepositoryConnectionError, RepositoryError
from ai_agent.infrastructure.database.scoped import ConnectsInContext
from ai_agent.infrastructure.database.telemetry import events

__all__ = ["Lifecycle"]


class Lifecycle(ConnectsInContext):
    """Connection state, the lifecycle lock, and the lifecycle events."""

    backend_name: ClassVar[str] = "repository"
    _connected: bool = False
    _lifecycle_lock: asyncio.Lock | None = None
    # While connected: warns and releases if the repository is dropped undisconnected.
    _abandoned: abandoned.Watch | None = None

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def display_url(self) -> str:
        """Where this repository stores data, with any password redacted."""
        return f"{self.backend_name}://"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display_url!r})"

    async def connect(self) -> None:
        async with self._lock():
            if self._connected:
                return
            started = time.perf_counter()
            try:
                await self._connect()
            except Exception as exc:
                error = exc if isinstance(exc, RepositoryError) else self._connection_failure(exc)
                # info, not warning: the caller gets the error itself; an application that
                # never configured logging must not see it twice on stderr.
                events.info(
                    "repository.connect_failed", **self._where(), error=type(error).__name__
                )
                if error is exc:
                    raise
                raise error from exc
            self._connected = True
            self._abandoned = abandoned.watch(self, self._release_abandoned())
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            events.info("repository.connected", **self._where(), duration_ms=elapsed)

    async def disconnect(self) -> None:
        async with self._lock():
            if not self._connected:
                return
            self._connected = False
            if self._abandoned is not None:
                self._abandoned.detach()
                self._abandoned = None
            await self._disconnect()
            events.info("repository.disconnected", **self._where())

    async def health_check(self) -> bool:
        if not self._connected:
            return False
        try:
            return await self._ping()
        except Exception:  # a health check reports, it never raises
            return False

    def _release_abandoned(self) -> abandoned.Release | None:
        """How to release what ``_connect()`` opened should this repository be dropped
        while connected (see :mod:`.abandoned`); ``None`` when nothing needs releasing."""
        return None

    def _where(self) -> dict[str, str]:
        """The fields of a lifecycle event: the backend, and where (password masked)."""
        return {"backend": self.backend_name, "url": self.display_url}

    def _lock(self) -> asyncio.Lock:
        if self._lifecycle_lock is None:
            self._lifecycle_lock = asyncio.Lock()
        return self._lifecycle_lock

    def _connection_failure(self, exc: Exception) -> RepositoryError:
        translated = self._translate_error(exc)
        if isinstance(translated, RepositoryConnectionError):
            return translated
        return RepositoryConnectionError(
            f"cannot connect to {self.backend_name} at {self.display_url}: {type(exc).__name__}"
        )

    # -- what a backend implements -----------------------------------------------------------

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _disconnect(self) -> None: ...

    @abstractmethod
    async def _ping(self) -> bool: ...

    if TYPE_CHECKING:  # CallRunner's: the backend's one translation of a driver exception

        def _translate_error(self, exc: Exception) -> RepositoryError | None: ...
