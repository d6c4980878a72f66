"""Fixtures for the failover tests: migrated SQLite files and quick monitor settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.sections import CircuitBreakerSettings, ObservabilitySettings
from ai_agent.infrastructure.database import migrations

QuickSettings = Callable[..., ApplicationSettings]


def _quick_settings(
    *, interval: float = 0.1, recovery: float = 0.5, threshold: int = 3
) -> ApplicationSettings:
    return ApplicationSettings(
        observability=ObservabilitySettings(
            health_check_interval=interval, health_check_timeout=2.0
        ),
        circuit_breaker=CircuitBreakerSettings(
            db_failure_threshold=threshold,
            db_recovery_timeout=recovery,
            db_half_open_max_calls=1,
        ),
    )


@pytest.fixture
def quick_settings() -> QuickSettings:
    """``quick_settings(interval=, recovery=, threshold=)``: monitor settings for tests.

    Checks every ``interval`` seconds; the breaker opens after ``threshold`` failures and
    tries the primary again after ``recovery`` seconds.
    """
    return _quick_settings


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Callable[[str], Awaitable[Path]]:
    """``await sqlite_database("name.db")``: a database file at the head revision."""

    async def make(name: str) -> Path:
        path = tmp_path / name
        await migrations.upgrade(f"sqlite:///{path}")
        return path

    return make
