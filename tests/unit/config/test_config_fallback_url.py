"""``FALLBACK_URL``: the failover target, read like any setting and never shown in clear."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from ai_agent.config.settings import get_settings, load_settings

WriteEnv = Callable[..., Path]


def test_unset_by_default() -> None:
    assert get_settings().fallback_url is None


def test_read_from_the_environment_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql://agent:{password}@db.example:5432/agent"
    monkeypatch.setenv("FALLBACK_URL", url)
    settings = get_settings()
    assert settings.fallback_url is not None
    assert settings.fallback_url.get_secret_value() == url
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings: %s %r", settings, settings)
    shown = [repr(settings), str(settings), repr(settings.fallback_url), caplog.text]
    shown.append(str(settings.model_dump()))
    shown.append(settings.model_dump_json())
    for text in shown:
        assert password not in text
        assert "agent:p@ss" not in text


def test_read_from_the_env_file(write_env: WriteEnv, tmp_path: Path) -> None:
    write_env(FALLBACK_URL="sqlite:///fallback.db")
    settings = load_settings(env_file=tmp_path / ".env")
    assert settings.fallback_url is not None
    assert settings.fallback_url.get_secret_value() == "sqlite:///fallback.db"
