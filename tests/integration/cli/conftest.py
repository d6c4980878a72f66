"""Fixtures for the command-line tests: a clean environment and a fresh PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from ai_agent.config import feature_flags
from ai_agent.config.loader import is_settings_variable
from ai_agent.config.logging import reset_logging


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No settings variable from the outside, ``tmp_path`` as the working directory, and
    the process-wide state a command sets (feature flags, logging) undone afterwards."""
    for name in list(os.environ):
        if is_settings_variable(name):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield
    feature_flags.reset()
    reset_logging()


@pytest.fixture
async def fresh_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """The test server's URL naming a database that does not exist yet; dropped afterwards."""
    name = f"ai_agent_cli_{uuid4().hex[:12]}"
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
