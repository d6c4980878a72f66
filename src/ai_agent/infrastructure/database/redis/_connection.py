"""The Redis client: creation, connect and ping, running commands and scripts, release.

:func:`build_client` says how the client is set up (pool, timeouts, no re-sends) and why;
:class:`Store` is what the operations use: the client with its scripts, key space and TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from redis import exceptions as rx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection, SSLConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ai_agent.infrastructure.database.abandoned import Release, on_loop
from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    RepositoryConnectionError,
    RepositoryError,
    parent_not_found,
)
from ai_agent.infrastructure.database.redis._keys import KeySpace
from ai_agent.infrastructure.database.redis._queries import (
    ALL_SCRIPTS,
    LOADED_SCRIPTS,
    session_constants,
    source,
)

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from ai_agent.config.settings import RedisSettings

__all__ = [
    "Client",
    "Scripts",
    "Store",
    "build_client",
    "connection_counts",
    "decodes_responses",
    "describe",
    "open_store",
    "outcome",
    "release_abandoned",
    "text",
]

Client = Redis | RedisCluster
T = TypeVar("T")

_ENTITY = {"parent": "parent message", "mcp_server": "MCP server"}  # script nouns -> names


def build_client(settings: RedisSettings) -> Client:
    """A client for ``settings``: a cluster client when ``cluster_mode`` is set.

    * **Pool**: a single server gets a blocking pool of ``max_connections``; a caller that
      finds every connection busy waits up to ``pool_timeout`` instead of failing.
      redis-py's cluster client has no blocking pool, so :class:`Store` admits at most
      ``max_connections`` commands at a time, with the same ``pool_timeout``.
    * **Timeouts**: ``socket_connect_timeout`` and ``socket_timeout`` bound every connect
      and every reply.
    * **No re-sends**: a write whose reply is lost may have been applied, and sent twice a
      create script meets its own record and answers "duplicate"; only ``BaseRepository``'s
      retry loop, which recognises its own earlier write, may try a write again. The
      single-server pool still checks a pooled connection before lending it; a cluster
      client refreshes its topology after a failed node. :meth:`Store.call` re-sends only
      commands that are safe to repeat. A client passed to the repository keeps its own
      retry, so build it with ``Retry(NoBackoff(), 0)`` too.
    * **decode_responses** is on: ids and members come back as ``str``.
    """
    common: dict[str, Any] = {
        "username": settings.username,
        "password": settings.password.get_secret_value() if settings.password else None,
        "socket_timeout": settings.socket_timeout,
        "socket_connect_timeout": settings.socket_connect_timeout,
        "health_check_interval": settings.health_check_interval,
        "decode_responses": True,
        "retry": Retry(NoBackoff(), 0),
    }
    if settings.cluster_mode:
        return RedisCluster(
            host=settings.host,
            port=settings.port,
            ssl=settings.ssl,
            max_connections=settings.max_connections,
            **common,
        )
    if settings.ssl:
        common["connection_class"] = SSLConnection
    pool = BlockingConnectionPool(
        host=settings.host,
        port=settings.port,
        db=settings.db,
        max_connections=settings.max_connections,
        timeout=settings.pool_timeout,
        **common,
    )
    return Redis.from_pool(pool)


async def open_store(settings: RedisSettings, keys: KeySpace, given: Client | None) -> Store:
    """Connect (``given``, or a client built from ``settings``), ping and load the scripts.

    A client built here is closed again when that fails; ``given`` is the caller's.
    """
    client = given if given is not None else build_client(settings)
    try:
        if isinstance(client, RedisCluster):
            await client.initialize()
        await client.ping()
        single = not isinstance(client, RedisCluster)
        scripts = Scripts.register(
            client, session_constants(keys, single=single, ttl=settings.session_ttl)
        )
        await scripts.load(client)
    except BaseException:
        if given is None:
            await client.aclose()
        raise
    return Store(client, scripts, keys, settings)


def release_abandoned(client: Client) -> Release:
    """Close every socket of an abandoned ``client`` on its loop, awaiting nothing.

    redis-py closes only through coroutines; this reaches the connections it keeps (idle
    and lent) and closes each stream, as redis-py's own ``__del__`` does.
    """
    return on_loop(asyncio.get_running_loop(), partial(_abort_connections, client))


def _abort_connections(client: Client) -> None:
    connections: list[AbstractConnection] = []
    if isinstance(client, RedisCluster):
        connections += [c for node in client.get_nodes() for c in node._connections]
    else:
        pool = client.connection_pool
        connections += [*pool._available_connections, *pool._in_use_connections]
    for connection in connections:
        connection._close()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


def connection_counts(client: Client) -> tuple[int, int]:
    """``(in_use, idle)`` connections of the client's pool (every node's, for a cluster).

    The pool's public ``get_connection_count()`` where redis-py has it; otherwise, and for
    cluster nodes (which have no public count), the lengths of the lists the pools keep.
    Should a release rename those, the count reads 0, never fails a scrape.
    """
    if isinstance(client, RedisCluster):
        in_use = idle = 0
        for node in client.get_nodes():
            free = len(getattr(node, "_free", ()))
            in_use += max(0, len(getattr(node, "_connections", ())) - free)
            idle += free
        return in_use, idle
    pool = client.connection_pool
    counted = getattr(pool, "get_connection_count", None)
    if counted is not None:
        states = {attrs.get("db.client.connection.state"): n for n, attrs in counted()}
        return states.get("used", 0), states.get("idle", 0)
    idle = len(getattr(pool, "_available_connections", ()))
    return len(getattr(pool, "_in_use_connections", ())), idle


def decodes_responses(client: Client) -> bool:
    if isinstance(client, RedisCluster):
        return bool(client.encoder.decode_responses)
    return bool(client.connection_pool.connection_kwargs.get("decode_responses"))


def describe(client: Client) -> str:
    """``redis://host:port/db`` of a client passed in (never with its password)."""
    if isinstance(client, RedisCluster):
        nodes = list(client.nodes_manager.startup_nodes.values())
        return f"redis://{nodes[0].host}:{nodes[0].port} (cluster)" if nodes else "redis://"
    kwargs = client.connection_pool.connection_kwargs
    host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
    return f"redis://{host}:{port}/{db}"


def text(value: object) -> str | None:
    """A reply value as ``str`` (``decode_responses`` is on, so anything else is a bug)."""
    if value is None or isinstance(value, str):
        return value
    raise RepositoryError(f"unexpected Redis reply of type {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Scripts:
    """The scripts registered on one client, run by EVALSHA.

    redis-py's ``AsyncScript`` loads a script again and retries on ``NOSCRIPT`` (a restarted
    or failed-over server forgot it), so a server restart never surfaces as an error here.
    """

    create_session: AsyncScript
    update_session: AsyncScript
    delete_session: AsyncScript
    create_messages: AsyncScript
    update_message: AsyncScript
    delete_message: AsyncScript
    pop_message: AsyncScript
    clear_messages: AsyncScript
    trim_messages: AsyncScript
    read_messages: AsyncScript
    messages_after: AsyncScript
    list_sessions: AsyncScript
    catalog_write: AsyncScript
    catalog_delete: AsyncScript
    catalog_list: AsyncScript
    drop_dead_entry: AsyncScript
    swap_pointer: AsyncScript
    append_with_state: AsyncScript
    create_session_with_state: AsyncScript

    @classmethod
    def register(cls, client: Any, constants: str) -> Scripts:
        return cls(
            **{name: client.register_script(source(name, constants)) for name in ALL_SCRIPTS}
        )

    async def load(self, client: Any) -> None:
        """SCRIPT LOAD the request scripts (every primary of a cluster)."""
        for name in LOADED_SCRIPTS:
            await client.script_load(getattr(self, name).script)


def outcome(reply: Any, entity: str) -> list[Any]:
    """Return the payload of a script's ``ok`` reply; raise the error a failure code means.

    Scripts never raise for expected outcomes: they reply ``['ok', ...]`` or a code such as
    ``['not_found', 'session', <id>]``. ``entity`` names what the operation was about: it is
    used when the script reports the operation's own record (``self``).
    """
    if not isinstance(reply, list) or not reply:
        raise RepositoryError(f"unexpected reply from a Redis script: {reply!r:.80}")
    status, *rest = reply
    if status == "ok":
        return rest
    what = rest[0] if rest else "self"
    noun = entity if what == "self" else _ENTITY.get(what, what)
    if status == "not_found":
        if what == "parent" and len(rest) > 2:
            raise parent_not_found(rest[1], rest[2])
        raise NotFoundError(noun, rest[1])
    if status == "duplicate":
        field = "name" if what == "name" else "id"
        noun = entity if what in ("id", "name") else noun
        raise DuplicateError(noun, field, rest[1])
    raise RepositoryError(f"unexpected reply from a Redis script: {reply!r:.80}")


class Store:
    """A connected client with its scripts, key space and TTL: what the operations use."""

    def __init__(
        self, client: Client, scripts: Scripts, keys: KeySpace, settings: RedisSettings
    ) -> None:
        self.client = client
        self.keys = keys
        self.ttl = settings.session_ttl
        self.cluster = isinstance(client, RedisCluster)
        self.scripts = scripts
        self._pool_timeout = settings.pool_timeout
        self._max_connections = settings.max_connections
        self._permits = asyncio.Semaphore(settings.max_connections) if self.cluster else None
        self._resend_on: tuple[type[rx.RedisError], ...] = (
            (rx.ConnectionError, rx.TimeoutError)
            if settings.retry_on_timeout
            else (rx.ConnectionError,)
        )

    @asynccontextmanager
    async def _admitted(self) -> AsyncIterator[None]:
        if self._permits is None:  # the blocking pool does the waiting
            yield
            return
        try:
            async with asyncio.timeout(self._pool_timeout):
                await self._permits.acquire()
        except TimeoutError:
            raise RepositoryConnectionError(
                f"no Redis connection free within {self._pool_timeout} s "
                f"(max_connections={self._max_connections})"
            ) from None
        try:
            yield
        finally:
            self._permits.release()

    async def call(self, command: Callable[[Client], Awaitable[T]]) -> T:
        """Run one command that is safe to repeat (``lambda client: client.hget(...)``).

        Sent once more, at once, after a connection error (and a timeout with
        ``retry_on_timeout``): the failed connection is gone by then, so the second try gets
        a fresh one, and a node restarted under an idle connection costs no failure.
        """
        if self._permits is None:  # no context manager on the hot path: the pool waits
            try:
                return await command(self.client)
            except self._resend_on:
                return await command(self.client)
        async with self._admitted():
            try:
                return await command(self.client)
            except self._resend_on:
                return await command(self.client)

    async def script(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run a script once: it may write, so only the caller's retry loop may repeat it."""
        if self._permits is None:
            return await script(keys=keys, args=args)
        async with self._admitted():
            return await script(keys=keys, args=args)

    async def session_script(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run a session script: ARGV[1] is the time in seconds (``lua/session_prelude.lua``)."""
        return await self.script(script, keys, [int(time.time()), *args])

    async def batch(self, build: Callable[[Any], object]) -> list[Any]:
        """Run the commands ``build(pipeline)`` queues, in one round trip per node.

        Not a transaction: on a cluster the commands may span slots. Sent once, like a
        script.
        """
        async with self._admitted():
            pipeline = self.client.pipeline(transaction=False)
            build(pipeline)
            return list(await pipeline.execute())
