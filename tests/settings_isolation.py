"""Keep the developer's configuration out of tests: no settings variable, no ``.env``.

Importable from any test module (``tests/`` is on ``sys.path``, as for ``_servers``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ai_agent.config.loader import is_settings_variable

__all__ = ["environment_without_settings", "isolate_settings"]


def environment_without_settings(**settings: str) -> dict[str, str]:
    """This process's environment without any settings variable, plus ``settings``."""
    clean = {name: value for name, value in os.environ.items() if not is_settings_variable(name)}
    return {**clean, **settings}


def isolate_settings(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """Drop every settings variable and work in ``directory``, so that no ``.env`` is read."""
    for name in list(os.environ):
        if is_settings_variable(name):
            monkeypatch.delenv(name)
    monkeypatch.chdir(directory)
