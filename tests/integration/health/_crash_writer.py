"""A process that fails over to a SQLite fallback and is then killed by the test (SIGKILL).

Usage: ``python _crash_writer.py PRIMARY_DB FALLBACK_DB``. The primary is a SQLite database
that stays down the whole time (its connection always fails). Five concurrent writers create
sessions and messages through the monitor; each write is printed on one line
(``session <id>`` or ``message <id> <session id>``) as soon as the call has returned, i.e.
once it is acknowledged.
"""

from __future__ import annotations

import asyncio
import sys

from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database import (
    Repository,
    RepositoryConnectionError,
    RepositoryHealthMonitor,
)
from ai_agent.infrastructure.database.sqlite import SQLiteRepository


class StoppedSQLiteRepository(SQLiteRepository):
    """A real SQLite repository whose store cannot be reached, like a stopped server."""

    def _ensure_open(self) -> None:
        raise RepositoryConnectionError("primary stopped (simulated)")

    async def _connect(self) -> None:
        raise RepositoryConnectionError("primary stopped (simulated)")


async def write(repository: Repository, writer: int) -> None:
    while True:
        session = await repository.create_session(Session(user_id=f"writer-{writer}"))
        print(f"session {session.id}", flush=True)
        for index in range(5):
            message = await repository.create_message(
                Message(session_id=session.id, role=MessageRole.USER, content=f"{writer}-{index}")
            )
            print(f"message {message.id} {session.id}", flush=True)


async def main(primary_path: str, fallback_path: str) -> None:
    monitor = RepositoryHealthMonitor(
        primary_repository=StoppedSQLiteRepository(primary_path),
        fallback_repository=SQLiteRepository(fallback_path),
    )
    repository = await monitor.get_healthy_repository()
    await asyncio.gather(*(write(repository, writer) for writer in range(5)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
