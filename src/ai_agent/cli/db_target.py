"""The database an ``ai-agent db`` command works on, and how a step runs against it.

Every failure ends as one line on stderr (never a password, never a traceback) and exit
status 1, or 2 for a usage error such as a missing driver extra.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import URL

from ai_agent.cli.config import CONFIG_ERROR_EXIT_CODE, load_settings_or_exit
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.redaction import redact_text
from ai_agent.infrastructure.database import migrations
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.factory import MissingDriverError

__all__ = [
    "FAILURE_EXIT_CODE",
    "Failure",
    "Observed",
    "Target",
    "fail",
    "read_revision",
    "resolve_target",
    "run_step",
    "unknown_revision",
]

T = TypeVar("T")

FAILURE_EXIT_CODE = 1


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


def fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(FAILURE_EXIT_CODE)


def resolve_target(url: str | None, environment: str | None, env_file: Path) -> Target:
    settings = load_settings_or_exit(environment, env_file)
    try:
        chosen = migrations.sql_url(url) if url else migrations.settings_url(settings)
        migrations.check_driver(chosen)
    except MissingDriverError as exc:  # an extra to install: a usage error, not a failure
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(CONFIG_ERROR_EXIT_CODE) from None
    except RepositoryError as exc:
        fail(f"Error: {exc}")
    except Exception:  # sqlalchemy's ArgumentError; the text may hold a password: not shown
        fail("Error: --url is not a database URL (postgresql://... or sqlite:///path.db)")
    return Target(chosen, settings)


def run_step(
    target: Target, message: str, operation: Awaitable[T], timeout: float | None = None
) -> T:
    """Run ``operation`` on a new event loop behind a spinner; failures become one line."""

    async def bounded() -> T:
        return await asyncio.wait_for(operation, timeout)

    try:
        with Console(stderr=True).status(message):
            return asyncio.run(bounded())
    except TimeoutError:
        fail(f"Error: {target.shown} did not answer within {timeout:g} s")
    except Failure as exc:
        fail(f"Error: {exc}")
    except RepositoryError as exc:
        fail(f"Error: {_explain(target, exc)}")
    except Exception as exc:  # Alembic's CommandError and the unexpected: still one line
        fail(f"Error: {_unexpected(target, exc)}")


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


async def read_revision(target: Target) -> Observed:
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


def unknown_revision(target: Target, revision: str) -> str:
    return (
        f"{target.shown} is at revision {revision}, which this version of ai-agent does not "
        f"know (its newest is {migrations.head_revision()}); was it migrated by a newer release?"
    )
