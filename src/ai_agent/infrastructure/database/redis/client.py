"""The Redis client, chosen on purpose, and the one place redis-py errors are translated.

Connection policy:

* **Pool**: a single server gets a :class:`~redis.asyncio.BlockingConnectionPool` of
  ``max_connections``; a caller that finds every connection busy waits up to ``pool_timeout``
  for one instead of failing ("Too many connections"). redis-py's cluster client has no
  blocking pool (it raises ``MaxConnectionsError``), so :class:`Store` admits at most
  ``max_connections`` commands at a time with a semaphore and the same ``pool_timeout``: no
  node can then need more than ``max_connections`` connections.
* **Timeouts**: ``socket_connect_timeout`` and ``socket_timeout`` bound every connect and
  every reply.
* **Retries**: redis-py never re-sends a command by itself (``Retry(NoBackoff(), 0)``, and
  the same count for the cluster client, whose retry would refresh the topology and send the
  command again). A write whose reply is lost may have been applied, and sent twice a create
  script meets its own record and answers "duplicate": only ``BaseRepository``'s retry loop
  (the ``retries`` feature flag, :mod:`..retry`) may try a write again, because it knows
  how to recognise its own earlier write. What redis-py still does:

  - the single-server pool checks a pooled connection before lending it and reconnects one
    the server closed (after a restart), before anything is sent on it;
  - a cluster client, which has no such check, drops a failed node's idle connections and
    refreshes the topology before its next command; so the first command sent on an old
    connection to a restarted node fails, and the next ones work.

  :meth:`Store.call`, which runs only commands that are safe to repeat (reads, ``PING``,
  ``ZREM``), sends one again at once after a connection error, and after a timeout when
  ``retry_on_timeout`` is set: a socket that broke under it (a node restarted mid-command)
  then costs no failure. Scripts and pipelines are sent once. An outage therefore shows at
  once as :class:`RepositoryConnectionError` (after ``socket_timeout`` when the server
  hangs) instead of being hidden; retrying longer is the caller's policy. A client passed
  to the repository keeps its own retry, so build it with ``Retry(NoBackoff(), 0)`` too.
* **decode_responses** is on: ids and members come back as ``str``. A client passed in must
  be built that way too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from redis import exceptions as rx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection, SSLConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ai_agent.infrastructure.database.errors import (
    ConflictError,
    RepositoryConnectionError,
    RepositoryError,
)
from ai_agent.infrastructure.database.redis.keys import KeySpace
from ai_agent.infrastructure.database.redis.scripts import Scripts

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from ai_agent.config.settings import RedisSettings

__all__ = [
    "Client",
    "Store",
    "abort_connections",
    "build_client",
    "connection_counts",
    "decodes_responses",
    "resendable",
    "text",
    "translate_error",
]

Client = Redis | RedisCluster
T = TypeVar("T")


def _never_resend() -> Retry:
    """redis-py's retry, turned off: a command it re-sends may already have been applied."""
    return Retry(NoBackoff(), 0)


def resendable(settings: RedisSettings) -> tuple[type[rx.RedisError], ...]:
    """What makes :meth:`Store.call` send a command that is safe to repeat once more."""
    if settings.retry_on_timeout:
        return (rx.ConnectionError, rx.TimeoutError)
    return (rx.ConnectionError,)


def build_client(settings: RedisSettings) -> Client:
    """A client for ``settings``: a cluster client when ``cluster_mode`` is set."""
    common: dict[str, Any] = {
        "username": settings.username,
        "password": settings.password.get_secret_value() if settings.password else None,
        "socket_timeout": settings.socket_timeout,
        "socket_connect_timeout": settings.socket_connect_timeout,
        "health_check_interval": settings.health_check_interval,
        "decode_responses": True,
        "retry": _never_resend(),
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


def abort_connections(client: Client) -> None:
    """Close every socket of ``client`` at once, awaiting nothing: for an abandoned client.

    redis-py closes only through coroutines; this reaches the connections it keeps (idle
    and lent) and closes each stream, as redis-py's own ``__del__`` does. Run it on the
    client's loop thread (:func:`...abandoned.on_loop`).
    """
    connections: list[AbstractConnection] = []
    if isinstance(client, RedisCluster):
        connections += [c for node in client.get_nodes() for c in node._connections]
    else:
        pool = client.connection_pool
        connections += [*pool._available_connections, *pool._in_use_connections]
    for connection in connections:
        connection._close()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


def text(value: object) -> str | None:
    """A reply value as ``str`` (``decode_responses`` is on, so anything else is a bug)."""
    if value is None or isinstance(value, str):
        return value
    raise RepositoryError(f"unexpected Redis reply of type {type(value).__name__}")


def connection_counts(client: Client) -> tuple[int, int]:
    """``(in_use, idle)`` connections of the client's pool (every node's, for a cluster).

    The pool's public ``get_connection_count()`` where redis-py has it (7.x and later);
    otherwise, and for cluster nodes (which have no public count), the lengths of the lists
    the pools keep. Should a release rename those, the count reads 0, never fails a scrape.
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


class Store:
    """A connected client with its scripts, key space and TTL: what the operations use."""

    def __init__(
        self,
        client: Client,
        scripts: Scripts,
        keys: KeySpace,
        *,
        session_ttl: int,
        max_connections: int,
        pool_timeout: float,
        resend_on: tuple[type[rx.RedisError], ...] = (rx.ConnectionError,),
    ) -> None:
        self.client = client
        self.keys = keys
        self.ttl = session_ttl
        self.cluster = isinstance(client, RedisCluster)
        self.scripts = scripts
        self._pool_timeout = pool_timeout
        self._permits = asyncio.Semaphore(max_connections) if self.cluster else None
        self._max_connections = max_connections
        self._resend_on = resend_on

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

        Sent once more, at once, after a connection error (see the module docstring): the
        failed connection is gone by then, so the second try gets a fresh one.
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

    async def batch(self, build: Callable[[Any], object]) -> list[Any]:
        """Run the commands ``build(pipeline)`` queues, in one round trip per node.

        Not a transaction: on a cluster the commands may span slots. Sent once, like a
        script.
        """
        async with self._admitted():
            pipeline = self.client.pipeline(transaction=False)
            build(pipeline)
            return list(await pipeline.execute())

    @staticmethod
    def header(now: float) -> list[Any]:
        """ARGV[1] of every session script (see ``lua/session_prelude.lua``); the rest of
        what they need is rendered into their source (``scripts.session_constants``)."""
        return [int(now)]


def translate_error(exc: Exception, where: str) -> RepositoryError | None:
    """Map a redis-py exception to the error tree; ``None`` for anything that is not one."""
    if isinstance(exc, rx.AuthenticationError):
        return RepositoryConnectionError(f"Redis at {where} refused the credentials: {exc}")
    if isinstance(exc, rx.ConnectionError | rx.TimeoutError | rx.ClusterDownError):
        return RepositoryConnectionError(f"Redis at {where} is unavailable: {_describe(exc)}")
    if isinstance(exc, rx.TryAgainError):
        return RepositoryConnectionError(f"Redis at {where} is resharding: {exc}")
    if isinstance(exc, rx.WatchError):
        return ConflictError(f"a concurrent change to watched Redis keys at {where}: {exc}")
    if isinstance(exc, rx.SlotNotCoveredError) or (
        isinstance(exc, rx.RedisClusterException) and "cannot be connected" in str(exc)
    ):
        return RepositoryConnectionError(f"Redis Cluster at {where} is unavailable: {exc}")
    if isinstance(exc, rx.RedisError | rx.RedisClusterException):
        return RepositoryError(f"Redis at {where} failed: {_describe(exc)}")
    return None


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
