"""``ai-agent db prune`` and ``ai-agent db copy``: data maintenance on any backend.

::

    ai-agent db prune --max-age-days 90 --max-messages 500 --dry-run
    ai-agent db prune --url postgresql://user:pw@host/ai_agent        # RETENTION_* settings
    ai-agent db copy --from sqlite:///agent.db --to postgresql://user:pw@host/ai_agent --verify

URLs name any backend (``memory://`` aside: it would be empty), default the one the settings
select; they are printed with the password hidden. A failure is one line on stderr and exit
status 1 (2 for a bad option value); nothing is deleted when an option is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ai_agent.cli.config import EnvFileOption, EnvOption, load_settings_or_exit
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import DEFAULT_ENV_FILE
from ai_agent.config.redaction import redact_text
from ai_agent.infrastructure.database.base import BaseRepository
from ai_agent.infrastructure.database.errors import RepositoryError
from ai_agent.infrastructure.database.factory import RepositoryFactory, open_checked
from ai_agent.infrastructure.database.retention import PruneReport, RetentionPolicy, prune
from ai_agent.infrastructure.database.transfer import (
    KINDS,
    CopyReport,
    compare_repositories,
    copy_repository,
)

__all__ = ["copy", "prune_command"]

T = TypeVar("T")

FAILURE_EXIT_CODE = 1
USAGE_EXIT_CODE = 2

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Repository URL; default: the backend the settings select."),
]
MaxAgeOption = Annotated[
    str | None,
    typer.Option(
        "--max-age-days",
        metavar="<int>",
        help="Delete sessions inactive for more than N days (default RETENTION_"
        "SESSION_MAX_AGE_DAYS).",
    ),
]
MaxMessagesOption = Annotated[
    str | None,
    typer.Option(
        "--max-messages",
        metavar="<int>",
        help="Keep the newest N messages of each session (default RETENTION_"
        "MAX_MESSAGES_PER_SESSION).",
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
]
SourceOption = Annotated[str, typer.Option("--from", help="Repository URL to copy from.")]
TargetOption = Annotated[str, typer.Option("--to", help="Repository URL to copy into.")]
VerifyOption = Annotated[
    bool, typer.Option("--verify", help="Compare counts and checksums afterwards.")
]
BatchOption = Annotated[
    str, typer.Option("--batch-size", metavar="<int>", help="Records per batch (1..1000).")
]


def _fail(message: str, code: int = FAILURE_EXIT_CODE) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _shown(repository: BaseRepository) -> str:
    return repository.display_url


def _repository(url: str | None, settings: ApplicationSettings, option: str) -> BaseRepository:
    try:
        if url is None:
            return RepositoryFactory.create_repository(settings)
        return RepositoryFactory.from_url(url)
    except ImportError as exc:  # a driver's extra is missing: a usage error
        _fail(f"Error: {exc}", USAGE_EXIT_CODE)
    except RepositoryError as exc:
        _fail(f"Error: {option}: {exc}", USAGE_EXIT_CODE)


_MIGRATE = "run `ai-agent db migrate`"


@asynccontextmanager
async def _opened(repository: BaseRepository) -> AsyncIterator[BaseRepository]:
    try:
        await open_checked(repository)
    except RepositoryError as exc:
        if not str(exc).endswith(_MIGRATE):
            raise
        # Name the database: the command may work on one the settings do not select.
        hint = f"run `ai-agent db migrate --url {_shown(repository)}`"
        raise RepositoryError(str(exc).removesuffix(_MIGRATE) + hint) from exc
    try:
        yield repository
    finally:
        await repository.disconnect()


def _run(operation: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(operation)
    except RepositoryError as exc:
        _fail(f"Error: {redact_text(str(exc))}")


def _progress() -> Progress:
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # bars only for a person watching
    )


def _batch(value: str) -> int:
    size = _count(value, "--batch-size", 1)
    if size is None or size > 1000:
        _fail(f"Error: --batch-size must be an integer from 1 to 1000, got {value!r}", 2)
    return size


def _count(value: str | None, option: str, minimum: int) -> int | None:
    """An option's integer value, else one line and exit 2 (before anything is touched)."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        _fail(f"Error: {option} must be an integer >= {minimum}, got {value!r}", USAGE_EXIT_CODE)
    return number


# -- prune ---------------------------------------------------------------------------------------


def prune_command(
    url: UrlOption = None,
    max_age_days: MaxAgeOption = None,
    max_messages: MaxMessagesOption = None,
    dry_run: DryRunOption = False,
    batch_size: BatchOption = "500",
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Delete old sessions and trim long ones (RETENTION_* settings; flags override them)."""
    age = _count(max_age_days, "--max-age-days", 1)
    keep = _count(max_messages, "--max-messages", 0)
    size = _batch(batch_size)
    settings = load_settings_or_exit(env, env_file)
    retention = settings.retention
    policy = RetentionPolicy(
        age if age is not None else retention.session_max_age_days,
        keep if keep is not None else retention.max_messages_per_session,
    )
    if policy.is_empty:
        typer.echo(
            "Nothing to prune: retention is off (set RETENTION_SESSION_MAX_AGE_DAYS or "
            "RETENTION_MAX_MESSAGES_PER_SESSION, or pass --max-age-days / --max-messages)."
        )
        return
    repository = _repository(url, settings, "--url")
    report = _run(_prune(repository, policy, dry_run, size))
    typer.echo(_summary(report, _shown(repository)))


async def _prune(
    repository: BaseRepository, policy: RetentionPolicy, dry_run: bool, batch_size: int
) -> PruneReport:
    async with _opened(repository):
        estimate = await prune(repository, policy, dry_run=True, batch_size=batch_size)
        if dry_run:
            return estimate
        with _progress() as bar:
            tasks = {
                "sessions": bar.add_task("old sessions", total=estimate.sessions_deleted),
                "messages": bar.add_task("trimmed messages", total=None),
            }
            return await prune(
                repository,
                policy,
                batch_size=batch_size,
                progress=lambda step, n: bar.advance(tasks[step], n),
            )


def _summary(report: PruneReport, where: str) -> str:
    verb = "Would delete" if report.dry_run else "Deleted"
    return (
        f"{verb} {report.sessions_deleted} session(s) and {report.messages_deleted} "
        f"message(s) in {where}; {report.sessions_trimmed} session(s) trimmed."
    )


# -- copy ----------------------------------------------------------------------------------------


def copy(
    source: SourceOption,
    target: TargetOption,
    verify: VerifyOption = False,
    batch_size: BatchOption = "500",
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Copy every entity from one repository to another (idempotent: run it again to resume)."""
    size = _batch(batch_size)
    settings = load_settings_or_exit(env, env_file)
    reader = _repository(source, settings, "--from")
    writer = _repository(target, settings, "--to")
    report, differences = _run(_copy(reader, writer, verify, size))
    copied = ", ".join(f"{report.copied[k]} {k}" for k in KINDS)
    typer.echo(f"Copied {_shown(reader)} -> {_shown(writer)}: {copied}.")
    skipped = sum(report.skipped.values())
    if skipped:
        typer.echo(f"Already in the target (skipped): {skipped} record(s).")
    problems = report.conflicts + [f"verify: {line}" for line in differences or []]
    for problem in problems[:20]:
        typer.echo(f"Conflict: {problem}", err=True)
    if problems:
        _fail(f"Error: {len(problems)} difference(s) between source and target.")
    if differences is not None:
        typer.echo("Verified: every kind has the same count and checksum in both.")


async def _copy(
    reader: BaseRepository, writer: BaseRepository, verify: bool, batch_size: int
) -> tuple[CopyReport, list[str] | None]:
    async with _opened(reader), _opened(writer):
        with _progress() as bar:
            tasks = {kind: bar.add_task(kind.replace("_", " "), total=None) for kind in KINDS}
            report = await copy_repository(
                reader,
                writer,
                batch_size=batch_size,
                progress=lambda kind, n: bar.advance(tasks[kind], n),
            )
        differences = await compare_repositories(reader, writer) if verify else None
    return report, differences
