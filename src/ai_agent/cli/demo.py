"""``ai-agent demo``: the demo (the same as ``python examples/phase2_demo.py``).

Output is the demo's own report on stdout (a plain stream when stdout is not a terminal:
no colours, no wrapped lines); a failure is one line on stderr, ``Demo failed on the
<backend> backend: <why>``, with exit status 1 and no "completed" banner (2 when the
backend's extra is not installed: the line names ``pip install 'ai-agent[EXTRA]'``).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ai_agent.cli.config import CONFIG_ERROR_EXIT_CODE, load_settings_or_exit
from ai_agent.config import feature_flags
from ai_agent.config.errors import ConfigurationError
from ai_agent.config.redaction import redact_text
from ai_agent.config.settings import StorageBackend
from ai_agent.demo import DemoFailure, run_demo
from ai_agent.extras import MissingExtraError
from ai_agent.infrastructure.database import RepositoryError

__all__ = ["BackendOption", "demo", "main"]

BackendOption = Annotated[
    StorageBackend | None,
    typer.Option(
        "--backend",
        "-b",
        case_sensitive=False,
        help="Storage backend to use: memory, sqlite (SQLITE_PATH), redis (REDIS_* or "
        "REDIS_URL) or postgresql (DB_* or DATABASE_URL); 'auto' or unset: the configured "
        "one (STORAGE_BACKEND; in-memory by default).",
        show_default=False,
    ),
]


def demo(backend: BackendOption = None) -> None:
    """Run the Phase 2 demo on the configured backend, and clean up everything it made.

    It shows configuration, CRUD and paging of sessions, messages, agents, tools and MCP
    servers, the factory and a health check.

    SQLite and PostgreSQL are migrated to the newest schema first (a missing PostgreSQL
    database is created). Exit 0 only when every step succeeded."""
    settings = load_settings_or_exit()
    feature_flags.load(settings.features)
    if backend is not None:
        settings = settings.model_copy(update={"storage_backend": backend})
    console = Console()
    if not console.is_terminal:
        console.soft_wrap = True  # one printed line stays one line for whoever reads it
    try:
        asyncio.run(run_demo(settings, console))
    except MissingExtraError as exc:  # an extra to install: a usage error (exit 2)
        _failed(str(settings.selected_backend), str(exc), CONFIG_ERROR_EXIT_CODE)
    except (RepositoryError, DemoFailure) as exc:
        _failed(str(settings.selected_backend), str(exc))
    except ConfigurationError as exc:
        _failed(str(settings.selected_backend), "; ".join(exc.problems))
    except Exception as exc:  # a bug still ends in one line; its text may hold a URL
        _failed(str(settings.selected_backend), f"{type(exc).__name__}: {exc}")


def _failed(backend: str, why: str, status: int = 1) -> NoReturn:
    lines = redact_text(why).strip().splitlines()
    typer.echo(f"Demo failed on the {backend} backend: {lines[0] if lines else why}", err=True)
    raise typer.Exit(status)


def main() -> None:
    """Entry point of ``examples/phase2_demo.py``."""
    typer.run(demo)
