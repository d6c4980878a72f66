"""``SQLiteRepository``: the durable embedded backend (aiosqlite).

A database file in write-ahead-log mode with foreign keys enforced, holding the tables,
keys and indexes of the Alembic revisions in SQLite's types. The repository never creates
or upgrades the schema: migrate first (``ai-agent db migrate`` or
``await migrations.upgrade(url)``), then connect::

    repository = SQLiteRepository("ai_agent.db")     # or SQLiteRepository.from_url(url)
    async with repository:
        session = await repository.create_session(Session(user_id="user-1"))
        async with repository.transaction():          # several calls, one atomic unit
            await repository.create_message(first)
            await repository.create_message(second)

Durability: ``synchronous=FULL`` by default, so a commit reaches the disk before the call
returns and survives a power loss; ``synchronous="NORMAL"`` is several times faster per
commit and still survives a crash of the process, but may lose the last commits when the
machine loses power. Writers wait up to ``busy_timeout`` seconds (default 5) for another
process's write lock, then fail with ``ConflictError``.
"""

from __future__ import annotations

from ai_agent.infrastructure.database.sqlite._catalogue import CatalogueStore
from ai_agent.infrastructure.database.sqlite._conversations import ConversationStore

__all__ = ["SQLiteRepository"]


class SQLiteRepository(ConversationStore, CatalogueStore):
    """The repository contract on a SQLite file; see the package docstring."""
