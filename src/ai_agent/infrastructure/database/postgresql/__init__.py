"""PostgreSQL backend (asyncpg): the repository contract on a connection pool.

Usage::

    from ai_agent.infrastructure.database import PostgreSQLRepository

    repository = PostgreSQLRepository(settings.database)      # or .from_url("postgresql://...")
    async with repository:                                    # opens and closes the pool
        session = await repository.create_session(Session(user_id="user-1"))
        async with repository.transaction():                  # several calls, one transaction
            await repository.create_message(first)
            await repository.create_message(second)

The schema comes from the Alembic migrations (``ai-agent db migrate``); the repository never
migrates, and ``await repository.schema_revision()`` says where the database is.

Layout: :mod:`.repository` (the class), :mod:`.queries` (every statement), :mod:`.codec`
(rows <-> models, JSON), :mod:`.pool` (pool options, which connection a call runs on,
transactions) and :mod:`.driver_errors` (asyncpg errors -> the error tree, in one place).
"""

from ai_agent.infrastructure.database.postgresql.repository import PostgreSQLRepository

__all__ = ["PostgreSQLRepository"]
