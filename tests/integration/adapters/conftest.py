"""The adapters run on every backend: the contract suite's ``backend`` and ``repository``
fixtures, reused as they are; the Agents SDK's tracing is off (it would export to the
network)."""

from collections.abc import Iterator

import pytest
from agents import set_tracing_disabled

from contract.conftest import backend, repository

__all__ = ["backend", "repository"]


@pytest.fixture(autouse=True)
def _no_tracing() -> Iterator[None]:
    set_tracing_disabled(True)
    yield
