"""``BaseRepository``: the checks every backend shares, written once.

Each public method of the contract (:class:`~.contract.Repository`) is implemented here as a
template: it checks that the repository is open, validates its arguments again (models
built with ``model_construct`` or mutated past validation, ids, paging bounds, duplicate
ids within a batch), then awaits the backend's private ``_<method>`` and translates any
driver exception through the backend's single ``_translate_error`` hook. A backend
implements only the private methods and never sees unchecked input. Errors (see
:mod:`.errors`)::

    RepositoryError
    ├── RepositoryConnectionError
    ├── NotFoundError
    ├── DuplicateError
    ├── ConflictError
    └── RepositoryValidationError
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from uuid import UUID

from pydantic import BaseModel, TypeAdapter, ValidationError

from ai_agent.config.feature_flags import is_enabled
from ai_agent.domain.models import (
    Agent,
    ExternalService,
    MCPServer,
    Message,
    Session,
    Tool,
    UserId,
)
from ai_agent.infrastructure.database._copies import owned
from ai_agent.infrastructure.database.contract import DEFAULT_LIST_LIMIT, MAX_LIMIT
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    OperationDisabledError,
    RepositoryConnectionError,
    RepositoryError,
    RepositoryValidationError,
)
from ai_agent.infrastructure.database.metrics import RepositoryMetrics
from ai_agent.infrastructure.database.retry import TRANSIENT_ERRORS, retry_transient

if TYPE_CHECKING:
    from ai_agent.config.sections import RetryPolicy

__all__ = ["BaseRepository", "describe_validation_error"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", Session, Message, Agent, Tool, MCPServer, ExternalService)

# Fields a repository may change after a create; a retried create compares the rest.
_REPOSITORY_OWNED = {"updated_at", "message_count", "last_activity"}


def _same_write(stored: BaseModel, written: BaseModel) -> bool:
    return stored.model_dump(exclude=_REPOSITORY_OWNED) == written.model_dump(
        exclude=_REPOSITORY_OWNED
    )


_USER_ID: TypeAdapter[str | None] = TypeAdapter(UserId | None)


def describe_validation_error(exc: ValidationError) -> str:
    """Render a pydantic error as one line without input values (they may hold secrets)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        location = ".".join(str(item) for item in error["loc"]) or "value"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


class BaseRepository(ABC):
    """Lifecycle, argument checks and error translation shared by every backend."""

    backend_name: ClassVar[str] = "repository"
    #: How transient failures are retried; ``None`` never retries. Server backends set a
    #: default, and the factory sets the one from ``RetrySettings``.
    retry_policy: RetryPolicy | None = None

    def __init__(self) -> None:
        self._connected = False
        self._lifecycle_lock: asyncio.Lock | None = None
        #: Per-operation calls, errors and latencies while ``detailed_metrics`` is on.
        self.metrics = RepositoryMetrics()

    # -- lifecycle ---------------------------------------------------------------------------

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
            try:
                await self._connect()
            except RepositoryError:
                raise
            except Exception as exc:
                raise self._connection_failure(exc) from exc
            self._connected = True

    async def disconnect(self) -> None:
        async with self._lock():
            if not self._connected:
                return
            self._connected = False
            await self._disconnect()

    async def health_check(self) -> bool:
        if not self._connected:
            return False
        try:
            return await self._ping()
        except Exception:  # a health check reports, it never raises
            return False

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

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

    # -- argument checks ---------------------------------------------------------------------

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
            # Validated once, here; owned() then copies the JSON fields (pydantic copies only
            # their outer container), so a backend may keep or return the result as is. The
            # validator reads __dict__ without changing it: model_validate(dict(...)) would
            # add a copy and a Python frame (0.9 us of a 7 us validation).
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
        if isinstance(value, UUID):
            return value
        if isinstance(value, str):
            try:
                return UUID(value)
            except ValueError:
                pass
        raise RepositoryValidationError(f"{entity} id must be a UUID, got {value!r:.80}")

    def _page(self, limit: object, offset: object = 0) -> tuple[int, int]:
        self._ensure_open()
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise RepositoryValidationError(
                f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r:.80}"
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise RepositoryValidationError(f"offset must be an integer >= 0, got {offset!r:.80}")
        return limit, offset

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
        connection broke (it may have done the work). While ``detailed_metrics`` is on, the
        whole call (retries included) is one sample in :attr:`metrics`.
        """
        if not is_enabled("detailed_metrics"):
            return await self._retrying(operation, args, recover, maybe_applied)
        started = time.perf_counter()
        name = operation.__name__.lstrip("_")
        try:
            result = await self._retrying(operation, args, recover, maybe_applied)
        except BaseException as exc:
            self.metrics.record(name, time.perf_counter() - started, exc)
            raise
        self.metrics.record(name, time.perf_counter() - started)
        return result

    async def _retrying(
        self,
        operation: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        recover: Callable[[], Awaitable[T | None]] | None,
        maybe_applied: Callable[[T], T] | None,
    ) -> T:
        try:
            return await self._attempt(operation, args)
        except TRANSIENT_ERRORS as exc:
            policy = self.retry_policy
            if policy is None or policy.max_attempts <= 1 or not is_enabled("retries"):
                raise
            return await retry_transient(
                lambda: self._attempt(operation, args), policy, exc, recover, maybe_applied
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
            return stored if stored is not None and _same_write(stored, entity) else None

        return await self._run(create, entity, recover=identical_copy)

    async def _run_delete(self, delete: Callable[[UUID], Awaitable[bool]], key: UUID) -> bool:
        """Run a delete; one that finds nothing after an earlier attempt broke reports True.

        The broken attempt may have deleted it: its caller deleted the record once, and must
        not be told it was never there (see :mod:`.retry`).
        """
        return await self._run(delete, key, maybe_applied=lambda _found: True)

    async def _identical_batch(self, messages: list[Message]) -> list[Message] | None:
        stored = [await self._attempt(self._get_message, (message.id,)) for message in messages]
        if all(
            found is not None and _same_write(found, message)
            for found, message in zip(stored, messages, strict=True)
        ):
            return [found for found in stored if found is not None]
        return None

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(self, session: Session) -> Session:
        valid = self._entity(session, Session)
        return await self._create(self._create_session, valid, self._get_session)

    async def get_session(self, session_id: UUID) -> Session | None:
        return await self._run(self._get_session, self._key(session_id, "session"))

    async def list_sessions(
        self, user_id: str | None = None, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Session]:
        page = self._page(limit, offset)
        return await self._run(self._list_sessions, self._user_id(user_id), *page)

    async def update_session(self, session: Session) -> Session:
        return await self._run(self._update_session, self._entity(session, Session))

    async def delete_session(self, session_id: UUID) -> bool:
        return await self._run_delete(self._delete_session, self._key(session_id, "session"))

    # -- messages ----------------------------------------------------------------------------

    async def create_message(self, message: Message) -> Message:
        valid = self._entity(message, Message)
        return await self._create(self._create_message, valid, self._get_message)

    async def create_messages(self, messages: Sequence[Message]) -> list[Message]:
        if not is_enabled("bulk_operations"):
            raise OperationDisabledError(
                "create_messages is disabled: the bulk_operations feature flag is off"
                " (FEATURE_ENABLE_BULK_OPERATIONS); create the messages one at a time"
            )
        checked = self._entities(messages)
        if not checked:
            return []
        return await self._run(
            self._create_messages, checked, recover=lambda: self._identical_batch(checked)
        )

    async def get_message(self, message_id: UUID) -> Message | None:
        return await self._run(self._get_message, self._key(message_id, "message"))

    async def get_messages_by_session(
        self, session_id: UUID, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Message]:
        page = self._page(limit, offset)
        key = self._key(session_id, "session")
        return await self._run(self._get_messages_by_session, key, *page)

    async def get_recent_messages(self, session_id: UUID, limit: int = 50) -> list[Message]:
        count, _ = self._page(limit)
        key = self._key(session_id, "session")
        return await self._run(self._get_recent_messages, key, count)

    async def update_message(self, message: Message) -> Message:
        return await self._run(self._update_message, self._entity(message, Message))

    async def delete_message(self, message_id: UUID) -> bool:
        return await self._run_delete(self._delete_message, self._key(message_id, "message"))

    # -- agents ------------------------------------------------------------------------------

    async def create_agent(self, agent: Agent) -> Agent:
        valid = self._entity(agent, Agent)
        return await self._create(self._create_agent, valid, self._get_agent)

    async def get_agent(self, agent_id: UUID) -> Agent | None:
        return await self._run(self._get_agent, self._key(agent_id, "agent"))

    async def list_agents(self, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0) -> list[Agent]:
        return await self._run(self._list_agents, *self._page(limit, offset))

    async def update_agent(self, agent: Agent) -> Agent:
        return await self._run(self._update_agent, self._entity(agent, Agent))

    async def delete_agent(self, agent_id: UUID) -> bool:
        return await self._run_delete(self._delete_agent, self._key(agent_id, "agent"))

    # -- tools -------------------------------------------------------------------------------

    async def create_tool(self, tool: Tool) -> Tool:
        valid = self._entity(tool, Tool)
        return await self._create(self._create_tool, valid, self._get_tool)

    async def get_tool(self, tool_id: UUID) -> Tool | None:
        return await self._run(self._get_tool, self._key(tool_id, "tool"))

    async def list_tools(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Tool]:
        page = self._page(limit, offset)
        return await self._run(self._list_tools, self._flag(enabled_only, "enabled_only"), *page)

    async def update_tool(self, tool: Tool) -> Tool:
        return await self._run(self._update_tool, self._entity(tool, Tool))

    async def delete_tool(self, tool_id: UUID) -> bool:
        return await self._run_delete(self._delete_tool, self._key(tool_id, "tool"))

    # -- MCP servers -------------------------------------------------------------------------

    async def create_mcp_server(self, server: MCPServer) -> MCPServer:
        valid = self._entity(server, MCPServer)
        return await self._create(self._create_mcp_server, valid, self._get_mcp_server)

    async def get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return await self._run(self._get_mcp_server, self._key(server_id, "MCP server"))

    async def list_mcp_servers(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[MCPServer]:
        page = self._page(limit, offset)
        enabled = self._flag(enabled_only, "enabled_only")
        return await self._run(self._list_mcp_servers, enabled, *page)

    async def update_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._run(self._update_mcp_server, self._entity(server, MCPServer))

    async def delete_mcp_server(self, server_id: UUID) -> bool:
        return await self._run_delete(self._delete_mcp_server, self._key(server_id, "MCP server"))

    # -- external services -------------------------------------------------------------------

    async def create_external_service(self, service: ExternalService) -> ExternalService:
        valid = self._entity(service, ExternalService)
        return await self._create(self._create_external_service, valid, self._get_external_service)

    async def get_external_service(self, service_id: UUID) -> ExternalService | None:
        key = self._key(service_id, "external service")
        return await self._run(self._get_external_service, key)

    async def list_external_services(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[ExternalService]:
        page = self._page(limit, offset)
        enabled = self._flag(enabled_only, "enabled_only")
        return await self._run(self._list_external_services, enabled, *page)

    async def update_external_service(self, service: ExternalService) -> ExternalService:
        valid = self._entity(service, ExternalService)
        return await self._run(self._update_external_service, valid)

    async def delete_external_service(self, service_id: UUID) -> bool:
        key = self._key(service_id, "external service")
        return await self._run_delete(self._delete_external_service, key)

    # -- what a backend implements -----------------------------------------------------------

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _disconnect(self) -> None: ...

    @abstractmethod
    async def _ping(self) -> bool: ...

    def _translate_error(self, exc: Exception) -> RepositoryError | None:
        """Map a driver exception to the error tree; ``None`` lets it propagate (a bug)."""
        return None

    @abstractmethod
    async def _create_session(self, session: Session) -> Session: ...
    @abstractmethod
    async def _get_session(self, session_id: UUID) -> Session | None: ...
    @abstractmethod
    async def _list_sessions(
        self, user_id: str | None, limit: int, offset: int
    ) -> list[Session]: ...
    @abstractmethod
    async def _update_session(self, session: Session) -> Session: ...
    @abstractmethod
    async def _delete_session(self, session_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_message(self, message: Message) -> Message: ...
    @abstractmethod
    async def _create_messages(self, messages: list[Message]) -> list[Message]: ...
    @abstractmethod
    async def _get_message(self, message_id: UUID) -> Message | None: ...
    @abstractmethod
    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]: ...
    @abstractmethod
    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]: ...
    @abstractmethod
    async def _update_message(self, message: Message) -> Message: ...
    @abstractmethod
    async def _delete_message(self, message_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_agent(self, agent: Agent) -> Agent: ...
    @abstractmethod
    async def _get_agent(self, agent_id: UUID) -> Agent | None: ...
    @abstractmethod
    async def _list_agents(self, limit: int, offset: int) -> list[Agent]: ...
    @abstractmethod
    async def _update_agent(self, agent: Agent) -> Agent: ...
    @abstractmethod
    async def _delete_agent(self, agent_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_tool(self, tool: Tool) -> Tool: ...
    @abstractmethod
    async def _get_tool(self, tool_id: UUID) -> Tool | None: ...
    @abstractmethod
    async def _list_tools(self, enabled_only: bool, limit: int, offset: int) -> list[Tool]: ...
    @abstractmethod
    async def _update_tool(self, tool: Tool) -> Tool: ...
    @abstractmethod
    async def _delete_tool(self, tool_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_mcp_server(self, server: MCPServer) -> MCPServer: ...
    @abstractmethod
    async def _get_mcp_server(self, server_id: UUID) -> MCPServer | None: ...
    @abstractmethod
    async def _list_mcp_servers(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[MCPServer]: ...
    @abstractmethod
    async def _update_mcp_server(self, server: MCPServer) -> MCPServer: ...
    @abstractmethod
    async def _delete_mcp_server(self, server_id: UUID) -> bool: ...
    @abstractmethod
    async def _create_external_service(self, service: ExternalService) -> ExternalService: ...
    @abstractmethod
    async def _get_external_service(self, service_id: UUID) -> ExternalService | None: ...
    @abstractmethod
    async def _list_external_services(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[ExternalService]: ...
    @abstractmethod
    async def _update_external_service(self, service: ExternalService) -> ExternalService: ...
    @abstractmethod
    async def _delete_external_service(self, service_id: UUID) -> bool: ...
