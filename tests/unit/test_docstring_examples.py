"""The usage examples in the backend and factory docstrings, and the README's, run as written.

Each ``Usage::`` block is run as the body of a coroutine; a ``print(...)  # value`` line
must print ``value``, as in a doctest. Examples that name a server URL run against the test
servers, with the URL replaced.
"""

from __future__ import annotations

import importlib
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ai_agent.config.settings import get_settings
from ai_agent.infrastructure.database import (
    PostgreSQLRepository,
    cleanup_repository,
    migrations,
)
from settings_isolation import isolate_settings

README = Path(__file__).resolve().parents[2] / "README.md"
PACKAGE = "ai_agent.infrastructure.database"
POSTGRES_EXAMPLE_URL = "postgresql://postgres:password@localhost:5432/ai_agent"
REDIS_EXAMPLE_URL = "redis://localhost:6379/0"
_EXPECTED = re.compile(r"print\(.*\)\s+# (?P<value>.+)$")


def usage_block(docstring: str) -> str:
    """The literal block after ``Usage::``, dedented."""
    lines = docstring.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("Usage::"))
    body: list[str] = []
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith(" "):
            break
        body.append(line)
    return textwrap.dedent("\n".join(body)).strip("\n") + "\n"


def expected_output(code: str) -> list[str]:
    return [m["value"].strip() for line in code.splitlines() if (m := _EXPECTED.search(line))]


async def run_example(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, Any] = {}
    source = "async def example():\n" + textwrap.indent(code, "    ")
    exec(compile(source, "<usage example>", "exec"), namespace)
    capsys.readouterr()
    await namespace["example"]()
    printed = capsys.readouterr().out.splitlines()
    assert printed == expected_output(code)


def _docstring(module: str) -> str:
    doc = importlib.import_module(f"{PACKAGE}.{module}").__doc__
    assert doc is not None
    return doc


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No settings variable, an empty working directory (no .env), fresh caches."""
    isolate_settings(monkeypatch, tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("module", ["memory", "sqlite"])
async def test_embedded_backend_example_runs(
    module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the SQLite example writes ai_agent.db here
    await run_example(usage_block(_docstring(module)), capsys)


async def test_postgresql_example_runs(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = usage_block(_docstring("postgresql"))
    assert POSTGRES_EXAMPLE_URL in code
    await run_example(code.replace(POSTGRES_EXAMPLE_URL, postgres_url), capsys)


async def test_redis_example_runs(redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = usage_block(_docstring("redis"))
    assert REDIS_EXAMPLE_URL in code
    await run_example(code.replace(REDIS_EXAMPLE_URL, redis_url), capsys)


@pytest.mark.usefixtures("clean_settings")
async def test_factory_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        await run_example(usage_block(_docstring("factory")), capsys)
    finally:
        await cleanup_repository()


def readme_example(heading: str) -> str:
    """The first Python block after ``heading`` in the README."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"```python\n(?P<code>.*?)```", text[text.index(heading) :], re.DOTALL)
    assert match is not None, heading
    return match["code"]


@pytest.mark.usefixtures("clean_settings")
async def test_readme_usage_runs_on_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    # The README's script ends with asyncio.run(main()); here the test's loop runs main().
    code = readme_example("## Usage").replace("asyncio.run(main())", "await main()")
    assert expected_output(code) == ["Hello"]
    await run_example(code, capsys)


@pytest.mark.usefixtures("clean_settings")
async def test_readme_failover_example_runs(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    await migrations.upgrade(postgres_url)
    await migrations.upgrade("sqlite:///fallback.db")  # in the test's working directory
    try:
        await run_example(readme_example("## Failover"), capsys)
    finally:  # the database is the session's shared one: leave nothing behind
        async with PostgreSQLRepository.from_url(postgres_url) as repository:
            for session in await repository.list_sessions(user_id="user-1", limit=1000):
                await repository.delete_session(session.id)
