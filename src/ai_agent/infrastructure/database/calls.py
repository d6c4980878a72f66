"""How :class:`~.base.BaseRepository` runs a backend operation: driver errors translated at
one boundary, transient failures retried (:mod:`.retry`), and creates and deletes whose
earlier attempt may have been applied resolved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel

from ai_agent.domain.models import DomainModel, Message
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.features import PROCESS_FLAGS, Features
from ai_agent.infrastructure.database.retry import TRANSIENT_ERRORS, retry_transient

if TYPE_CHECKING:
    from ai_agent.config.sections import RetryPolicy

__all__ = ["CallRunner", "same_write"]

T = TypeVar("T")
E = TypeVar("E", bound=DomainModel)

# Fields a repository may change after a create; a retried create compares the rest.
_REPOSITORY_OWNED = {"updated_at", "message_count", "last_activity"}


def same_write(stored: BaseModel, written: BaseModel) -> bool:
    """Whether ``stored`` is what writing ``written`` stores (repository-owned fields aside)."""
    exclude = _REPOSITORY_OWNED
    return stored.model_dump(exclude=exclude) == written.model_dump(exclude=exclude)


class CallRunner:
    """Runs the backend's private operations for the public methods."""

    backend_name: ClassVar[str]
    #: How transient failures are retried; ``None`` never retries. Server backends set a
    #: default, and the factory sets the one from ``RetrySettings``.
    retry_policy: RetryPolicy | None = None
    #: The flags this repository consults (``retries``, ``bulk_operations``, ...).
    features: Features = PROCESS_FLAGS

    def _translate_error(self, exc: Exception) -> RepositoryError | None:
        """The backend's one translation of a driver exception (``None``: not a driver's)."""
        return None

    async def _run(
        self,
        operation: Callable[..., Awaitable[T]],
        *args: Any,
        recover: Callable[[], Awaitable[T | None]] | None = None,
        maybe_applied: Callable[[T], T] | None = None,
    ) -> T:
        """Run a backend operation; retry it while the failure is transient.

        Retries follow ``retry_policy`` while the ``retries`` feature flag is on (see
        :mod:`.retry`); ``recover`` turns a create that an earlier attempt did commit into a
        success, and ``maybe_applied`` reads a retry's result once an earlier attempt's
        connection broke (it may have done the work).
        """
        try:
            return await self._attempt(operation, args)
        except TRANSIENT_ERRORS as exc:
            policy = self.retry_policy
            if policy is None or policy.max_attempts <= 1 or not self.features("retries"):
                raise
            return await retry_transient(
                lambda: self._attempt(operation, args),
                policy,
                exc,
                recover,
                maybe_applied,
                backend=self.backend_name,
            )

    async def _attempt(self, operation: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        """Await one attempt, translating driver errors at this one boundary."""
        try:
            return await operation(*args)
        except RepositoryError:
            raise
        except Exception as exc:
            translated = self._translate_error(exc)
            if translated is None:
                raise
            raise translated from exc

    async def _create(
        self,
        create: Callable[[E], Awaitable[E]],
        entity: E,
        get: Callable[[UUID], Awaitable[E | None]],
    ) -> E:
        async def identical_copy() -> E | None:
            stored = await self._attempt(get, (entity.id,))
            return stored if stored is not None and same_write(stored, entity) else None

        return await self._run(create, entity, recover=identical_copy)

    async def _run_delete(self, delete: Callable[[UUID], Awaitable[bool]], key: UUID) -> bool:
        """Run a delete; one that finds nothing after an earlier attempt broke reports True.

        The broken attempt may have deleted it: its caller deleted the record once, and must
        not be told it was never there (see :mod:`.retry`).
        """
        return await self._run(delete, key, maybe_applied=lambda _found: True)

    async def _identical_batch(
        self, get: Callable[[UUID], Awaitable[Message | None]], messages: list[Message]
    ) -> list[Message] | None:
        stored = [await self._attempt(get, (message.id,)) for message in messages]
        if all(
            found is not None and same_write(found, message)
            for found, message in zip(stored, messages, strict=True)
        ):
            return [found for found in stored if found is not None]
        return None
