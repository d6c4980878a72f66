"""``ai-agent health``: is the configured storage up, how fast, and at which schema revision.

::

    ai-agent health                                   # the backend the settings select
    ai-agent health --fallback sqlite:///fallback.db  # also assess the failover set-up
    ai-agent health --json                            # machine-readable

A diagnostic: it starts no monitor, creates no database or journal file and replays nothing.
Exit status 0 when healthy (or degraded onto a serving fallback), 1 when not, 2 for a
configuration error; URLs always show the password masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from ai_agent.cli._health_probe import (
    HealthReport,
    assess_failover,
    one_line,
    probe_backend,
    scrub,
)
from ai_agent.cli.config import (
    CONFIG_ERROR_EXIT_CODE,
    EnvFileOption,
    EnvOption,
    load_settings_or_exit,
)
from ai_agent.cli.demo import BackendOption
from ai_agent.config import feature_flags
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import DEFAULT_ENV_FILE
from ai_agent.config.settings import StorageBackend
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.factory import RepositoryFactory

__all__ = ["health"]

UNHEALTHY_EXIT_CODE = 1

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Repository URL to check instead of the configured backend (memory://, "
        "sqlite:///path.db, redis://host:6379/0, postgresql://user:pw@host/db).",
        show_default=False,
    ),
]
FallbackOption = Annotated[
    str | None,
    typer.Option(
        "--fallback",
        help="Fallback repository URL (same forms as --url): also check it, and report where "
        "the failover monitor would route calls and the journal's pending writes (nothing "
        "is created or replayed). Default: $FALLBACK_URL; unset: no failover.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the report as one JSON object on stdout.")
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0.1, help="Seconds to wait for each repository to answer."),
]


@dataclass
class Plan:
    """What to check: the repositories (unconnected), and the secrets never to print."""

    settings: ApplicationSettings
    primary: BaseRepository
    fallback: BaseRepository | None
    secrets: tuple[str, ...]


def _config_error(message: str) -> NoReturn:
    typer.echo(f"Configuration error: {message}", err=True)
    raise typer.Exit(CONFIG_ERROR_EXIT_CODE)


def _password(url: str) -> str:
    try:
        return str(make_url(url).password or "")
    except Exception:  # not parseable: the factory says so, without the text
        return ""


def _build(url: str, what: str) -> BaseRepository:
    """A repository from a URL, or a configuration error (exit 2) naming ``what``."""
    try:
        return RepositoryFactory.from_url(url)
    except Exception as exc:  # RepositoryError, MissingDriverError, a driver's ValueError
        _config_error(f"{what}: {one_line(exc, (_password(url),))}")


def _secrets(settings: ApplicationSettings, *urls: str | None) -> tuple[str, ...]:
    """Every password the command may hold: never to be printed, whatever a message says."""
    found = [_password(url) for url in urls if url]
    for secret in (settings.database.password, settings.redis.password):
        if secret is not None:
            found.append(secret.get_secret_value())
    return tuple(filter(None, found))


def _plan(
    settings: ApplicationSettings,
    backend: StorageBackend | None,
    url: str | None,
    fallback: str | None,
) -> Plan:
    if url is not None and backend is not None:
        _config_error("give --backend or --url, not both")
    if fallback is None and settings.fallback_url is not None:
        fallback = settings.fallback_url.get_secret_value() or None
    secrets = _secrets(settings, url, fallback)
    if url is not None:
        primary = _build(url, "--url")
    else:
        if backend is not None:
            settings = settings.model_copy(update={"storage_backend": backend})
        try:
            primary = RepositoryFactory.create_repository(settings)
        except Exception as exc:  # MissingDriverError, a bad setting the factory refuses
            _config_error(one_line(exc, secrets))
    fallback_repository = _build(fallback, "fallback URL") if fallback else None
    return Plan(settings, primary, fallback_repository, secrets)


async def _check(plan: Plan, seconds: float, console: Console) -> HealthReport:
    """Probe the primary (and, with a fallback, the fallback and the journal)."""
    where = f"{plan.primary.backend_name} at {plan.primary.display_url}"
    try:
        with console.status(f"Connecting to {where}..."):
            report = HealthReport(await probe_backend(plan.primary, seconds, plan.secrets))
        if plan.fallback is None:
            return report
        fallback = plan.fallback
        with console.status(f"Checking the fallback {fallback.display_url}..."):
            report.fallback = await probe_backend(fallback, seconds, plan.secrets)
        report.failover = await asyncio.to_thread(
            assess_failover,
            report.primary,
            report.fallback,
            fallback,
            fallbacks_enabled=feature_flags.is_enabled("fallbacks"),
        )
        return report
    finally:
        for repository in (plan.primary, plan.fallback):
            if repository is not None:
                await _quietly_disconnect(repository)


async def _quietly_disconnect(repository: BaseRepository) -> None:
    with contextlib.suppress(Exception):  # closing after the report: nothing left to say
        await repository.disconnect()


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _rows(report: HealthReport) -> list[tuple[str, str]]:
    primary = report.primary
    latency = "n/a" if primary.latency_ms is None else f"{primary.latency_ms:.2f} ms"
    rows = [
        ("Backend", primary.backend),
        ("URL", primary.url),
        ("Reachable", _yes(primary.reachable)),
        ("Latency", latency),
        ("Schema revision", primary.schema.describe()),
    ]
    if primary.error:
        rows.append(("Error", primary.error))
    if report.fallback is not None:
        rows += [
            ("Fallback", f"{report.fallback.backend} at {report.fallback.url}"),
            ("Fallback schema", report.fallback.schema.describe()),
        ]
    view = report.failover
    if view is not None:
        rejected = "n/a" if view.journal is None else str(view.journal.rejected)
        rows += [
            ("Failover state", view.state),
            ("Active side", view.active),
            ("Primary healthy", _yes(view.primary_healthy)),
            ("Fallback healthy", _yes(view.fallback_healthy)),
            ("Failover reason", view.reason or "none"),
            ("Journal", view.describe_journal()),
            ("Rejected writes", rejected),
        ]
    rows.append(("Status", _verdict(report)))
    return rows


_STATUS_STYLES = {"healthy": "green", "degraded": "yellow", "unhealthy": "red"}


def _verdict(report: HealthReport) -> str:
    problem = report.problem()
    if problem is not None:
        return "unhealthy"
    if report.active == "fallback":
        if not report.primary.reachable:
            return "degraded: the primary is down; the fallback serves calls"
        return "degraded: journaled writes await replay; the fallback serves calls"
    return "healthy"


def _print(report: HealthReport, as_json: bool, secrets: tuple[str, ...]) -> None:
    if as_json:
        text = json.dumps(report.as_dict(), indent=2)
        typer.echo(scrub(text, secrets))
        return
    console = Console()
    rows = [(name, scrub(value, secrets)) for name, value in _rows(report)]
    if not console.is_terminal:  # plain, one "Name: value" per line, for scripts and logs
        width = max(len(name) for name, _ in rows) + 2
        for name, value in rows:
            typer.echo(f"{name + ':':<{width}}{value}")
        return
    table = Table(title="ai-agent health", show_header=False, title_justify="left")
    table.add_column("check", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, value, style=_STATUS_STYLES.get(value.partition(":")[0]))
    console.print(table, markup=False)


def health(
    backend: BackendOption = None,
    url: UrlOption = None,
    fallback: FallbackOption = None,
    as_json: JsonOption = False,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Check the storage backend: exit 0 when healthy, 1 when not, 2 on a configuration error.

    Reports the backend, URL (password masked), reachability, latency, schema revision and,
    with a fallback, what the failover monitor would do (creating and replaying nothing)."""
    settings = load_settings_or_exit(env, env_file)
    feature_flags.load(settings.features)  # FEATURE_ENABLE_FALLBACKS decides the routing
    plan = _plan(settings, backend, url, fallback)
    report = asyncio.run(_check(plan, timeout, Console(stderr=True)))
    _print(report, as_json, plan.secrets)
    problem = report.problem()
    if problem is not None:
        typer.echo(f"Unhealthy: {scrub(problem, plan.secrets)}", err=True)
        raise typer.Exit(UNHEALTHY_EXIT_CODE)
