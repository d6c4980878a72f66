"""Several processes writing one database file: BEGIN IMMEDIATE and the busy timeout queue them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from ai_agent.domain.models import Session
from ai_agent.infrastructure.database.sqlite import SQLiteRepository

pytestmark = pytest.mark.sqlite

WRITER = """
import asyncio, sys
from uuid import UUID
from ai_agent.domain.models import Message, MessageRole
from ai_agent.infrastructure.database.sqlite import SQLiteRepository

async def main(path, session_id, count):
    async with SQLiteRepository(path, busy_timeout=30) as repository:
        for index in range(count):
            await repository.create_message(
                Message(session_id=UUID(session_id), role=MessageRole.USER, content=str(index))
            )

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_writers_in_three_processes_lose_nothing(database: Path) -> None:
    async with SQLiteRepository(database) as repository:
        session = await repository.create_session(Session())
    argv = [sys.executable, "-c", WRITER, str(database), str(session.id), "40"]
    writers = [subprocess.Popen(argv, stderr=subprocess.PIPE) for _ in range(3)]
    results = await asyncio.to_thread(
        lambda: [writer.communicate(timeout=90) for writer in writers]
    )
    assert [writer.returncode for writer in writers] == [0, 0, 0], results
    async with SQLiteRepository(database) as repository:
        stored = await repository.get_session(session.id)
        messages = await repository.get_messages_by_session(session.id, limit=1000)
    assert stored is not None and stored.message_count == 120
    assert len(messages) == 120
