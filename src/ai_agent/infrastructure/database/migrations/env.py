"""Alembic environment for the packaged revisions.

The database URL comes, in order, from the API (``Config.attributes["url"]``), from
``alembic -x url=...``, from ``sqlalchemy.url`` in ``alembic.ini``, or from the application
settings (``get_settings()``: the selected PostgreSQL or SQLite backend). The programmatic
API passes an open connection in ``Config.attributes["connection"]`` instead.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import URL, Connection

from ai_agent.infrastructure.database import migrations

config = context.config

# Run from the alembic command line, alembic.ini's logging applies (INFO lines per revision);
# the programmatic API builds its Config without a file and leaves the host's logging alone.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configured_url() -> URL:
    url = config.attributes.get("url")
    if url is not None:
        return migrations.sql_url(url)
    given = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if given:
        return migrations.sql_url(given)
    from ai_agent.config.settings import get_settings

    return migrations.settings_url(get_settings())


def _run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Concurrent migrators queue here; each later one then finds the schema at head.
            connection.execute(migrations.advisory_lock_statement())
        context.run_migrations()


async def _run_online() -> None:
    url = _configured_url()
    if url.get_backend_name() == "postgresql":
        await migrations.ensure_database(url)
    engine = migrations.create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=_configured_url(), literal_binds=True, dialect_opts={"paramstyle": "named"}
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif (shared := config.attributes.get("connection")) is not None:
    _run_migrations(shared)
else:
    asyncio.run(_run_online())
