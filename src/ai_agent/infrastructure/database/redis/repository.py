"""``RedisRepository``: lifecycle and wiring; the operations live beside it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Self
from uuid import UUID

from redis.asyncio.cluster import RedisCluster

from ai_agent.config.settings import RedisSettings
from ai_agent.domain.models import Agent, ExternalService, MCPServer, Message, Session, Tool
from ai_agent.infrastructure.database.abandoned import Release, on_loop
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import RepositoryError, RepositoryValidationError
from ai_agent.infrastructure.database.redis.catalog import Catalog
from ai_agent.infrastructure.database.redis.client import (
    Client,
    Store,
    abort_connections,
    build_client,
    connection_counts,
    decodes_responses,
    resendable,
    translate_error,
)
from ai_agent.infrastructure.database.redis.keys import KeySpace
from ai_agent.infrastructure.database.redis.maintenance import Maintenance
from ai_agent.infrastructure.database.redis.messages import Messages
from ai_agent.infrastructure.database.redis.scripts import Scripts, session_constants
from ai_agent.infrastructure.database.redis.sessions import Sessions
from ai_agent.infrastructure.database.redis.states import StateStore

__all__ = ["RedisRepository"]


@dataclass(frozen=True, slots=True)
class _Operations:
    store: Store
    sessions: Sessions
    messages: Messages
    maintenance: Maintenance
    agents: Catalog[Agent]
    tools: Catalog[Tool]
    mcp_servers: Catalog[MCPServer]
    external_services: Catalog[ExternalService]

    @classmethod
    def on(cls, store: Store) -> _Operations:
        sessions = Sessions(store)
        return cls(
            store=store,
            sessions=sessions,
            messages=Messages(sessions),
            maintenance=Maintenance(sessions),
            agents=Catalog(store, "agent", Agent),
            tools=Catalog(store, "tool", Tool),
            mcp_servers=Catalog(store, "mcp_server", MCPServer),
            external_services=Catalog(store, "external_service", ExternalService),
        )


class RedisRepository(StateStore, BaseRepository):
    """The repository contract on Redis or Redis Cluster (see the package docstring)."""

    backend_name = "redis"

    def __init__(self, settings: RedisSettings | None = None, *, client: Client | None = None):
        """Use ``settings`` (``RedisSettings()`` from the environment when ``None``).

        With ``client``, the repository uses that client (built with
        ``decode_responses=True``) and never closes it; otherwise it builds one from the
        settings on ``connect()`` and closes it on ``disconnect()``. ``settings`` still give
        the key prefix, TTL and pool limits. Build that client with
        ``retry=Retry(NoBackoff(), 0)`` as the repository's own is: redis-py's default
        retry re-sends a write whose reply was lost, and a create sent twice fails as a
        duplicate of itself (see :mod:`.client`).

        Raises:
            RepositoryValidationError: the key prefix holds ``{``, ``}`` or NUL (it would break
                the hash tags), or ``client`` does not decode responses.
        """
        super().__init__()
        self.settings = settings if settings is not None else RedisSettings()
        self.keys = KeySpace(self.settings.key_prefix)
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
            return _describe(self._given)
        return (
            f"{self.settings.url} (cluster)"
            if self.settings.cluster_mode
            else str(self.settings.url)
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        client = self._given if self._given is not None else build_client(self.settings)
        try:
            if isinstance(client, RedisCluster):
                await client.initialize()
            await client.ping()
            constants = session_constants(
                self.keys,
                single=not isinstance(client, RedisCluster),
                ttl=self.settings.session_ttl,
            )
            scripts = Scripts.register(client, constants)
            await scripts.load(client)
        except BaseException:
            if self._given is None:
                await client.aclose()
            raise
        store = Store(
            client,
            scripts,
            self.keys,
            session_ttl=self.settings.session_ttl,
            max_connections=self.settings.max_connections,
            pool_timeout=self.settings.pool_timeout,
            resend_on=resendable(self.settings),
        )
        self._client, self._ops = client, _Operations.on(store)

    async def _disconnect(self) -> None:
        client, self._client, self._ops = self._client, None, None
        if client is not None and self._given is None:
            await client.aclose()

    def _release_abandoned(self) -> Release | None:
        # Sockets only close through the loop; a caller's client is the caller's to close.
        if self._client is None or self._given is not None:
            return None
        return on_loop(asyncio.get_running_loop(), partial(abort_connections, self._client))

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

    # -- retention (see maintenance.py) -----------------------------------------------------

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

    # -- catalog -----------------------------------------------------------------------------

    async def _create_agent(self, agent: Agent) -> Agent:
        return await self._operations.agents.create(agent)

    async def _get_agent(self, agent_id: UUID) -> Agent | None:
        return await self._operations.agents.get(agent_id)

    async def _list_agents(self, limit: int, offset: int) -> list[Agent]:
        return await self._operations.agents.list_page(False, limit, offset)

    async def _update_agent(self, agent: Agent) -> Agent:
        return await self._operations.agents.update(agent)

    async def _delete_agent(self, agent_id: UUID) -> bool:
        return await self._operations.agents.delete(agent_id)

    async def _create_tool(self, tool: Tool) -> Tool:
        return await self._operations.tools.create(tool)

    async def _get_tool(self, tool_id: UUID) -> Tool | None:
        return await self._operations.tools.get(tool_id)

    async def _list_tools(self, enabled_only: bool, limit: int, offset: int) -> list[Tool]:
        return await self._operations.tools.list_page(enabled_only, limit, offset)

    async def _update_tool(self, tool: Tool) -> Tool:
        return await self._operations.tools.update(tool)

    async def _delete_tool(self, tool_id: UUID) -> bool:
        return await self._operations.tools.delete(tool_id)

    async def _create_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._operations.mcp_servers.create(server)

    async def _get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        return await self._operations.mcp_servers.get(server_id)

    async def _list_mcp_servers(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[MCPServer]:
        return await self._operations.mcp_servers.list_page(enabled_only, limit, offset)

    async def _update_mcp_server(self, server: MCPServer) -> MCPServer:
        return await self._operations.mcp_servers.update(server)

    async def _delete_mcp_server(self, server_id: UUID) -> bool:
        return await self._operations.mcp_servers.delete(server_id)

    async def _create_external_service(self, service: ExternalService) -> ExternalService:
        return await self._operations.external_services.create(service)

    async def _get_external_service(self, service_id: UUID) -> ExternalService | None:
        return await self._operations.external_services.get(service_id)

    async def _list_external_services(
        self, enabled_only: bool, limit: int, offset: int
    ) -> list[ExternalService]:
        return await self._operations.external_services.list_page(enabled_only, limit, offset)

    async def _update_external_service(self, service: ExternalService) -> ExternalService:
        return await self._operations.external_services.update(service)

    async def _delete_external_service(self, service_id: UUID) -> bool:
        return await self._operations.external_services.delete(service_id)


def _describe(client: Client) -> str:
    """``redis://host:port/db`` of a client passed in (never with its password)."""
    if isinstance(client, RedisCluster):
        nodes = list(client.nodes_manager.startup_nodes.values())
        return f"redis://{nodes[0].host}:{nodes[0].port} (cluster)" if nodes else "redis://"
    kwargs = client.connection_pool.connection_kwargs
    host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
    return f"redis://{host}:{port}/{db}"
