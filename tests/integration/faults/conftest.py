"""Fixtures of the fault tests (issue 6): a private server per test, behind one interface.

``target`` is parametrized over PostgreSQL (durable, migrated, stopped with ``immediate``
mode as ``pg_ctl stop -m immediate`` would) and Redis (AOF with ``appendfsync always``,
SIGKILLed): each test gets a freshly started server of its own, wrapped in a ``Target`` that
builds repositories on it (or on a proxy in front of it) and audits the raw store. Marks
``postgresql`` / ``redis`` come with the parameter; every fault test is also ``slow``.

This folder has no ``__init__.py``, like its siblings; its helpers are imported as
``integration.faults._targets``, ``._load`` and ``._proxy``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ai_agent.infrastructure.database import migrations
from integration.faults._targets import Target, postgres_target, redis_target


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
        pytest.param("redis", marks=pytest.mark.redis, id="redis"),
    ]
)
async def target(request: pytest.FixtureRequest) -> AsyncIterator[Target]:
    """A private server (see the module docstring); PostgreSQL is migrated to head."""
    if request.param == "postgresql":
        made = postgres_target(request.getfixturevalue("postgres_server_factory"))
        await migrations.upgrade(made.url)
    else:
        made = redis_target(request.getfixturevalue("redis_server_factory"))
    yield made
