"""Each command imports only what it uses: no driver, and no Alembic or
SQLAlchemy asyncio layer, for commands that do not touch a database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from settings_isolation import environment_without_settings
from subprocesses import run_captured

# Drivers come from extras; Alembic and the asyncio engine are only for schema commands.
HEAVY = ("asyncpg", "redis", "aiosqlite", "alembic", "sqlalchemy.ext.asyncio")

PROGRAM = """
import json, sys
from ai_agent.cli.app import app
try:
    app(sys.argv[1:], prog_name="ai-agent")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_modules(tmp_path: Path, *argv: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``ai-agent *argv``."""
    done = run_captured(
        [sys.executable, "-c", PROGRAM, *argv], cwd=tmp_path, env=environment_without_settings()
    )
    last_line = done.stderr.strip().splitlines()[-1]
    return set(json.loads(last_line))


@pytest.mark.parametrize(
    "argv", [("--help",), ("config", "show"), ("config", "validate"), ("db", "--help")]
)
def test_commands_without_a_database_import_no_driver(tmp_path: Path, argv: tuple[str]) -> None:
    loaded = loaded_modules(tmp_path, *argv)
    heavy = sorted(name for name in loaded if name.startswith(HEAVY))
    assert heavy == []


def test_a_sqlite_command_imports_no_server_driver(tmp_path: Path) -> None:
    loaded = loaded_modules(tmp_path, "db", "status", "--url", f"sqlite:///{tmp_path / 'x.db'}")
    assert "alembic" in loaded  # the command did run
    assert not {name.partition(".")[0] for name in loaded} & {"asyncpg", "redis"}
