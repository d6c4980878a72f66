"""The metrics over HTTP: ``start_metrics_server`` in this process, and ``ai-agent metrics
serve`` in a subprocess (a free port, ``/metrics``, a 404 elsewhere, SIGINT and SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from prometheus_client import CollectorRegistry

from ai_agent.config.loader import is_settings_variable
from ai_agent.config.sections import ObservabilitySettings
from ai_agent.infrastructure.database import InMemoryRepository
from ai_agent.infrastructure.database.telemetry import DURATION, Telemetry, start_metrics_server
from integration.telemetry._support import recording

pytestmark = pytest.mark.memory

PROGRAM = "from ai_agent.cli.app import main; main()"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def settings(path: str) -> ObservabilitySettings:
    return ObservabilitySettings.model_construct(metrics_port=9090, metrics_path=path)


async def test_the_function_serves_the_registry_on_one_path(registry: CollectorRegistry) -> None:
    repository = InMemoryRepository()
    recording(repository, Telemetry(registry=registry))
    async with repository:
        await repository.get_session(uuid4())
    with start_metrics_server(
        settings("/internal/metrics"),
        registry,
        host="127.0.0.1",
        port=0,
    ) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/internal/metrics"
        status, body = fetch(server.url)
        assert status == 200
        line = f'{DURATION}_count{{backend="memory",operation="get_session",outcome="ok"}} 1.0'
        assert line in body.splitlines()
        assert fetch(f"http://127.0.0.1:{server.port}/metrics")[0] == 404
        assert fetch(f"http://127.0.0.1:{server.port}/")[0] == 404
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=2)  # closed now


def test_a_path_must_start_with_a_slash() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        start_metrics_server(settings("metrics"), port=0)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``ai-agent metrics serve`` on a free port; yields the process and its URL."""
    env = {name: value for name, value in os.environ.items() if not is_settings_variable(name)}
    process = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, "metrics", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env={**env, "OBSERVABILITY_METRICS_PATH": "/prom"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the command says where, once it listens
        assert first.startswith("Serving metrics at http://127.0.0.1:"), first
        yield process, first.split()[3]
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_command_serves_until_interrupted(
    serving: tuple[subprocess.Popen[str], str], stop: signal.Signals
) -> None:
    process, url = serving
    assert url.endswith("/prom")
    status, body = fetch(url)
    assert status == 200
    assert f"# TYPE {DURATION} histogram" in body  # the families, before any call
    assert "python_info" in body  # prometheus_client's default collectors
    assert fetch(url.removesuffix("/prom") + "/metrics")[0] == 404
    process.send_signal(stop)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out.strip() == "Stopped."
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)  # the port is closed
