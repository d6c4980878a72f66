"""``RedisRepository``: the constructor and one short method per contract hook, wired to
the family modules beside it (sessions, messages, catalog, states, maintenance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from ai_agent.config.settings import RedisSettings
from ai_agent.domain.models import DomainModel, Message, Session
from ai_agent.infrastructure.database.abandoned import Release
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.catalog import (
    AGENTS,
    EXTERNAL_SERVICES,
    MCP_SERVERS,
    TOOLS,
    CatalogKind,
)
from ai_agent.infrastructure.database.errors import RepositoryError, RepositoryValidationError
from ai_agent.infrastructure.database.redis._catalog import Catalog
from ai_agent.infrastructure.database.redis._connection import (
    Client,
    Store,
    connection_counts,
    decodes_responses,
    describe,
    open_store,
    release_abandoned,
)
from ai_agent.infrastructure.database.redis._errors import translate_error
from ai_agent.infrastructure.database.redis._keys import CatalogKey, KeySpace
from ai_agent.infrastructure.database.redis._maintenance import Maintenance
from ai_agent.infrastructure.database.redis._messages import Messages
from ai_agent.infrastructure.database.redis._sessions import Sessions
from ai_agent.infrastructure.database.redis._states import States
from ai_agent.infrastructure.database.states import StateDeltas, StatefulAppend

__all__ = ["RedisRepository"]

M = TypeVar("M", bound=DomainModel)

#: Each catalog's name in the key layout.
_CATALOG_KEYS: dict[CatalogKind[Any], CatalogKey] = {
    AGENTS: "agent",
    TOOLS: "tool",
    MCP_SERVERS: "mcp_server",
    EXTERNAL_SERVICES: "external_service",
}


@dataclass(frozen=True, slots=True)
class _Operations:
    """The family modules over one connection's store."""

    store: Store
    sessions: Sessions
    messages: Messages
    states: States
    maintenance: Maintenance
    catalogs: dict[str, Catalog[Any]]

    @classmethod
    def on(cls, store: Store) -> _Operations:
        sessions = Sessions(store)
        messages = Messages(sessions)
        return cls(
            store=store,
            sessions=sessions,
            messages=messages,
            states=States(store, sessions, messages),
            maintenance=Maintenance(sessions),
            catalogs={
                kind.name: Catalog(store, key, kind.model) for kind, key in _CATALOG_KEYS.items()
            },
        )


class RedisRepository(BaseRepository):
    """The repository contract on Redis or Redis Cluster (see the package docstring)."""

    backend_name = "redis"

    def __init__(self, settings: RedisSettings, *, client: Client | None = None) -> None:
        """Use ``settings`` (the ``redis`` section of the application's settings).

        With ``client``, the repository uses that client (built with
        ``decode_responses=True``) and never closes it; otherwise it builds one from the
        settings on ``connect()`` and closes it on ``disconnect()``. ``settings`` still give
        the key prefix, TTL and pool limits. Build that client with
        ``retry=Retry(NoBackoff(), 0)`` as the repository's own is: redis-py's default
        retry re-sends a write whose reply was lost, and a create sent twice fails as a
        duplicate of itself (see :func:`._connection.build_client`).

        Raises:
            RepositoryValidationError: the key prefix holds ``{``, ``}`` or NUL (it would break
                the hash tags), or ``client`` does not decode responses.
        """
        super().__init__()
        self.settings = settings
        self.keys = KeySpace(settings.key_prefix)
        if client is not None and not decodes_responses(client):
            raise RepositoryValidationError(
                "RedisRepository needs a client created with decode_responses=True"
            )
        self._given = client
        self._client: Client | None = None
        self._ops: _Operations | None = None

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> Self:
        """A repository that owns its client: ``from_url("redis://...", key_prefix="app")``."""
        return cls(RedisSettings.from_url(url, **overrides))

    @property
    def owns_client(self) -> bool:
        return self._given is None

    @property
    def client(self) -> Client | None:
        """The client while connected (``None`` before ``connect()``)."""
        return self._client

    @property
    def display_url(self) -> str:
        if self._given is not None:
            return describe(self._given)
        return (
            f"{self.settings.url} (cluster)"
            if self.settings.cluster_mode
            else str(self.settings.url)
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        store = await open_store(self.settings, self.keys, self._given)
        self._client, self._ops = store.client, _Operations.on(store)

    async def _disconnect(self) -> None:
        client, self._client, self._ops = self._client, None, None
        if client is not None and self._given is None:
            await client.aclose()

    def _release_abandoned(self) -> Release | None:
        # Sockets only close through the loop; a caller's client is the caller's to close.
        if self._client is None or self._given is not None:
            return None
        return release_abandoned(self._client)

    async def _ping(self) -> bool:
        return bool(await self._operations.store.call(lambda client: client.ping()))

    def _translate_error(self, exc: Exception) -> RepositoryError | None:
        return translate_error(exc, self.display_url)

    def pool_connections(self) -> tuple[int, int] | None:
        client = self._client
        return None if client is None else connection_counts(client)

    def _server_endpoint(self) -> tuple[str, int] | None:
        return None if self._given is not None else (self.settings.host, self.settings.port)

    @property
    def _operations(self) -> _Operations:
        if self._ops is None:  # BaseRepository checks first; this guards a racing disconnect
            self._ensure_open()
            raise AssertionError("connected without operations")
        return self._ops

    # -- sessions and messages ---------------------------------------------------------------

    async def _create_session(self, session: Session) -> Session:
        return await self._operations.sessions.create(session)

    async def _get_session(self, session_id: UUID) -> Session | None:
        return await self._operations.sessions.get(session_id)

    async def _list_sessions(self, user_id: str | None, limit: int, offset: int) -> list[Session]:
        return await self._operations.sessions.list_page(user_id, limit, offset)

    async def _update_session(self, session: Session) -> Session:
        return await self._operations.sessions.update(session)

    async def _delete_session(self, session_id: UUID) -> bool:
        return await self._operations.sessions.delete(session_id)

    async def _create_message(self, message: Message) -> Message:
        (created,) = await self._operations.messages.create([message])
        return created

    async def _create_messages(self, messages: list[Message]) -> list[Message]:
        return await self._operations.messages.create(messages)

    async def _get_message(self, message_id: UUID) -> Message | None:
        return await self._operations.messages.get(message_id)

    async def _get_messages_by_session(
        self, session_id: UUID, limit: int, offset: int
    ) -> list[Message]:
        return await self._operations.messages.page(session_id, limit, offset)

    async def _get_recent_messages(self, session_id: UUID, limit: int) -> list[Message]:
        return await self._operations.messages.recent(session_id, limit)

    async def _update_message(self, message: Message) -> Message:
        return await self._operations.messages.update(message)

    async def _delete_message(self, message_id: UUID) -> bool:
        return await self._operations.messages.delete(message_id)

    async def _pop_message(self, session_id: UUID) -> Message | None:
        return await self._operations.messages.pop(session_id)

    async def _clear_messages(self, session_id: UUID) -> int:
        return await self._operations.messages.clear(session_id)

    async def _message_page(
        self, session_id: UUID, after: int, limit: int
    ) -> tuple[list[Message], int]:
        return await self._operations.messages.after(session_id, after, limit)

    # -- scoped state ------------------------------------------------------------------------

    async def _get_states(self, scopes: list[str]) -> dict[str, dict[str, Any]]:
        return await self._operations.states.get(scopes)

    async def _create_session_with_state(self, session: Session, state: StateDeltas) -> Session:
        return await self._operations.states.create_session(session, state)

    async def _append_message_with_state(self, append: StatefulAppend) -> Message | None:
        return await self._operations.states.append(append)

    # -- retention ---------------------------------------------------------------------------

    async def _prune_sessions(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        return await self._operations.maintenance.prune(cutoff, limit)

    async def _count_inactive_sessions(self, cutoff: datetime) -> tuple[int, int]:
        return await self._operations.maintenance.count_inactive(cutoff)

    async def _trim_messages(self, session_id: UUID, keep: int, limit: int) -> int:
        return await self._operations.maintenance.trim(session_id, keep, limit)

    async def _long_sessions(
        self, more_than: int, after: UUID | None, limit: int
    ) -> list[tuple[UUID, int]]:
        return await self._operations.maintenance.long_sessions(more_than, after, limit)

    # -- catalog -------------------------------------------------------------------------------

    async def _create_entry(self, kind: CatalogKind[M], entry: M) -> M:
        return cast(M, await self._operations.catalogs[kind.name].create(entry))

    async def _get_entry(self, kind: CatalogKind[M], entry_id: UUID) -> M | None:
        return cast("M | None", await self._operations.catalogs[kind.name].get(entry_id))

    async def _list_entries(
        self, kind: CatalogKind[M], enabled_only: bool, limit: int, offset: int
    ) -> list[M]:
        catalog = self._operations.catalogs[kind.name]
        return cast("list[M]", await catalog.list_page(enabled_only, limit, offset))

    async def _update_entry(self, kind: CatalogKind[M], entry: M) -> M:
        return cast(M, await self._operations.catalogs[kind.name].update(entry))

    async def _delete_entry(self, kind: CatalogKind[M], entry_id: UUID) -> bool:
        return await self._operations.catalogs[kind.name].delete(entry_id)
