"""The adapters run on every backend: the contract suite's ``backend`` and ``repository``
fixtures, reused as they are; the Agents SDK's tracing is off (it would export to the
network); ``agent_db`` is the working directory the README's examples expect."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from agents import set_tracing_disabled

from ai_agent.infrastructure.database import migrations
from contract.conftest import backend, repository

__all__ = ["backend", "repository"]


@pytest.fixture(autouse=True)
def _no_tracing() -> Iterator[None]:
    set_tracing_disabled(True)
    yield


@pytest.fixture
async def agent_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A working directory holding a migrated ``agent.db``, as the README's examples expect."""
    monkeypatch.chdir(tmp_path)
    await migrations.upgrade("sqlite:///agent.db")
