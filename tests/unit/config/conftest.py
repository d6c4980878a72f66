"""Isolation for configuration tests: no real environment, no real ``.env``, no caches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ai_agent.config import feature_flags
from ai_agent.config.logging import reset_logging
from ai_agent.config.settings import get_settings
from settings_isolation import isolate_settings

WriteEnv = Callable[..., Path]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Drop every settings variable, run in an empty directory, reset global state."""
    isolate_settings(monkeypatch, tmp_path)
    get_settings.cache_clear()
    feature_flags.reset()
    yield
    get_settings.cache_clear()
    feature_flags.reset()
    reset_logging()


@pytest.fixture
def password() -> str:
    """A distinctive password: every URL-special character, so escaping and redaction
    are both exercised, and easy to find in any output it must not appear in."""
    return "p@ss:w/rd%#?"


@pytest.fixture
def write_env(tmp_path: Path) -> WriteEnv:
    """Write ``KEY=value`` lines to ``.env`` in the working directory."""

    def write(name: str = ".env", **values: str) -> Path:
        path = tmp_path / name
        path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        return path

    return write
