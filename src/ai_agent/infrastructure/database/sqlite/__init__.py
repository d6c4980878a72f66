"""``SQLiteRepository``: the durable embedded backend (aiosqlite).

A database file in write-ahead-log mode with foreign keys enforced, holding the tables,
keys and indexes of the Alembic revisions in SQLite's types. The repository never creates
or upgrades the schema: migrate first (``ai-agent db migrate --url sqlite:///ai_agent.db``
or ``await migrations.upgrade(url)``), then connect.

Usage::

    from ai_agent.domain.models import Message, MessageRole, Session
    from ai_agent.infrastructure.database import SQLiteRepository, migrations

    await migrations.upgrade("sqlite:///ai_agent.db")     # creates the file; idempotent
    repository = SQLiteRepository("ai_agent.db")          # or .from_url("sqlite:///ai_agent.db")
    async with repository:                                # connect() ... disconnect()
        session = await repository.create_session(Session(user_id="user-1"))
        async with repository.transaction():              # several calls, one atomic unit
            for role, text in [(MessageRole.USER, "Hi"), (MessageRole.ASSISTANT, "Hello!")]:
                await repository.create_message(
                    Message(session_id=session.id, role=role, content=text)
                )
        stored = await repository.get_session(session.id)
        print(stored.message_count if stored else None)   # 2

Durability: ``synchronous=FULL`` by default, so a commit reaches the disk before the call
returns and survives a power loss; ``synchronous="NORMAL"`` is faster per
commit and still survives a crash of the process, but may lose the last commits when the
machine loses power. Writers wait up to ``busy_timeout`` seconds (default 5) for another
process's write lock, then fail with ``ConflictError``.
"""

from __future__ import annotations

from ai_agent.infrastructure.database.sqlite._repository import SQLiteRepository

__all__ = ["SQLiteRepository"]
