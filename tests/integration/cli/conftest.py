"""Fixtures for the command-line tests: a clean environment, state reset afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_agent.config import feature_flags
from ai_agent.config.logging import reset_logging
from settings_isolation import isolate_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No settings variable from the outside, ``tmp_path`` as the working directory, and
    the process-wide state a command sets (feature flags, logging) undone afterwards."""
    isolate_settings(monkeypatch, tmp_path)
    yield
    feature_flags.reset()
    reset_logging()
