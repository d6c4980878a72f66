"""Schema migrations: Alembic revisions shipped inside the package, and the API to run them.

One linear chain of revisions serves PostgreSQL and SQLite (dialect differences live inside
the revisions). Repositories never migrate themselves; entry points do, explicitly::

    from ai_agent.infrastructure.database import migrations

    await migrations.upgrade("postgresql://app:secret@db.internal/ai_agent")
    await migrations.current_revision("sqlite:///ai_agent.db")   # "0002"
    migrations.head_revision()                                   # "0002"

``upgrade`` creates a missing PostgreSQL database, and takes a transaction-scoped advisory
lock (PostgreSQL) or the write lock (SQLite, ``BEGIN IMMEDIATE``) around the whole run, so
several processes may migrate at once: the first does the work, the rest find the schema at
head and do nothing. Each run is one transaction, version record included. (Alembic keeps
module-level state, so run one migration at a time within a process.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

from ai_agent.config.urls import SQLITE_URL_FORMS, shown_url, sqlite_file_path
from ai_agent.infrastructure.database.backends import require_driver
from ai_agent.infrastructure.database.errors import RepositoryConnectionError, RepositoryError
from ai_agent.infrastructure.database.telemetry import events

# Alembic and SQLAlchemy's asyncio layer load on first use, inside the functions: the CLI
# imports this module for every command, and `--help` or `config show` need neither.
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

    from ai_agent.config.settings import ApplicationSettings

__all__ = [
    "ADVISORY_LOCK_KEY",
    "alembic_config",
    "check_driver",
    "create_engine",
    "current_revision",
    "downgrade",
    "ensure_database",
    "head_revision",
    "is_known_revision",
    "settings_url",
    "sql_url",
    "upgrade",
]

SCRIPT_LOCATION = Path(__file__).resolve().parent
# pg_advisory_xact_lock key shared by every migrating process ("aiagent" in ASCII).
ADVISORY_LOCK_KEY = 0x61_69_61_67_65_6E_74

_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


def sql_url(url: str | URL) -> URL:
    """Normalise a PostgreSQL or SQLite URL to the async driver Alembic runs on here.

    Raises:
        RepositoryError: not such a URL; the message shows it (password masked) and the
            accepted forms (for ``sqlite://agent.db``, also the likely intended one).
    """
    parsed = _parsed(url)
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise RepositoryError(f"migrations need a PostgreSQL or SQLite URL, got a {backend!r} URL")
    if backend == "sqlite":
        try:
            sqlite_file_path(parsed)
        except ValueError as exc:  # the message says what was given and what to write
            raise RepositoryError(str(exc)) from None
    parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    if backend == "postgresql" and "sslmode" in parsed.query:
        # libpq spells it sslmode; asyncpg (through SQLAlchemy) takes the same values as ssl.
        query = dict(parsed.query)
        query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(query=query)
    return parsed


def _parsed(url: str | URL) -> URL:
    if isinstance(url, URL):
        return url
    try:
        return make_url(url)
    except (exc.ArgumentError, ValueError):
        if url.strip().lower().startswith("sqlite"):
            try:
                sqlite_file_path(url)
            except ValueError as error:  # advice for the SQLite forms, e.g. sqlite:agent.db
                raise RepositoryError(str(error)) from None
        raise RepositoryError(
            f"{shown_url(url)!r} is not a database URL; expected "
            f"postgresql://user:password@host/name, {SQLITE_URL_FORMS}"
        ) from None


def settings_url(settings: ApplicationSettings) -> URL:
    """The SQL URL of the storage backend the settings select (PostgreSQL or SQLite)."""
    backend = str(settings.selected_backend)
    if backend == "postgresql":
        return sql_url(settings.database.url)
    if backend == "sqlite":
        return sql_url(URL.create("sqlite", database=str(settings.sqlite_path)))
    raise RepositoryError(
        f"the configured storage backend is {backend!r}, which has no schema to migrate; "
        "set STORAGE_BACKEND=postgresql (with DB_*) or STORAGE_BACKEND=sqlite"
    )


def check_driver(url: str | URL) -> None:
    """Raise ``MissingDriverError`` (naming the extra) when ``url``'s driver is missing."""
    require_driver(sql_url(url).get_backend_name())


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic ``Config`` for the packaged revisions, bound to ``url`` when given.

    The URL travels in ``Config.attributes``, not the ini options, so a password holding
    ``%`` needs no escaping and is never written anywhere.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        config.attributes["url"] = sql_url(url)
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision id of the packaged chain."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revision 0001
        raise RepositoryError("no migration revisions are installed")
    return head


def is_known_revision(revision: str) -> bool:
    """Whether this version of ai-agent ships ``revision`` (else a newer release migrated)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def create_engine(url: str | URL) -> AsyncEngine:
    """An engine for migrations; on SQLite every transaction takes the write lock first."""
    from sqlalchemy.ext.asyncio import create_async_engine

    target = sql_url(url)
    check_driver(target)
    if target.get_backend_name() != "sqlite":
        return create_async_engine(target, poolclass=NullPool)
    # Wait (up to 60 s) for another process's migration to release the write lock.
    engine = create_async_engine(target, poolclass=NullPool, connect_args={"timeout": 60})
    _use_immediate_transactions(engine)
    return engine


def _use_immediate_transactions(engine: AsyncEngine) -> None:
    # pysqlite only opens transactions before DML, so DDL would autocommit statement by
    # statement; take over transaction control and lock the database for the whole run.
    @event.listens_for(engine.sync_engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision``; a no-op when it is there already."""
    from alembic import command

    target = sql_url(url)
    if target.get_backend_name() == "postgresql":
        await ensure_database(target)
    await _run_command(target, lambda config: command.upgrade(config, revision), "applied")


async def downgrade(url: str | URL, revision: str = "base") -> None:
    """Take the schema at ``url`` down to ``revision`` (``base`` drops every table)."""
    from alembic import command

    await _run_command(sql_url(url), lambda config: command.downgrade(config, revision), "reverted")


async def current_revision(url: str | URL) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    except (exc.SQLAlchemyError, OSError) as error:
        raise _unreachable(url, error, doing="read the schema revision of") from error
    finally:
        await engine.dispose()


async def _run_command(url: URL, run: Callable[[Config], None], done: str) -> None:
    """Run an Alembic command in one transaction; a ``migration.<done>`` event when it
    changed the revision (from, to, how long)."""
    from alembic.runtime.migration import MigrationContext

    config = alembic_config(url)
    revisions: list[str | None] = []

    def in_connection(connection: Connection) -> None:
        config.attributes["connection"] = connection
        # Read in the command's own transaction (Alembic joins it), so they frame its work.
        revisions.append(MigrationContext.configure(connection).get_current_revision())
        run(config)
        revisions.append(MigrationContext.configure(connection).get_current_revision())

    engine = create_engine(url)
    try:
        started = time.perf_counter()
        async with engine.connect() as connection:
            await connection.run_sync(in_connection)
            await connection.commit()
    except (exc.SQLAlchemyError, OSError) as error:
        raise _unreachable(url, error) from error
    finally:
        await engine.dispose()
    before, after = revisions
    if before != after:
        events.info(
            f"migration.{done}",
            url=url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True),
            from_revision=before,
            to_revision=after,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )


async def ensure_database(url: str | URL) -> bool:
    """Create the PostgreSQL database named in ``url`` when missing; return whether it did.

    Safe when several processes race to create it: losing the race counts as existing.
    """
    target = sql_url(url)
    check_driver(target)
    import asyncpg

    try:
        connection = await asyncpg.connect(_libpq_dsn(target), timeout=10)
    except asyncpg.InvalidCatalogNameError:
        pass
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise _unreachable(target, error) from error
    else:
        await connection.close()
        return False
    try:
        admin = await asyncpg.connect(_libpq_dsn(target, database="postgres"), timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise _unreachable(target.set(database="postgres"), error) from error
    try:
        name = target.database or "postgres"
        await admin.execute('CREATE DATABASE "{}"'.format(name.replace('"', '""')))
    except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
        return False  # another process created it first
    finally:
        await admin.close()
    return True


def _libpq_dsn(url: URL, database: str | None = None) -> str:
    """A plain ``postgresql://`` DSN for asyncpg, with ``sslmode`` spelled as libpq does."""
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    plain = url.set(drivername="postgresql", query=query)
    if database is not None:
        plain = plain.set(database=database)
    return plain.render_as_string(hide_password=False)


def _unreachable(
    url: str | URL, error: BaseException, doing: str = "migrate"
) -> RepositoryConnectionError:
    """A connection error that names the redacted URL and the cause, never the password."""
    parsed = make_url(url) if isinstance(url, str) else url
    cause = error.orig if isinstance(error, exc.DBAPIError) and error.orig else error
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    password = parsed.password
    if password:
        reason = reason.replace(str(password), "***")
    shown = parsed.set(drivername=parsed.get_backend_name())
    return RepositoryConnectionError(f"cannot {doing} the database at {shown}: {reason}")


def advisory_lock_statement() -> Any:
    """The statement env.py runs first in a PostgreSQL migration transaction."""
    return text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=ADVISORY_LOCK_KEY)
