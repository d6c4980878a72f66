"""PostgreSQL backend (asyncpg): the repository contract on a connection pool.

The schema comes from the Alembic migrations (``ai-agent db migrate``); the repository never
migrates, and ``await repository.schema_revision()`` says where the database is.

Usage::

    from ai_agent.domain.models import Message, MessageRole, Session
    from ai_agent.infrastructure.database import PostgreSQLRepository, migrations

    url = "postgresql://postgres:password@localhost:5432/ai_agent"
    await migrations.upgrade(url)                      # creates the database; idempotent
    repository = PostgreSQLRepository.from_url(url)    # or PostgreSQLRepository(settings.database)
    async with repository:                             # opens and closes the pool
        print(await repository.schema_revision())      # 0002
        session = await repository.create_session(Session(user_id="user-1"))
        async with repository.transaction():           # several calls, one transaction
            for role, text in [(MessageRole.USER, "Hi"), (MessageRole.ASSISTANT, "Hello!")]:
                await repository.create_message(
                    Message(session_id=session.id, role=role, content=text)
                )
        await repository.delete_session(session.id)    # and its messages

Layout: ``_repository`` (the class), ``_sessions``, ``_messages``, ``_catalog``, ``_states``,
``_maintenance`` (the operations), ``_queries`` (every statement), ``_codec`` (rows <->
models, JSON, ids), ``_connection`` (the pool, transactions) and ``_errors`` (asyncpg errors
-> the error tree, in one place).
"""

from ai_agent.infrastructure.database.postgresql._repository import PostgreSQLRepository

__all__ = ["PostgreSQLRepository"]
