"""Throwaway PostgreSQL, Redis and Redis Cluster servers for the test suite.

One implementation serves three callers:

- `tests/conftest.py`: session fixtures start a server when no `TEST_*_URL` is given, and
  factory fixtures give fault tests private servers they may stop, kill and restart;
- `./scripts/test`, through `python -m tests._servers run -- <command>`, which starts every
  server, exports `TEST_POSTGRES_URL`, `TEST_REDIS_URL` and `TEST_REDIS_CLUSTER_URL`, runs the
  command and stops the servers on every exit path;
- a developer, e.g. `python -m tests._servers run -- bash` for a shell with servers running.

Servers listen on 127.0.0.1 only, on ports picked below the ephemeral range, and live in temp
dirs that `close()` removes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, NoReturn, ParamSpec, Protocol, TypeVar

from ._process import TMPDIR_ENV, ServerError, ServerUnavailable, ci_is_set
from .postgres_server import DEFAULT_PASSWORD, PostgresServer, find_postgres_bindir
from .redis_server import RedisCluster, RedisReplyError, RedisServer, find_redis_binary

__all__ = [
    "DEFAULT_PASSWORD",
    "TMPDIR_ENV",
    "PostgresFactory",
    "PostgresServer",
    "RedisCluster",
    "RedisClusterFactory",
    "RedisFactory",
    "RedisReplyError",
    "RedisServer",
    "ServerError",
    "ServerFactory",
    "ServerUnavailable",
    "ci_is_set",
    "find_postgres_bindir",
    "find_redis_binary",
    "skip_or_fail",
]

P = ParamSpec("P")


def skip_or_fail(exc: ServerUnavailable, environ: Mapping[str, str] | None = None) -> NoReturn:
    """The missing-server policy: skip the test with the reason, but fail it under `CI`."""
    import pytest  # here, so that the runner never needs pytest

    if ci_is_set(environ):
        pytest.fail(f"{exc} (CI is set: a missing server is an error)", pytrace=False)
    pytest.skip(str(exc))


class _Server(Protocol):
    def start(self) -> object: ...
    def close(self) -> None: ...


S = TypeVar("S", bound=_Server)


class ServerFactory(Generic[P, S]):
    """Builds and starts servers with the server class's own arguments; `close()` ends them all.

    `on_unavailable` decides what a missing binary means (skip locally, fail under CI).
    """

    def __init__(
        self, server_class: Callable[P, S], on_unavailable: Callable[[ServerUnavailable], None]
    ) -> None:
        self._server_class = server_class
        self._on_unavailable = on_unavailable
        self._servers: list[S] = []

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> S:
        server = self._server_class(*args, **kwargs)
        self._servers.append(server)
        try:
            server.start()
        except ServerUnavailable as exc:
            self._on_unavailable(exc)
            raise
        return server

    def close(self) -> None:
        while self._servers:
            self._servers.pop().close()


# Parameter types of the factory fixtures (same arguments as the classes' constructors).
PostgresFactory = Callable[..., PostgresServer]
RedisFactory = Callable[..., RedisServer]
RedisClusterFactory = Callable[..., RedisCluster]
