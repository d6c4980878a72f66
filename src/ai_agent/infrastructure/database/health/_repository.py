"""``FailoverRepository``: the ``Repository`` that ``get_healthy_repository()`` returns.

Each operation is routed by one entry of :data:`ROUTES`, which names how the operation is
served during an outage (read from the fallback, journaled write, refused); the mechanics
are in :mod:`._routing`. Arguments are validated once, by the repository that serves the
call; a call refused during an outage is validated by the same ``BaseRepository`` checks
before it is refused, so bad input fails the same way in every state.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from ai_agent.domain.models import Agent, MCPServer, Message, Session, Tool
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.contract import DEFAULT_ITER_BATCH, Repository
from ai_agent.infrastructure.database.errors import NotFoundError
from ai_agent.infrastructure.database.health._replay import (
    encode_entity,
    encode_id,
    encode_messages,
)
from ai_agent.infrastructure.database.health._routing import Op, exists
from ai_agent.infrastructure.database.health._scoped_state import StateRouter
from ai_agent.infrastructure.database.telemetry import instrumented

__all__ = ["ROUTES", "FailoverRepository"]

T = TypeVar("T")

_LISTING = "a listing from the fallback would be incomplete"
_UNIQUE = "names can only be checked for uniqueness in the primary"
_WHAT = {"mcp_server": "MCP server", "external_service": "external service"}

#: How one operation is served: (router, operation name, the call, its bound arguments).
Route = Callable[["FailoverRepository", str, Op[Any], dict[str, Any]], Awaitable[Any]]


def _kind(operation: str) -> tuple[str, str]:
    """``get_mcp_server`` -> (``mcp_server``, ``MCP server``)."""
    kind = operation.partition("_")[2]
    return kind, _WHAT.get(kind, kind)


def _read() -> Route:
    """By id: the fallback's copy, else refused (never a false ``None``)."""

    def route(router: FailoverRepository, name: str, op: Op[Any], args: dict[str, Any]) -> Any:
        (key,) = args.values()
        return router._get(op, _kind(name)[1], key)

    return route


def _created(parent: str | None = None) -> Route:
    """Journaled; ``parent``: the entity field naming a record the fallback can vouch for."""

    def route(router: FailoverRepository, name: str, op: Op[Any], args: dict[str, Any]) -> Any:
        (entity,) = args.values()
        genuine = None if parent is None else _held(parent, lambda: getattr(entity, f"{parent}_id"))
        delete = f"delete_{_kind(name)[0]}"
        return router._write(
            op,
            name,
            encode_entity,
            genuine=genuine,
            undo=lambda r, stored: getattr(r, delete)(stored.id),
        )

    return route


def _updated() -> Route:
    """Journaled when the fallback holds the entity (created during the outage)."""

    def route(router: FailoverRepository, name: str, op: Op[Any], args: dict[str, Any]) -> Any:
        (entity,) = args.values()
        return router._write(
            op, name, encode_entity, genuine=_held(_kind(name)[0], lambda: entity.id)
        )

    return route


def _deleted() -> Route:
    def route(router: FailoverRepository, name: str, op: Op[Any], args: dict[str, Any]) -> Any:
        (key,) = args.values()
        return router._delete(op, name, _kind(name)[1], key)

    return route


def _unique(model: type[Any], detail: str = "") -> Route:
    """Refused during an outage: a unique name can only be checked in the primary."""

    def route(router: FailoverRepository, name: str, op: Op[Any], args: dict[str, Any]) -> Any:
        (entity,) = args.values()
        reason = f"{_kind(name)[1]} {_UNIQUE}{detail}"
        return router._refused(op, lambda c: c._entity(entity, model), reason)

    return route


def _listing() -> Route:
    """Refused during an outage: the fallback's listing would be incomplete."""

    def route(router: FailoverRepository, name: str, op: Op[Any], args: dict[str, Any]) -> Any:
        def check(c: BaseRepository) -> None:
            if "user_id" in args:
                c._user_id(args["user_id"])
            if "enabled_only" in args:
                c._flag(args["enabled_only"], "enabled_only")
            c._page(args["limit"], args["offset"])

        return router._refused(op, check, _LISTING)

    return route


def _session_messages() -> Route:
    def route(router: FailoverRepository, name: str, op: Op[Any], args: dict[str, Any]) -> Any:
        return router._session_messages(op, args["session_id"])

    return route


def _held(kind: str, key: Callable[[], UUID]) -> Callable[[Repository], Awaitable[bool]]:
    """Whether a repository holds the ``kind`` with id ``key()``: read only when asked, as a
    bad argument is the serving repository's to reject."""
    return lambda repository: exists(getattr(repository, f"get_{kind}")(key()))


ROUTES: dict[str, Route] = {
    "create_session": _created(),
    "get_session": _read(),
    "list_sessions": _listing(),
    "update_session": _updated(),
    "delete_session": _deleted(),
    # A NotFoundError about a session the fallback holds (its parent message) is true.
    "create_message": _created(parent="session"),
    "get_message": _read(),
    "get_messages_by_session": _session_messages(),
    "get_recent_messages": _session_messages(),
    "update_message": _updated(),
    "delete_message": _deleted(),
    "create_agent": _unique(Agent),
    "get_agent": _read(),
    "list_agents": _listing(),
    "update_agent": _updated(),
    "delete_agent": _deleted(),
    "create_tool": _unique(Tool, ", and its MCP server may exist only there"),
    "get_tool": _read(),
    "list_tools": _listing(),
    "update_tool": _updated(),
    "delete_tool": _deleted(),
    "create_mcp_server": _unique(MCPServer),
    "get_mcp_server": _read(),
    "list_mcp_servers": _listing(),
    "update_mcp_server": _updated(),
    "delete_mcp_server": _deleted(),
    "create_external_service": _created(),
    "get_external_service": _read(),
    "list_external_services": _listing(),
    "update_external_service": _updated(),
    "delete_external_service": _deleted(),
}


def _routed(name: str, route: Route) -> Callable[..., Awaitable[Any]]:
    """The method ``name``, with the contract's signature, served by ``route``."""
    signature = inspect.signature(getattr(Repository, name))

    async def method(self: FailoverRepository, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(list(bound.arguments.items())[1:])
        call = bound.args[1:]

        def op(repository: Repository) -> Awaitable[Any]:
            return getattr(repository, name)(*call)  # type: ignore[no-any-return]

        return await route(self, name, op, arguments)

    method.__name__ = method.__qualname__ = name
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method


def _with_routes(cls: type[FailoverRepository]) -> type[FailoverRepository]:
    for name, route in ROUTES.items():
        setattr(cls, name, _routed(name, route))
    return cls


@instrumented
@_with_routes
class FailoverRepository(StateRouter):
    """Routes every call to the primary or, during an outage, to the fallback (journaled).

    The operations of :data:`ROUTES` are added to the class from that table; the ones with
    rules of their own are below. Its calls are measured with ``backend="failover"``
    (``telemetry``, set by the monitor); the primary and the fallback record their own.
    """

    if TYPE_CHECKING:  # the operations of ROUTES

        def __getattr__(self, name: str) -> Any: ...

    async def create_messages(self, messages: Sequence[Message]) -> list[Message]:
        async def all_sessions_held(repository: Repository) -> bool:
            sessions = {message.session_id for message in messages}
            return all([await exists(repository.get_session(key)) for key in sessions])

        async def undo(repository: Repository, stored: list[Message]) -> None:
            for message in stored:
                await repository.delete_message(message.id)

        return await self._write(
            lambda r: r.create_messages(messages),
            "create_messages",
            encode_messages,
            genuine=all_sessions_held,
            undo=undo,
        )

    async def get_or_create_session(self, session: Session) -> tuple[Session, bool]:
        op: Op[tuple[Session, bool]] = lambda r: r.get_or_create_session(session)  # noqa: E731

        async def outage() -> tuple[Session, bool]:
            # Only the primary can tell that the session does not exist: the fallback holds
            # what was written during the outage, so it can only find one.
            await self._clean()
            found = await self._fallback(lambda r: r.get_session(session.id))
            if found is not None:
                return found, False
            if self._failover.serves_primary():
                return await self._primary(op)
            await self._refuse(
                lambda c: c._entity(session, Session),
                f"whether session {session.id} exists can only be checked in the primary",
            )

        return await self._call(op, outage)

    async def pop_message(self, session_id: UUID) -> Message | None:
        return await self._session_write(
            lambda r: r.pop_message(session_id),
            session_id,
            "delete_message",
            lambda popped: None if popped is None else encode_id(popped.id),
        )

    async def clear_messages(self, session_id: UUID) -> int:
        return await self._session_write(
            lambda r: r.clear_messages(session_id),
            session_id,
            "clear_messages",
            lambda _: encode_id(session_id),
        )

    async def _session_write(
        self, op: Op[T], session_id: UUID, operation: str, encode: Callable[[T], str | None]
    ) -> T:
        """A write to a session's messages: journaled when the fallback holds the session."""

        async def writing(repository: Repository) -> T:
            result = await op(repository)
            await self._held_by_fallback(repository, session_id)
            return result

        return await self._write(
            writing, operation, encode, genuine=_held("session", lambda: session_id)
        )

    def iter_messages(
        self, session_id: UUID, batch_size: int = DEFAULT_ITER_BATCH
    ) -> AsyncIterator[Message]:
        self._check(
            lambda c: (c._key(session_id, "session"), c._page(batch_size, name="batch_size"))
        )
        return self._iterate(session_id, batch_size)

    async def _iterate(self, session_id: UUID, batch_size: int) -> AsyncIterator[Message]:
        # Pages by offset through the routed listing, so each page follows the outage rules
        # of get_messages_by_session (the backends' own iterators page by position).
        offset = 0
        while True:
            page = await self.get_messages_by_session(session_id, batch_size, offset)
            for message in page:
                yield message
            if len(page) < batch_size:
                return
            offset += len(page)

    async def _held_by_fallback(self, repository: Repository, session_id: UUID) -> None:
        """In the fallback, a session it does not hold may exist in the primary: not found."""
        if repository is self._failover.fallback and not await exists(
            repository.get_session(session_id)
        ):
            raise NotFoundError("session", session_id)
