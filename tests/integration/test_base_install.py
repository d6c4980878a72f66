"""``pip install ai-agent`` without extras, as a new user gets it (SPEC.md section 7).

One fresh venv per test session holds only the base install built from this checkout (pip
may reach the package index for the dependencies). Every check runs the installed
``ai-agent`` (or that venv's python) in a subprocess, in an empty working directory and
without any settings variable, so nothing from the development venv can help it.
"""

from __future__ import annotations

import os
import subprocess
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from settings_isolation import environment_without_settings

ROOT = Path(__file__).resolve().parents[2]
# What the extras bring: none of it may be importable in the base install.
EXTRA_MODULES = ("asyncpg", "redis")
# Building the venv dominates: one pip install, then about a second per command.
pytestmark = [pytest.mark.packaging, pytest.mark.slow, pytest.mark.timeout(600)]


@dataclass(frozen=True)
class BaseVenv:
    """The fresh venv and an empty directory to run its commands in."""

    root: Path
    workdir: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def run(self, *argv: str, **settings: str) -> subprocess.CompletedProcess[str]:
        """Run a program of the venv (``ai-agent``, ``python``) with only ``settings`` set."""
        clean = environment_without_settings()
        clean.pop("VIRTUAL_ENV", None)
        clean["PATH"] = f"{self.root / 'bin'}{os.pathsep}{clean.get('PATH', '')}"
        clean["NO_COLOR"] = "1"
        program = str(self.root / "bin" / argv[0])
        return subprocess.run(
            [program, *argv[1:]],
            cwd=self.workdir,
            env={**clean, **settings},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="session")
def base_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseVenv]:
    """A venv holding ``pip install <checkout>`` and nothing else (built once per session)."""
    root = tmp_path_factory.mktemp("base-install") / "venv"
    venv.EnvBuilder(with_pip=True, symlinks=True).create(root)
    pip = [str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    installed = subprocess.run(
        [*pip, "--disable-pip-version-check", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert installed.returncode == 0, f"pip install failed:\n{installed.stderr[-4000:]}"
    workdir = tmp_path_factory.mktemp("base-install-work")
    yield BaseVenv(root, workdir)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr


def assert_missing_extra(result: subprocess.CompletedProcess[str], extra: str) -> None:
    """Exit 2 and one line on stderr naming the pip command; no traceback, no password."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert len(lines) == 1, result.stderr
    assert f"pip install 'ai-agent[{extra}]'" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert "s3cret" not in result.stderr + result.stdout


def test_the_base_install_holds_no_extra(base_venv: BaseVenv) -> None:
    for module in EXTRA_MODULES:
        result = base_venv.run("python", "-c", f"import {module}")
        assert result.returncode != 0, f"{module} is installed: the checks below prove nothing"
    assert_ok(base_venv.run("python", "-c", "import aiosqlite, greenlet"))


def test_help_and_config_show(base_venv: BaseVenv) -> None:
    helped = base_venv.run("ai-agent", "--help")
    assert_ok(helped)
    for group in ("config", "db", "demo", "health"):
        assert group in helped.stdout
    shown = base_venv.run("ai-agent", "config", "show", "--json")
    assert_ok(shown)
    assert '"selected_backend": "memory"' in shown.stdout


def test_sqlite_migrate_status_and_health(base_venv: BaseVenv) -> None:
    url = f"sqlite:///{base_venv.workdir / 'data' / 'agent.db'}"
    migrated = base_venv.run("ai-agent", "db", "migrate", "--url", url)
    assert_ok(migrated)
    assert "(head)" in migrated.stdout
    status = base_venv.run("ai-agent", "db", "status", "--url", url)
    assert_ok(status)
    assert "up to date" in status.stdout
    assert_ok(base_venv.run("ai-agent", "health", "--url", url))


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_the_demo(base_venv: BaseVenv, backend: str) -> None:
    result = base_venv.run(
        "ai-agent", "demo", "--backend", backend, SQLITE_PATH=str(base_venv.workdir / "demo.db")
    )
    assert_ok(result)


POSTGRES_URL = "postgresql://app:s3cret-pw@127.0.0.1:9/app"
REDIS_URL = "redis://:s3cret-pw@127.0.0.1:9/0"


@pytest.mark.parametrize(
    ("argv", "settings", "extra"),
    [
        (("db", "migrate", "--url", POSTGRES_URL), {}, "postgresql"),
        (("db", "status", "--url", POSTGRES_URL), {}, "postgresql"),
        (("db", "migrate"), {"STORAGE_BACKEND": "postgresql"}, "postgresql"),
        (("health", "--url", POSTGRES_URL), {}, "postgresql"),
        (("health", "--url", REDIS_URL), {}, "redis"),
        (("health",), {"STORAGE_BACKEND": "redis"}, "redis"),
        (("demo", "--backend", "redis"), {"REDIS_URL": REDIS_URL}, "redis"),
        (("demo", "--backend", "postgresql"), {"DATABASE_URL": POSTGRES_URL}, "postgresql"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else None,
)
def test_a_missing_extra_is_one_line(
    base_venv: BaseVenv, argv: tuple[str, ...], settings: dict[str, str], extra: str
) -> None:
    assert_missing_extra(base_venv.run("ai-agent", *argv, **settings), extra)


LIBRARY_CHECK = """
import asyncio, sys
from ai_agent.infrastructure.database import RepositoryError, RepositoryFactory, migrations
from ai_agent.infrastructure.database.factory import MissingDriverError

for call in (
    lambda: RepositoryFactory.from_url(sys.argv[1]),
    lambda: RepositoryFactory.from_url(sys.argv[2]),
    lambda: asyncio.run(migrations.upgrade(sys.argv[1])),
):
    try:
        call()
    except MissingDriverError as exc:
        assert isinstance(exc, RepositoryError) and isinstance(exc, ImportError)
        print(exc)
    else:
        raise SystemExit("no MissingDriverError")
"""


def test_the_library_raises_a_typed_error(base_venv: BaseVenv) -> None:
    result = base_venv.run("python", "-c", LIBRARY_CHECK, POSTGRES_URL, REDIS_URL)
    assert_ok(result)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3, result.stdout
    for line, extra in zip(lines, ("postgresql", "redis", "postgresql"), strict=True):
        assert line.endswith(f"pip install 'ai-agent[{extra}]'")


# Each framework adapter and the extra that brings its framework (those in this checkout).
ADAPTERS = {"openai_agents": "openai-agents", "langchain": "langchain", "adk": "adk"}
PRESENT = [
    name
    for name in ADAPTERS
    if (ROOT / "src" / "ai_agent" / "integrations" / f"{name}.py").exists()
]

IMPORT_CHECK = """
import importlib, sys
from ai_agent.integrations import MissingExtraError
try:
    importlib.import_module("ai_agent.integrations." + sys.argv[1])
except MissingExtraError as exc:
    print(exc)
else:
    raise SystemExit("imported without its extra")
"""


@pytest.mark.parametrize("adapter", PRESENT)
def test_an_adapter_without_its_extra_is_one_typed_error(base_venv: BaseVenv, adapter: str) -> None:
    result = base_venv.run("python", "-c", IMPORT_CHECK, adapter)
    assert_ok(result)
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith(f"ai_agent.integrations.{adapter} needs the ")
    assert line.endswith(f"pip install 'ai-agent[{ADAPTERS[adapter]}]'")
