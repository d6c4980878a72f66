"""redis-py errors -> the repository error tree: the Redis backend's one translation point.

A lost connection, a timeout, a cluster that is down, resharding or has a slot nobody
serves is ``RepositoryConnectionError`` (the store is unreachable, not the operation wrong);
a lost ``WATCH`` is ``ConflictError``; any other redis-py error is ``RepositoryError``.
"""

from __future__ import annotations

from redis import exceptions as rx

from ai_agent.infrastructure.database import errors

__all__ = ["translate_error"]


def translate_error(exc: Exception, where: str) -> errors.RepositoryError | None:
    """Map a redis-py exception to the error tree; ``None`` for anything that is not one.

    ``where`` names the server (a display URL, never with its password).
    """
    if isinstance(exc, rx.AuthenticationError):
        return errors.RepositoryConnectionError(f"Redis at {where} refused the credentials: {exc}")
    if isinstance(exc, rx.ConnectionError | rx.TimeoutError | rx.ClusterDownError):
        return errors.RepositoryConnectionError(
            f"Redis at {where} is unavailable: {_describe(exc)}"
        )
    if isinstance(exc, rx.TryAgainError):
        return errors.RepositoryConnectionError(f"Redis at {where} is resharding: {exc}")
    if isinstance(exc, rx.WatchError):
        return errors.ConflictError(f"a concurrent change to watched Redis keys at {where}: {exc}")
    if isinstance(exc, rx.SlotNotCoveredError) or (
        isinstance(exc, rx.RedisClusterException) and "cannot be connected" in str(exc)
    ):
        return errors.RepositoryConnectionError(f"Redis Cluster at {where} is unavailable: {exc}")
    if isinstance(exc, rx.RedisError | rx.RedisClusterException):
        return errors.RepositoryError(f"Redis at {where} failed: {_describe(exc)}")
    return None


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
