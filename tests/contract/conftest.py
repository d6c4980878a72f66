"""The ``repository`` fixture: every contract test runs once per backend in ``BACKENDS``.

A backend builder is an async context manager function (an async generator decorated with
``@asynccontextmanager``). Its parameters are names of pytest fixtures, which are resolved
for it like a fixture's own parameters (``tmp_path``, ``postgres_url``, ``redis_url``,
``redis_cluster_url``...). It yields a CONNECTED repository over an EMPTY store and, after
the test, removes whatever the test stored (tests that disconnect reconnect before they end,
so the builder may use the repository for its cleanup). Adding a backend::

    @asynccontextmanager
    async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Repository]:
        repository = SQLiteRepository(...)        # migrate first: constructors never do
        async with repository:
            yield repository

    BACKENDS = {"memory": memory_backend, "sqlite": sqlite_backend}

The key names the backend in test ids (``test_x[sqlite]``) and is also the pytest mark
applied to its tests (declared in pyproject.toml), so ``-m "memory or sqlite"`` selects.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ai_agent.infrastructure.database import (
    InMemoryRepository,
    Repository,
    SQLiteRepository,
    migrations,
)

Builder = Callable[..., AbstractAsyncContextManager[Repository]]


@asynccontextmanager
async def memory_backend() -> AsyncIterator[Repository]:
    async with InMemoryRepository() as repository:
        yield repository


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Repository]:
    path = tmp_path / "contract.db"
    await migrations.upgrade(f"sqlite:///{path}")
    async with SQLiteRepository(path) as repository:
        yield repository


BACKENDS: dict[str, Builder] = {
    "memory": memory_backend,
    "sqlite": sqlite_backend,
}


@pytest.fixture(
    params=[pytest.param(name, marks=getattr(pytest.mark, name), id=name) for name in BACKENDS]
)
def backend(request: pytest.FixtureRequest) -> Callable[[], AbstractAsyncContextManager[Any]]:
    """The chosen builder with its fixtures bound (resolved here, outside any event loop)."""
    builder = BACKENDS[request.param]
    names = inspect.signature(builder).parameters
    fixtures = {name: request.getfixturevalue(name) for name in names}
    return functools.partial(builder, **fixtures)


@pytest.fixture
async def repository(
    backend: Callable[[], AbstractAsyncContextManager[Repository]],
) -> AsyncIterator[Repository]:
    async with backend() as connected:
        yield connected
