"""asyncpg (and socket) exceptions -> the repository error tree: the backend's one mapping.

Constraint names come from revision 0001, so a violation says exactly what clashed or what
is missing. Messages quote the server's primary message at most, never the driver's
rendering of a parameter (which may hold credentials) nor a password.
"""

from __future__ import annotations

import re

import asyncpg

from ai_agent.infrastructure.database import errors

__all__ = ["AcquireTimeout", "translate_error"]

# unique constraint -> (entity, field)
_UNIQUE = {
    "sessions_pkey": ("session", "id"),
    "messages_pkey": ("message", "id"),
    "agents_pkey": ("agent", "id"),
    "tools_pkey": ("tool", "id"),
    "mcp_servers_pkey": ("MCP server", "id"),
    "external_services_pkey": ("external service", "id"),
    "uq_agents_name": ("agent", "name"),
    "uq_tools_name": ("tool", "name"),
    "uq_mcp_servers_name": ("MCP server", "name"),
}
# foreign key -> the entity that is missing
_REFERENCED = {
    "fk_messages_session": "session",
    "fk_messages_parent": "parent message",
    "fk_tools_mcp_server": "MCP server",
}
# "Key (name)=(value) already exists." / "Key (col)=(value) is not present in table ..."
_KEY_VALUE = re.compile(r"\)=\((?P<value>.*)\) (?:already exists|is not present)", re.DOTALL)
_CLIENT_INPUT = "invalid input for query argument"
_LAST_PARENTHESIS = re.compile(r"\((?P<why>[^()]*)\)$")

_CONFLICT = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.LockNotAvailableError,
)
_INVALID = (
    asyncpg.DataError,  # SQLSTATE class 22, and arguments the driver cannot encode
    asyncpg.CheckViolationError,
    asyncpg.NotNullViolationError,
)
_UNREACHABLE = (
    asyncpg.PostgresConnectionError,  # class 08, ConnectionDoesNotExistError among them
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InvalidAuthorizationSpecificationError,  # wrong user or password
    asyncpg.InvalidCatalogNameError,  # no such database
    asyncpg.QueryCanceledError,  # statement_timeout, or cancelled by an operator
    asyncpg.ClientConfigurationError,
    asyncpg.InterfaceError,  # the connection closed under the driver, misuse of one
    OSError,  # refused, reset, unreachable, TLS failures
)
_SCHEMA = (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError)


class AcquireTimeout(TimeoutError):
    """No pooled connection became free within ``pool_timeout``."""

    def __init__(self, timeout: float, max_size: int) -> None:
        super().__init__(f"no connection became free within {timeout:g}s")
        self.timeout = timeout
        self.max_size = max_size


def translate_error(
    exc: BaseException, where: str, password: str | None
) -> errors.RepositoryError | None:
    """The repository error for ``exc``, or ``None`` when it is not a driver error (a bug).

    ``where`` is the redacted URL; ``password`` is scrubbed from any text that is quoted.
    """
    if isinstance(exc, TimeoutError):
        return _timeout(exc, where)
    if isinstance(exc, asyncpg.UniqueViolationError):
        return _duplicate(exc)
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return _missing(exc)
    if isinstance(exc, _INVALID) or _is_client_input_error(exc):
        return errors.RepositoryValidationError(
            f"PostgreSQL cannot store the value: {_reason(exc)}"
        )
    if isinstance(exc, _CONFLICT):
        return errors.ConflictError(
            f"a concurrent transaction got in the way ({_reason(exc)}); retry the operation"
        )
    if isinstance(exc, asyncpg.InFailedSQLTransactionError):
        return errors.RepositoryError(
            "the transaction was aborted by an earlier error; leave the transaction block "
            "(wrap a call that may fail in a nested transaction() to recover from it)"
        )
    if isinstance(exc, _UNREACHABLE):
        reason = _scrubbed_reason(exc, password)
        return errors.RepositoryConnectionError(f"cannot reach PostgreSQL at {where}: {reason}")
    if isinstance(exc, _SCHEMA):
        return errors.RepositoryError(
            f"the database schema at {where} is missing or behind ({_reason(exc)}); "
            "run `ai-agent db migrate`"
        )
    if isinstance(exc, asyncpg.OutdatedSchemaCacheError):
        return errors.RepositoryError(
            f"the database schema changed under a cached statement: {exc}"
        )
    if isinstance(exc, asyncpg.InternalClientError):
        # The driver's protocol state broke, e.g. "cannot switch to state 11; another
        # operation (2) is in progress" after the server ended an idle connection.
        reason = _scrubbed_reason(exc, password)
        return errors.RepositoryConnectionError(
            f"the connection to PostgreSQL at {where} broke: {reason}"
        )
    if isinstance(exc, asyncpg.PostgresError):
        return errors.RepositoryError(f"PostgreSQL error: {_reason(exc)}")
    return None


def _timeout(exc: TimeoutError, where: str) -> errors.RepositoryConnectionError:
    if isinstance(exc, AcquireTimeout):
        return errors.RepositoryConnectionError(
            f"no PostgreSQL connection to {where} became free within {exc.timeout:g}s "
            f"(pool of {exc.max_size}); raise DB_MAX_POOL_SIZE or DB_POOL_TIMEOUT"
        )
    return errors.RepositoryConnectionError(f"PostgreSQL at {where} did not answer in time")


def _duplicate(exc: asyncpg.UniqueViolationError) -> errors.RepositoryError:
    target = _UNIQUE.get(exc.constraint_name or "")
    if target is None:
        return errors.RepositoryError(f"unexpected unique violation: {_reason(exc)}")
    entity, field = target
    return errors.DuplicateError(entity, field, _key_value(exc) or "?")


def _missing(exc: asyncpg.ForeignKeyViolationError) -> errors.RepositoryError:
    entity = _REFERENCED.get(exc.constraint_name or "")
    if entity is None:
        return errors.RepositoryError(f"unexpected foreign key violation: {_reason(exc)}")
    return errors.NotFoundError(entity, _key_value(exc) or "?")


def _key_value(exc: asyncpg.PostgresError) -> str | None:
    match = _KEY_VALUE.search(getattr(exc, "detail", None) or "")
    return match.group("value") if match else None


def _is_client_input_error(exc: BaseException) -> bool:
    # asyncpg's client-side DataError is an InterfaceError that is also a ValueError.
    return (
        isinstance(exc, asyncpg.InterfaceError)
        and isinstance(exc, ValueError)
        and not isinstance(exc, asyncpg.ClientConfigurationError)
    )


def _scrubbed_reason(exc: BaseException, password: str | None) -> str:
    reason = _reason(exc)
    return reason.replace(password, "***") if password else reason


def _reason(exc: BaseException) -> str:
    """One line saying why: the server's primary message, without quoted parameter values."""
    # A server error's primary message (str() would add DETAIL lines); the driver's own
    # errors (e.g. client-side DataError) carry theirs in str() only.
    text = str(getattr(exc, "message", None) or exc)
    text = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if text.startswith(_CLIENT_INPUT):
        # "invalid input for query argument $3: <the value> (why)": the value may be a secret.
        head = text.split(":", 1)[0]
        why = _LAST_PARENTHESIS.search(text)
        return f"{head} ({why.group('why')})" if why else head
    return text[:300]
