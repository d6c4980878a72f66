"""The routing repository passes the shared contract suite (healthy primary, memory stores).

Every test module of ``tests/contract`` is run here against ``get_healthy_repository()`` of a
monitor over two in-memory repositories: the router must be indistinguishable from the
repository it routes to (arguments, defaults, errors, lifecycle).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import contract
from ai_agent.infrastructure.database import Repository
from unit.health.support import routing_over_memory

pytestmark = pytest.mark.memory

for _module in pkgutil.iter_modules([str(Path(contract.__file__).parent)]):
    if _module.name.startswith("test_"):
        _tests = importlib.import_module(f"contract.{_module.name}")
        for _name, _value in vars(_tests).items():
            if _name.startswith("test_") and callable(_value):
                globals()[f"{_name}__{_module.name.removeprefix('test_')}"] = _value


@pytest.fixture
async def repository() -> AsyncIterator[Repository]:
    async with routing_over_memory() as routed:
        yield routed
