"""``ai-agent metrics serve``: the Prometheus endpoint, until interrupted.

    ai-agent metrics serve                        # :$OBSERVABILITY_METRICS_PORT/$..._PATH
    ai-agent metrics serve --port 9100 --path /prom --host 127.0.0.1

It serves this process's registry (prometheus_client's default) with prometheus-client's own
WSGI app: what ``start_metrics_server`` serves inside an application, where the registry also
holds the repositories' metrics. Other paths answer 404. SIGINT (Ctrl+C) or SIGTERM stops it.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from ai_agent.cli.config import EnvFileOption, EnvOption, load_settings_or_exit
from ai_agent.config.base import DEFAULT_ENV_FILE

__all__ = ["metrics_app"]

metrics_app = typer.Typer(
    name="metrics",
    help="Expose the storage layer's Prometheus metrics over HTTP.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@metrics_app.command("serve")
def serve(
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port to listen on (0: any free one); default OBSERVABILITY_METRICS_PORT.",
            show_default=False,
        ),
    ] = None,
    path: Annotated[
        str | None,
        typer.Option(
            "--path",
            help="Path of the metrics; default OBSERVABILITY_METRICS_PATH.",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "0.0.0.0",
    environment: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Serve the metrics until interrupted (SIGINT or SIGTERM)."""
    from ai_agent.infrastructure.database.telemetry import start_metrics_server

    settings = load_settings_or_exit(environment, env_file, apply=True)
    try:
        server = start_metrics_server(settings.observability, host=host, port=port, path=path)
    except (OSError, ValueError) as exc:
        typer.echo(f"Error: cannot serve metrics on {host}: {exc}", err=True)
        raise typer.Exit(1) from None
    stop = threading.Event()

    def stopping(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, stopping) for sig in (signal.SIGINT, signal.SIGTERM)}
    typer.echo(f"Serving metrics at {server.url} (Ctrl+C to stop)")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("Stopped.")
