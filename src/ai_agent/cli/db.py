"""``ai-agent db migrate|reset|check|status``: the database schema tool (PostgreSQL and SQLite).

The database is the one the settings select, unless ``--url`` names another;
``scripts/migrate_database.py`` runs these same commands::

    ai-agent db migrate                     # create the database if needed, upgrade to head
    ai-agent db check                       # exit 0 only when reachable and at head
    ai-agent db reset --yes                 # drop every table, migrate again (not production)

``migrate`` is safe to run from several processes at once: the migration API serialises them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ai_agent.cli.config import EnvFileOption, EnvOption
from ai_agent.cli.db_target import (
    Failure,
    Observed,
    Target,
    fail,
    read_revision,
    resolve_target,
    run_step,
    unknown_revision,
)
from ai_agent.config.base import DEFAULT_ENV_FILE
from ai_agent.infrastructure.database import migrations

__all__ = ["db_app", "main"]

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


# -- migrate -----------------------------------------------------------------------------


async def _migrate(target: Target) -> tuple[str | None, str | None, bool]:
    """Create the database when missing, upgrade it; return (before, after, created)."""
    created = False
    sqlite_file = target.sqlite_file
    if sqlite_file is not None:
        created = _create_file(sqlite_file)
    elif target.is_postgresql:
        created = await migrations.ensure_database(target.url)
    before = (await read_revision(target)).revision
    if before is not None and not migrations.is_known_revision(before):
        raise Failure(unknown_revision(target, before))
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
    target = resolve_target(url, env, env_file)
    head = migrations.head_revision()
    spinner = f"Migrating {target.shown} to {head}..."
    before, after, created = run_step(target, spinner, _migrate(target))
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
    target = resolve_target(url, env, env_file)
    if target.settings.is_production:
        fail("Refusing to reset: the environment is production (reset deletes all data).")
    if not yes and not _confirmed(f"Delete ALL DATA in {target.shown} and recreate the schema?"):
        fail("Reset cancelled; nothing was changed.")
    head = migrations.head_revision()
    run_step(target, f"Resetting {target.shown}...", _reset(target))
    typer.echo(f"Reset {target.shown}: every table dropped and recreated at revision {head}.")


def _confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:  # end of input, or Ctrl-C at the prompt
        typer.echo("", err=True)  # end the prompt's line
        return False


# -- check and status --------------------------------------------------------------------


# What check and status do with the revision read: (target, its revision, head) -> None.
Report = Callable[[Target, Observed, str], None]


def _revision_command(verb: str, report: Report) -> Callable[..., None]:
    """``check`` and ``status``: the same options and the same read behind a spinner (``verb``
    names it), then ``report``, whose docstring is the command's help."""

    def command(
        url: UrlOption = None,
        env: EnvOption = None,
        env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
        timeout: TimeoutOption = 15.0,
    ) -> None:
        target = resolve_target(url, env, env_file)
        observed = run_step(target, f"{verb} {target.shown}...", read_revision(target), timeout)
        report(target, observed, migrations.head_revision())

    command.__doc__ = report.__doc__
    return command


def _check(target: Target, observed: Observed, head: str) -> None:
    """Exit 0 when the database is reachable and at the newest revision, else say why."""
    current = observed.revision
    if current is not None and not migrations.is_known_revision(current):
        fail(f"Not ready: {unknown_revision(target, current)}")
    if current != head:
        fail(
            f"Not ready: {target.shown} is at revision {observed.describe()}, "
            f"head is {head}; run `ai-agent db migrate`."
        )
    typer.echo(f"OK: {target.shown} is reachable and at revision {head} (head).")


def _status(target: Target, observed: Observed, head: str) -> None:
    """Show the database's current revision and the newest one this version ships."""
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


check = db_app.command("check")(_revision_command("Checking", _check))
status = db_app.command("status")(_revision_command("Reading", _status))


def main(prog_name: str = "ai-agent db") -> None:
    """Run the ``db`` commands as a program of their own (``scripts/migrate_database.py``)."""
    db_app(prog_name=prog_name)
