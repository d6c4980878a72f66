"""``ai-agent db migrate|reset|check|status``: the database schema tool (PostgreSQL and SQLite).

``scripts/migrate_database.py`` runs these same commands. The database is the one the
settings select (``STORAGE_BACKEND=postgresql`` with ``DB_*``/``DATABASE_URL``, or
``STORAGE_BACKEND=sqlite`` with ``SQLITE_PATH``), unless ``--url`` names another::

    ai-agent db migrate                     # create the database if needed, upgrade to head
    ai-agent db status                      # current and head revisions
    ai-agent db check                       # exit 0 only when reachable and at head
    ai-agent db reset --yes                 # drop every table, migrate again (not production)
    ai-agent db migrate --url sqlite:///var/agent.db

Results go to stdout; a failure is one line on stderr (never a password, never a traceback)
and exit status 1 (2 for configuration and usage errors, and for a PostgreSQL URL without
the ``postgresql`` extra: the line names ``pip install 'ai-agent[postgresql]'``). Slow steps
show a spinner on stderr when it is a terminal. ``migrate`` is safe to run from several
processes at once: the migration API serialises them (an advisory lock on PostgreSQL, the
write lock on SQLite) and every run after the first finds the schema at head.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NamedTuple, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import URL

from ai_agent.cli.config import (
    CONFIG_ERROR_EXIT_CODE,
    EnvFileOption,
    EnvOption,
    load_settings_or_exit,
)
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import DEFAULT_ENV_FILE
from ai_agent.config.redaction import redact_text
from ai_agent.infrastructure.database import migrations
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.factory import MissingDriverError

__all__ = ["db_app", "main"]

T = TypeVar("T")

FAILURE_EXIT_CODE = 1

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (postgresql://user:password@host/db or sqlite:///path.db); "
        "default: the backend the settings select.",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0.1, help="Seconds to wait for the database to answer."),
]

db_app = typer.Typer(
    name="db",
    help="Create, upgrade, check and reset the database schema (PostgreSQL or SQLite).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@dataclass(frozen=True)
class Target:
    """The database a command works on, and the settings it was chosen with."""

    url: URL
    settings: ApplicationSettings

    @property
    def shown(self) -> str:
        """The URL with the password masked and without the async driver name."""
        plain = self.url.set(drivername=self.url.get_backend_name())
        return plain.render_as_string(hide_password=True)

    @property
    def sqlite_file(self) -> Path | None:
        if self.url.get_backend_name() != "sqlite":
            return None
        return Path(self.url.database or "")

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"


class Failure(Exception):
    """A command failed; the message is the one line to print."""


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(FAILURE_EXIT_CODE)


def _target(url: str | None, environment: str | None, env_file: Path) -> Target:
    settings = load_settings_or_exit(environment, env_file)
    try:
        chosen = migrations.sql_url(url) if url else migrations.settings_url(settings)
        migrations.check_driver(chosen)
    except MissingDriverError as exc:  # an extra to install: a usage error, not a failure
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(CONFIG_ERROR_EXIT_CODE) from None
    except RepositoryError as exc:
        _fail(f"Error: {exc}")
    except Exception:  # sqlalchemy's ArgumentError; the text may hold a password: not shown
        _fail("Error: --url is not a database URL (postgresql://... or sqlite:///path.db)")
    return Target(chosen, settings)


def _run(target: Target, message: str, operation: Awaitable[T], timeout: float | None = None) -> T:
    """Run ``operation`` on a new event loop behind a spinner; failures become one line."""

    async def bounded() -> T:
        return await asyncio.wait_for(operation, timeout)

    try:
        with Console(stderr=True).status(message):
            return asyncio.run(bounded())
    except TimeoutError:
        _fail(f"Error: {target.shown} did not answer within {timeout:g} s")
    except Failure as exc:
        _fail(f"Error: {exc}")
    except RepositoryError as exc:
        _fail(f"Error: {_explain(target, exc)}")
    except Exception as exc:  # Alembic's CommandError and the unexpected: still one line
        _fail(f"Error: {_unexpected(target, exc)}")


_WRONG_LOGIN = ("InvalidPasswordError", "InvalidAuthorizationSpecificationError")
_DATABASE_MISSING = "the database does not exist"


def _cause(exc: BaseException) -> str:
    """Why a database could not be used, in a few words, read from the driver's exception."""
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        if name in _WRONG_LOGIN:
            return "wrong user name or password"
        if name == "InvalidCatalogNameError":
            return _DATABASE_MISSING
        if isinstance(seen, OSError):
            return "the server is unreachable"
        seen = seen.__cause__ or seen.__context__
    return ""


def _explain(target: Target, exc: RepositoryError) -> str:
    """One line: which database, why it cannot be used (in words), the driver's message."""
    reason = _cause(exc)
    # The migration API says "cannot migrate the database at <url>: <driver message>".
    detail = str(exc).partition(f"{target.shown}: ")[2]
    if not detail:
        return f"{exc} ({reason})" if reason else str(exc)
    because = f"{reason} ({detail})" if reason else detail
    return f"cannot use {target.shown}: {because}"


def _unexpected(target: Target, exc: Exception) -> str:
    text = redact_text(str(exc)).strip()
    password = target.url.password
    if password:
        text = text.replace(str(password), "***")
    first_line = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


class Observed(NamedTuple):
    """A database's revision, and when there is none, whether the database itself is missing."""

    revision: str | None
    missing: str = ""  # what is missing ("no database file yet"), or "" for an empty database

    def describe(self) -> str:
        if self.revision is not None:
            return self.revision
        return f"none ({self.missing or 'empty database'})"


async def _revision(target: Target) -> Observed:
    """The current revision, reading only: a missing database is reported, never created."""
    sqlite_file = target.sqlite_file
    if sqlite_file is not None and not sqlite_file.exists():
        return Observed(None, "no database file yet")  # connecting would create it
    try:
        return Observed(await migrations.current_revision(target.url))
    except RepositoryError as exc:
        if target.is_postgresql and _cause(exc) == _DATABASE_MISSING:
            return Observed(None, "the database does not exist yet")
        raise


def _unknown(target: Target, revision: str) -> str:
    return (
        f"{target.shown} is at revision {revision}, which this version of ai-agent does not "
        f"know (its newest is {migrations.head_revision()}); was it migrated by a newer release?"
    )


# -- migrate -----------------------------------------------------------------------------


async def _migrate(target: Target) -> tuple[str | None, str | None, bool]:
    """Create the database when missing, upgrade it; return (before, after, created)."""
    created = False
    sqlite_file = target.sqlite_file
    if sqlite_file is not None:
        created = _create_file(sqlite_file)
    elif target.is_postgresql:
        created = await migrations.ensure_database(target.url)
    before = (await _revision(target)).revision
    if before is not None and not migrations.is_known_revision(before):
        raise Failure(_unknown(target, before))
    await migrations.upgrade(target.url)
    after = await migrations.current_revision(target.url)
    if after != migrations.head_revision():
        # A migrator that "succeeds" without reaching head must not exit 0.
        raise Failure(
            f"{target.shown} is at revision {after} after upgrading, "
            f"not at head {migrations.head_revision()}"
        )
    return before, after, created


@db_app.command()
def migrate(
    url: UrlOption = None,
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Create the database if it is missing and upgrade its schema to the newest revision."""
    target = _target(url, env, env_file)
    head = migrations.head_revision()
    spinner = f"Migrating {target.shown} to {head}..."
    before, after, created = _run(target, spinner, _migrate(target))
    if created:
        typer.echo(f"Created the database {target.shown}.")
    if before == after:
        typer.echo(f"{target.shown} is already at revision {after} (head); nothing to do.")
    else:  # (another process migrating at the same time may have done the work)
        typer.echo(f"Migrated {target.shown}: {before or 'no schema'} -> {after} (head).")


def _create_file(path: Path) -> bool:
    """Create an empty SQLite file (a valid empty database); whether this call created it.

    Exclusive creation, so that of several processes migrating at once one says so.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.touch(exist_ok=False)
    except FileExistsError:
        return False
    return True


# -- reset -------------------------------------------------------------------------------


async def _reset(target: Target) -> None:
    sqlite_file = target.sqlite_file
    if sqlite_file is not None:
        _create_file(sqlite_file)
    elif target.is_postgresql:
        await migrations.ensure_database(target.url)
    await migrations.downgrade(target.url, "base")
    await migrations.upgrade(target.url)


@db_app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    url: UrlOption = None,
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Drop every table and migrate again: ALL DATA IS LOST. Refused in production."""
    target = _target(url, env, env_file)
    if target.settings.is_production:
        _fail("Refusing to reset: the environment is production (reset deletes all data).")
    if not yes and not _confirmed(f"Delete ALL DATA in {target.shown} and recreate the schema?"):
        _fail("Reset cancelled; nothing was changed.")
    head = migrations.head_revision()
    _run(target, f"Resetting {target.shown}...", _reset(target))
    typer.echo(f"Reset {target.shown}: every table dropped and recreated at revision {head}.")


def _confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:  # end of input, or Ctrl-C at the prompt
        typer.echo("", err=True)  # end the prompt's line
        return False


# -- check and status --------------------------------------------------------------------


@db_app.command()
def check(
    url: UrlOption = None,
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
    timeout: TimeoutOption = 15.0,
) -> None:
    """Exit 0 when the database is reachable and at the newest revision, else say why."""
    target = _target(url, env, env_file)
    head = migrations.head_revision()
    observed = _run(target, f"Checking {target.shown}...", _revision(target), timeout)
    current = observed.revision
    if current is not None and not migrations.is_known_revision(current):
        _fail(f"Not ready: {_unknown(target, current)}")
    if current != head:
        _fail(
            f"Not ready: {target.shown} is at revision {observed.describe()}, "
            f"head is {head}; run `ai-agent db migrate`."
        )
    typer.echo(f"OK: {target.shown} is reachable and at revision {head} (head).")


@db_app.command()
def status(
    url: UrlOption = None,
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
    timeout: TimeoutOption = 15.0,
) -> None:
    """Show the database's current revision and the newest one this version ships."""
    target = _target(url, env, env_file)
    head = migrations.head_revision()
    observed = _run(target, f"Reading {target.shown}...", _revision(target), timeout)
    current = observed.revision
    if current == head:
        state = "up to date"
    elif current is None:
        state = "no schema yet: run `ai-agent db migrate`"
    elif not migrations.is_known_revision(current):
        state = "unknown revision: migrated by a newer release of ai-agent?"
    else:
        state = "not at head: run `ai-agent db migrate`"
    typer.echo(f"Database:          {target.shown}")
    typer.echo(f"Current revision:  {observed.describe()}")
    typer.echo(f"Head revision:     {head}")
    typer.echo(f"Status:            {state}")


def main(prog_name: str = "ai-agent db") -> None:
    """Run the ``db`` commands as a program of their own (``scripts/migrate_database.py``)."""
    db_app(prog_name=prog_name)
