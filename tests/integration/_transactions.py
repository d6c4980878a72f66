"""What the SQLite and PostgreSQL ``transaction()`` tests share: a block aborted on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # each backend's tests import only their own driver
    from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
    from ai_agent.infrastructure.database.sqlite import SQLiteRepository


class Boom(Exception):
    """The caller's own exception, raised to abort a block."""


@asynccontextmanager
async def rolled_back(repository: SQLiteRepository | PostgreSQLRepository) -> AsyncIterator[None]:
    """A ``transaction()`` block that raises ``Boom`` once its body is done, so everything the
    body did rolls back; ``Boom`` is expected and stops here, any other exception propagates."""
    with pytest.raises(Boom):
        async with repository.transaction():
            yield
            raise Boom
