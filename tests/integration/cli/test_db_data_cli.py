"""``ai-agent db prune`` and ``ai-agent db copy``: summaries, one-line failures with exit
status, redacted URLs, and a copy killed mid-way that completes when run again."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ai_agent.cli.app import app
from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import SQLiteRepository, migrations
from contract.factories import at

pytestmark = pytest.mark.sqlite


def invoke(*arguments: str) -> Result:
    return CliRunner().invoke(app, ["db", *arguments])


def copying(source: Path, target: Path, *options: str) -> list[str]:
    return ["copy", "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}", *options]


def one_line(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


async def _filled(path: Path, sessions: int, messages: int, *, day: int = 99) -> None:
    await migrations.upgrade(f"sqlite:///{path}")
    async with SQLiteRepository(path) as repository:
        for index in range(sessions):
            session = await repository.create_session(
                Session(user_id=f"u{index}", last_activity=at(day * 86400 + index))
            )
            batch = [
                Message(
                    session_id=session.id, role=MessageRole.USER, content=f"m{i}", created_at=at(i)
                )
                for i in range(messages)
            ]
            for start in range(0, len(batch), 1000):
                await repository.create_messages(batch[start : start + 1000])


def _count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# -- prune ---------------------------------------------------------------------------------------


def test_prune_dry_run_then_real(tmp_path: Path) -> None:
    path = tmp_path / "agent.db"
    asyncio.run(_filled(path, 3, 12))
    url = f"sqlite:///{path}"

    dry = invoke("prune", "--url", url, "--max-messages", "5", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("Would delete 0 session(s) and 21 message(s) in sqlite:///")
    assert _count(path, "messages") == 36

    real = invoke("prune", "--url", url, "--max-messages", "5")
    assert real.exit_code == 0, real.output
    assert "Deleted 0 session(s) and 21 message(s)" in real.stdout
    assert "3 session(s) trimmed" in real.stdout
    assert _count(path, "messages") == 15


def test_prune_flags_override_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agent.db"
    asyncio.run(_filled(path, 2, 4))
    monkeypatch.setenv("RETENTION_MAX_MESSAGES_PER_SESSION", "1")
    assert "and 6 message(s)" in invoke("prune", "--url", f"sqlite:///{path}", "--dry-run").stdout
    flagged = invoke("prune", "--url", f"sqlite:///{path}", "--max-messages", "3", "--dry-run")
    assert "and 2 message(s)" in flagged.stdout


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--max-messages", "-1"),
        ("--max-messages", "many"),
        ("--max-age-days", "0"),
        ("--max-age-days", "1.5"),
        ("--batch-size", "0"),
        ("--batch-size", "5000"),
    ],
)
def test_prune_refuses_bad_values_and_deletes_nothing(
    tmp_path: Path, option: str, value: str
) -> None:
    path = tmp_path / "agent.db"
    asyncio.run(_filled(path, 1, 5))
    arguments = ["prune", "--url", f"sqlite:///{path}", "--max-messages", "0", option, value]
    line = one_line(invoke(*arguments), 2)
    assert line.startswith(f"Error: {option} must be an integer")
    assert repr(value) in line
    assert _count(path, "messages") == 5


def test_prune_of_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = "postgresql://agent:pr1vate-pw@127.0.0.1:1/ai_agent"
    line = one_line(invoke("prune", "--url", url, "--max-messages", "3"), 1)
    assert "pr1vate-pw" not in line
    assert "postgresql://agent:***@127.0.0.1:1/ai_agent" in line


def test_prune_with_retention_off_says_so(tmp_path: Path) -> None:
    path = tmp_path / "agent.db"
    asyncio.run(_filled(path, 1, 2))
    result = invoke("prune", "--url", f"sqlite:///{path}")
    assert result.exit_code == 0
    assert result.stdout.startswith("Nothing to prune: retention is off")


# -- copy ----------------------------------------------------------------------------------------


def test_copy_verify_and_run_again(tmp_path: Path) -> None:
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    asyncio.run(_filled(source, 4, 25))
    asyncio.run(migrations.upgrade(f"sqlite:///{target}"))
    arguments = copying(source, target, "--verify")

    first = invoke(*arguments)
    assert first.exit_code == 0, first.output
    assert "4 sessions, 100 messages" in first.stdout
    assert "Verified: every kind has the same count and checksum in both." in first.stdout

    again = invoke(*arguments)
    assert again.exit_code == 0, again.output
    assert "0 sessions, 0 messages" in again.stdout
    assert "Already in the target (skipped): 104 record(s)." in again.stdout
    assert _count(target, "messages") == 100


def test_copy_into_an_unmigrated_target_says_how(tmp_path: Path) -> None:
    source, target = tmp_path / "a.db", tmp_path / "new" / "b.db"
    asyncio.run(_filled(source, 1, 1))
    target.parent.mkdir()
    line = one_line(
        invoke("copy", "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}"), 1
    )
    assert line.endswith(f"run `ai-agent db migrate --url sqlite:///{target}`")


def test_verify_names_the_kind_that_differs(tmp_path: Path) -> None:
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    asyncio.run(_filled(source, 2, 3))
    asyncio.run(_filled(target, 1, 1))  # another session the target alone holds
    result = invoke(
        "copy", "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}", "--verify"
    )
    assert result.exit_code == 1
    assert "Conflict: verify: sessions: 2 in the source, 3 in the target" in result.stderr
    assert "Conflict: verify: messages: 6 in the source, 7 in the target" in result.stderr


@pytest.mark.slow
def test_a_copy_killed_midway_completes_when_run_again(tmp_path: Path) -> None:
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    asyncio.run(_filled(source, 8, 3000))
    asyncio.run(migrations.upgrade(f"sqlite:///{target}"))
    command = [
        sys.executable,
        "-m",
        "ai_agent",
        "db",
        *copying(source, target, "--batch-size", "100"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _copied(target) < 2000 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    copied = _copied(target)
    assert 0 < copied < 24000, "the copy must be killed mid-way"

    resumed = invoke(
        "copy", "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}", "--verify"
    )

    assert resumed.exit_code == 0, resumed.output
    assert _count(target, "messages") == 24000
    assert "Verified" in resumed.stdout


def _copied(path: Path) -> int:
    try:
        return _count(path, "messages")
    except sqlite3.OperationalError:  # locked for a moment by the copy's write
        return 0
