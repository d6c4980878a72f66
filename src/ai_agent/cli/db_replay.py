"""``ai-agent db replay``: apply a failover journal left by an outage to the primary.

::

    ai-agent db replay                                      # STORAGE_BACKEND/DB_* and FALLBACK_URL
    ai-agent db replay --url postgresql://app:pw@db/agent --fallback sqlite:///fallback.db

The same replay a running ``RepositoryHealthMonitor`` does once the primary is back, on
request, for when the application stopped before it could. Run it while no application uses
that fallback. A failure is one line on stderr, exit status 1 (2 for a usage error).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from ai_agent.cli._health_probe import one_line
from ai_agent.cli.config import (
    CONFIG_ERROR_EXIT_CODE,
    EnvFileOption,
    EnvOption,
    load_settings_or_exit,
)
from ai_agent.config import feature_flags
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import DEFAULT_ENV_FILE
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.factory import RepositoryFactory, open_checked
from ai_agent.infrastructure.database.health import (
    ReplayOutcome,
    journal_path_for,
    read_journal,
    replay_journal,
)

__all__ = ["replay"]

FAILURE_EXIT_CODE = 1

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="The primary to replay into (postgresql://..., redis://..., sqlite:///...); "
        "default: the backend the settings select.",
        show_default=False,
    ),
]
FallbackOption = Annotated[
    str | None,
    typer.Option(
        "--fallback",
        help="The SQLite fallback whose journal to replay (sqlite:///fallback.db); "
        "default: $FALLBACK_URL.",
        show_default=False,
    ),
]


def _fail(message: str, code: int = FAILURE_EXIT_CODE) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _password(url: str | None) -> str:
    try:
        return str(make_url(url).password or "") if url else ""
    except Exception:  # not a URL: the factory says so, without the text
        return ""


def _secrets(settings: ApplicationSettings, *urls: str | None) -> tuple[str, ...]:
    """Every password the command may hold: never printed, whatever a message says."""
    found = [_password(url) for url in urls]
    for secret in (settings.database.password, settings.redis.password):
        if secret is not None:
            found.append(secret.get_secret_value())
    return tuple(filter(None, found))


def _repositories(
    settings: ApplicationSettings, url: str | None, fallback: str | None
) -> tuple[BaseRepository, BaseRepository]:
    """The primary and the fallback (unconnected), or a usage error (exit 2)."""
    if fallback is None and settings.fallback_url is not None:
        fallback = settings.fallback_url.get_secret_value() or None
    if fallback is None:
        _fail(
            "Error: give the fallback whose journal to replay: --fallback sqlite:///path.db "
            "or FALLBACK_URL",
            CONFIG_ERROR_EXIT_CODE,
        )
    secrets = _secrets(settings, url, fallback)
    try:
        primary = (
            RepositoryFactory.from_url(url)
            if url
            else RepositoryFactory.create_repository(settings)
        )
        standby = RepositoryFactory.from_url(fallback)
    except Exception as exc:  # RepositoryError, MissingDriverError, a driver's ValueError
        _fail(f"Error: {one_line(exc, secrets)}", CONFIG_ERROR_EXIT_CODE)
    if journal_path_for(standby) is None:
        _fail(
            f"Error: the {standby.backend_name} fallback keeps its journal in the memory of the "
            "process that runs the monitor; only a SQLite fallback leaves one to replay",
            CONFIG_ERROR_EXIT_CODE,
        )
    return primary, standby


async def _replay(primary: BaseRepository, fallback: BaseRepository) -> ReplayOutcome | str:
    """Replay; a text instead when there is nothing to do."""
    state = read_journal(fallback)
    if state is None or not state.exists:
        where = state.location if state is not None else "(memory)"
        return f"Nothing to replay: there is no failover journal at {where}."
    if not state.pending and not state.applied:
        return f"Nothing to replay: the journal at {state.location} holds no pending write."
    try:
        await open_checked(primary)  # answers, and its schema is at head
        return await replay_journal(primary, fallback)
    finally:
        for repository in (primary, fallback):
            with contextlib.suppress(RepositoryError):
                await repository.disconnect()


def _report(outcome: ReplayOutcome, primary: BaseRepository, fallback: BaseRepository) -> None:
    typer.echo(
        f"Replayed {outcome.replayed} journaled write(s) from {outcome.location} "
        f"into {primary.display_url}."
    )
    if outcome.rejected:
        typer.echo(
            f"{outcome.rejected} of them were refused by the primary and set aside in the "
            "journal's `rejected` table."
        )
    if outcome.clear_error is not None:
        typer.echo(
            f"The fallback's copies were not cleared ({outcome.clear_error}); the monitor "
            "clears them at its next start."
        )
    elif outcome.cleared is not None:
        typer.echo(f"Cleared the replayed writes' copies from {fallback.display_url}.")


def replay(
    url: UrlOption = None,
    fallback: FallbackOption = None,
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Replay a SQLite fallback's failover journal into the primary; exit 0 when none is left.

    Then clear the fallback's copies, as the health monitor does after an outage. Run it while
    no application uses the fallback."""
    settings = load_settings_or_exit(env, env_file)
    feature_flags.load(settings.features)
    primary, standby = _repositories(settings, url, fallback)
    secrets = _secrets(settings, url, fallback)
    try:
        with Console(stderr=True).status(f"Replaying into {primary.display_url}..."):
            outcome = asyncio.run(_replay(primary, standby))
    except RepositoryError as exc:
        _fail(f"Error: {one_line(exc, secrets)}")
    if isinstance(outcome, str):
        typer.echo(outcome)
        return
    _report(outcome, primary, standby)
    if outcome.pending:
        _fail(
            f"Error: {outcome.pending} write(s) are still pending; run `ai-agent db replay` again"
        )
