"""sqlite3 errors -> the repository error tree: the SQLite backend's one translation point.

Choices worth knowing:

* "database is locked" (``SQLITE_BUSY``/``SQLITE_LOCKED``) becomes ``ConflictError``: the file
  is reachable, but another connection held the write lock for longer than the busy
  timeout. Nothing was written, and retrying may succeed, which is what ``ConflictError``
  promises; a ``RepositoryConnectionError`` would make a health monitor fail over because of
  mere contention.
* A file that cannot be opened, is not a database, is corrupt or fails at the I/O level is
  ``RepositoryConnectionError``: the store is unusable, not the operation.
* Constraint errors are mapped with the entity being written (``subject``) so the message
  says which id or name is taken. SQLite names the column of a failed UNIQUE constraint but
  not the key of a failed FOREIGN KEY, so foreign keys are mapped per entity type.
"""

from __future__ import annotations

import sqlite3

from ai_agent.domain.models import DomainModel, Message, Tool
from ai_agent.infrastructure.database import errors
from ai_agent.infrastructure.database.sqlite._codec import entity_name

__all__ = ["translate_error"]

_UNUSABLE = (
    "SQLITE_CANTOPEN",
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_IOERR",
    "SQLITE_PERM",
    "SQLITE_AUTH",
)
_CONTENDED = ("SQLITE_BUSY", "SQLITE_LOCKED")
# aiosqlite raises these ValueErrors once its worker thread has closed the connection.
_CLOSED = ("Connection closed", "no active connection")
# The foreign key a write of each entity type can violate (the others are checked first).
_REFERENCES: dict[type[DomainModel], tuple[str, str]] = {
    Tool: ("MCP server", "mcp_server_id"),
    Message: ("session", "session_id"),
}


def translate_error(
    exc: BaseException, where: str, subject: DomainModel | None = None
) -> errors.RepositoryError | None:
    """Map a driver exception to the error tree; ``None`` when it is not a driver error.

    ``where`` is the database's display URL; ``subject`` the entity being written, if any.
    """
    if isinstance(exc, UnicodeEncodeError):
        # sqlite3 binds text as UTF-8, which cannot hold a lone surrogate; the value itself
        # stays out of the message (it may be a secret).
        character = f"U+{ord(exc.object[exc.start]):04X}" if exc.object else "a character"
        return errors.RepositoryValidationError(
            f"text holding {character} (a lone surrogate) cannot be stored in SQLite, "
            "whose text is UTF-8; nothing was stored"
        )
    if isinstance(exc, ValueError) and str(exc) in _CLOSED:
        return errors.RepositoryConnectionError(f"the SQLite connection to {where} is closed")
    if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
        return errors.RepositoryConnectionError(f"the SQLite connection to {where} is closed")
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorname", None) or ""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.IntegrityError):
        return _integrity(reason, code, subject)
    if code.startswith(_CONTENDED):
        return errors.ConflictError(
            f"the SQLite database {where} is locked by another connection ({reason}); "
            "nothing was written, retry later"
        )
    if code.startswith(_UNUSABLE) or "unable to open" in reason:
        return errors.RepositoryConnectionError(f"cannot use the SQLite database {where}: {reason}")
    if reason.startswith("no such table"):
        return errors.RepositoryError(
            f"the SQLite database {where} has no schema ({reason}); run `ai-agent db migrate`"
        )
    return errors.RepositoryError(f"SQLite error on {where}: {reason}")


def _integrity(reason: str, code: str, subject: DomainModel | None) -> errors.RepositoryError:
    if code in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"):
        return _unique(reason, subject)
    if code == "SQLITE_CONSTRAINT_FOREIGNKEY":
        reference = _REFERENCES.get(type(subject)) if subject is not None else None
        if subject is None or reference is None:
            return errors.NotFoundError("referenced entity", "?", f"({reason})")
        entity, column = reference
        return errors.NotFoundError(entity, getattr(subject, column))
    return errors.RepositoryValidationError(f"the database rejected the value: {reason}")


def _unique(reason: str, subject: DomainModel | None) -> errors.RepositoryError:
    # "UNIQUE constraint failed: agents.name" (several columns are comma-separated).
    columns = [part.strip() for part in reason.partition(":")[2].split(",")]
    table, _, column = columns[0].partition(".")
    if len(columns) > 1:
        # Only (session_id, seq) is composite: two writers numbered the same message slot.
        return errors.ConflictError(f"a concurrent write to {table} collided ({reason}); retry")
    value = getattr(subject, column, None) if subject is not None else None
    if value is None or isinstance(value, DomainModel):
        value = "?"
    return errors.DuplicateError(entity_name(subject, table), column, value)
