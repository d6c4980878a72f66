"""The ``ai-agent`` command line.

Command groups register here, one line each::

    app.add_typer(config_app, name="config")
    app.add_typer(db_app, name="db")          # e.g. from ai_agent.cli.db

Commands load settings with :func:`ai_agent.cli.config.load_settings_or_exit`, which turns
a configuration error into readable lines on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ai_agent import __version__
from ai_agent.cli import db_data, db_replay
from ai_agent.cli.config import config_app
from ai_agent.cli.db import db_app
from ai_agent.cli.demo import demo
from ai_agent.cli.health import health
from ai_agent.cli.metrics import metrics_app
from ai_agent.config.errors import ConfigurationError
from ai_agent.extras import MissingExtraError

__all__ = ["app", "main"]

app = typer.Typer(
    name="ai-agent",
    help="Configuration, database schema, health and demo tools for ai-agent's storage "
    "layer. Settings come from the environment and ./.env (see `ai-agent config show`).",
    no_args_is_help=True,
    add_completion=False,
    # Locals may hold secrets (passwords, keys): never print them in a traceback.
    pretty_exceptions_show_locals=False,
)

app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
db_app.command(name="prune")(db_data.prune_command)
db_app.command(name="copy")(db_data.copy)
db_app.command(name="replay")(db_replay.replay)
app.command(name="demo")(demo)
app.command(name="health")(health)
app.add_typer(metrics_app, name="metrics")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ai-agent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Configuration, database schema, health and demo tools for ai-agent's storage layer.

    Settings come from the environment and ./.env (see `ai-agent config show`).
    """


def main() -> None:
    """Console-script entry point (``ai-agent``)."""
    try:
        app(prog_name="ai-agent")
    except ConfigurationError as exc:
        for problem in exc.problems:
            print(f"Configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2) from None
    except MissingExtraError as exc:  # any command that reached a missing extra: one line
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
