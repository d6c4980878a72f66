"""Fixtures of every unit test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_agent.config import feature_flags


@pytest.fixture(autouse=True)
def _flags() -> Iterator[None]:
    """Feature flags are process-wide: each test starts from, and leaves, the defaults."""
    feature_flags.reset()
    yield
    feature_flags.reset()
