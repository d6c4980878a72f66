"""``start_metrics_server``: the registry over HTTP, with prometheus-client's own WSGI app.

It serves one path (``OBSERVABILITY_METRICS_PATH``; anything else is a 404) from a daemon
thread, on ``OBSERVABILITY_METRICS_PORT``. Prometheus registries live in one process: call it
in the process whose repositories you want to see.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from ai_agent.infrastructure.database.scoped import ClosesOnExit

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import ThreadingWSGIServer

    from ai_agent.config.sections import ObservabilitySettings

__all__ = ["MetricsServer", "start_metrics_server"]


@dataclass
class MetricsServer(ClosesOnExit):
    """A running metrics endpoint; ``close()`` (or leaving a ``with`` block) stops it."""

    host: str
    port: int
    path: str
    _server: ThreadingWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    def close(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every few seconds would flood stderr; Prometheus records failures."""


def _one_path(path: str, app: WSGIApplication) -> WSGIApplication:
    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != path:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Not Found\n"]
        return app(environ, start_response)

    return serve


def start_metrics_server(
    observability: ObservabilitySettings,
    registry: CollectorRegistry | None = None,
    *,
    host: str = "0.0.0.0",  # Prometheus scrapes from another host
    port: int | None = None,
    path: str | None = None,
) -> MetricsServer:
    """Serve ``registry`` (default: prometheus_client's) in a background thread.

    Args:
        observability: ``metrics_port`` and ``metrics_path`` (``settings.observability``).
        registry: what to expose; the default registry holds every repository's metrics
            unless they were given another one.
        host: the address to listen on (all interfaces by default).
        port: overrides ``metrics_port``; 0 picks a free port (see ``MetricsServer.port``).
        path: overrides ``metrics_path``; other paths answer 404.

    Raises:
        ValueError: ``path`` does not start with ``/``.
        OSError: the address cannot be bound (e.g. the port is taken).
    """
    from prometheus_client import REGISTRY, make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer

    from ai_agent.infrastructure.database.telemetry._metrics import instruments

    chosen_port = observability.metrics_port if port is None else port
    chosen_path = observability.metrics_path if path is None else path
    if not chosen_path.startswith("/"):
        raise ValueError(f"the metrics path must start with '/', got {chosen_path!r}")
    family = socket.getaddrinfo(host, chosen_port, type=socket.SOCK_STREAM)[0][0]

    class Server(ThreadingWSGIServer):
        address_family = family

    chosen = registry if registry is not None else REGISTRY
    if observability.metrics_enabled:  # the families show (empty) before the first call
        instruments(chosen)
    app = _one_path(chosen_path, make_wsgi_app(chosen))
    server = make_server(host, chosen_port, app, Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="ai-agent-metrics", daemon=True)
    thread.start()
    return MetricsServer(host, server.server_port, chosen_path, server, thread)
