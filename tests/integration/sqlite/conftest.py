"""Fixtures for the SQLite backend's own tests: a migrated database file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ai_agent.domain.models import Session
from ai_agent.infrastructure.database import migrations
from ai_agent.infrastructure.database.sqlite import SQLiteRepository

pytestmark = pytest.mark.sqlite


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    """A database file at the head revision, with no rows."""
    path = tmp_path / "agent.db"
    await migrations.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
async def repository(database: Path) -> AsyncIterator[SQLiteRepository]:
    async with SQLiteRepository(database) as repository:
        yield repository


@pytest.fixture
async def two_sessions(repository: SQLiteRepository) -> tuple[Session, Session]:
    """Two stored sessions without messages."""
    return (
        await repository.create_session(Session()),
        await repository.create_session(Session()),
    )
