"""``ai-agent demo``: the Phase 2 demo (the same as ``python examples/phase2_demo.py``)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console

from ai_agent.cli.config import load_settings_or_exit
from ai_agent.config.settings import StorageBackend
from ai_agent.demo import DemoFailure, run_demo
from ai_agent.infrastructure.database import RepositoryError

__all__ = ["demo", "main"]

BackendOption = Annotated[
    StorageBackend | None,
    typer.Option(
        "--backend",
        "-b",
        case_sensitive=False,
        help="Storage backend to run on (default: the configured one; in-memory when unset).",
    ),
]


def demo(backend: BackendOption = None) -> None:
    """Run the Phase 2 demo: configuration, CRUD, paging, factory, health check, clean-up."""
    settings = load_settings_or_exit(apply=True)
    if backend is not None:
        settings = settings.model_copy(update={"storage_backend": backend})
    try:
        asyncio.run(run_demo(settings, Console()))
    except (RepositoryError, DemoFailure) as exc:
        print(f"Demo failed: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of ``examples/phase2_demo.py``."""
    typer.run(demo)
