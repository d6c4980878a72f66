"""Sequential appends: ``create_message`` against hand-written asyncpg, on one server.

Not a test (pytest does not collect it); run it against a migrated database::

    .venv/bin/python tests/integration/postgresql/bench_append.py postgresql://... [count]

Each variant appends ``count`` messages to a fresh session, one after the other:

- ``repository``: ``PostgreSQLRepository.create_message`` (argument validation, the one-statement
  CTE, a pool acquire and release per call);
- ``asyncpg CTE``: the same INSERT + UPDATE as one CTE on one dedicated connection, no model
  validation: the floor for one round trip per append;
- ``asyncpg pool CTE``: the same, acquiring from a pool with asyncpg's default reset on release;
- ``asyncpg pool.execute``: the same through ``pool.execute`` on a pool whose reset is a no-op
  (what the repository's pool does): the floor for a pooled append;
- ``asyncpg repo SQL``: the repository's own statement (with the parent check) through
  ``pool.execute``, no validation: the server's share of the gap;
- ``asyncpg transaction``: BEGIN, UPDATE, INSERT, COMMIT: four round trips.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

import asyncpg

from ai_agent.domain.models import Message, MessageRole, Session, utc_now
from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
from ai_agent.infrastructure.database.postgresql._queries import CREATE_MESSAGE

PLAIN_CTE = """
WITH touched AS (
    UPDATE sessions SET message_count = message_count + 1,
                        last_activity = GREATEST(last_activity, $2)
     WHERE id = $4 RETURNING id
)
INSERT INTO messages (id, created_at, updated_at, session_id, role, content, metadata,
                      tool_calls, parent_message_id)
SELECT $1, $2, $3, touched.id, $5, $6, $7::jsonb, $8::jsonb, NULL FROM touched
"""
UPDATE = """UPDATE sessions SET message_count = message_count + 1,
            last_activity = GREATEST(last_activity, $2) WHERE id = $1"""
INSERT = """INSERT INTO messages (id, created_at, updated_at, session_id, role, content,
            metadata, tool_calls, parent_message_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, NULL)"""
METADATA = {"tokens": 12, "model": "gpt-x"}
TOOL_CALLS = [{"name": "lookup", "arguments": {"invoice": 42}}]


def _row(session_id: UUID) -> tuple[object, ...]:
    now = utc_now()
    return (
        uuid4(),
        now,
        now,
        session_id,
        "user",
        "Why was I charged twice?",
        json.dumps(METADATA),
        json.dumps(TOOL_CALLS),
    )


Append = Callable[[], Awaitable[object]]
ROUND = 100


async def _run(variants: dict[str, Append], count: int) -> dict[str, float]:
    """Seconds per variant for ``count`` appends, run in interleaved rounds of ``ROUND`` so
    that load from elsewhere on the machine hits every variant alike."""
    for append in variants.values():
        for _ in range(20):  # warm up: prepared statements, connections
            await append()
    totals = dict.fromkeys(variants, 0.0)
    for _ in range(max(1, count // ROUND)):
        for name, append in variants.items():
            start = time.perf_counter()
            for _ in range(ROUND):
                await append()
            totals[name] += time.perf_counter() - start
    return totals


def _repository(repository: PostgreSQLRepository, session_id: UUID, count: int) -> Append:
    # Messages are built before timing: constructing them is the caller's cost; validating
    # them again (as every repository call does) is counted.
    messages = iter(
        [
            Message(
                session_id=session_id,
                role=MessageRole.USER,
                content="Why was I charged twice?",
                metadata=METADATA,
                tool_calls=TOOL_CALLS,
            )
            for _ in range(count + 100)
        ]
    )
    return lambda: repository.create_message(next(messages))


def _plain(connection: asyncpg.Connection, session_id: UUID) -> Append:
    return lambda: connection.execute(PLAIN_CTE, *_row(session_id))


def _pooled(pool: asyncpg.Pool, session_id: UUID) -> Append:
    async def append() -> object:
        async with pool.acquire() as connection:
            return await connection.execute(PLAIN_CTE, *_row(session_id))

    return append


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


def _pool_execute(pool: asyncpg.Pool, session_id: UUID) -> Append:
    return lambda: pool.execute(PLAIN_CTE, *_row(session_id))


def _repository_sql(pool: asyncpg.Pool, session_id: UUID) -> Append:
    return lambda: pool.execute(CREATE_MESSAGE.sql, *_row(session_id), None)


def _transaction(connection: asyncpg.Connection, session_id: UUID) -> Append:
    async def append() -> None:
        row = _row(session_id)
        async with connection.transaction():
            await connection.execute(UPDATE, session_id, row[1])
            await connection.execute(INSERT, *row)

    return append


async def main(url: str, count: int) -> None:
    repository = PostgreSQLRepository.from_url(url, min_pool_size=1, max_pool_size=2)
    async with repository:
        sessions = [await repository.create_session(Session(user_id="bench")) for _ in range(6)]
        connection = await asyncpg.connect(url)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        quiet = await asyncpg.create_pool(url, min_size=1, max_size=2, reset=_no_reset)
        coded = await asyncpg.create_pool(
            url, min_size=1, max_size=2, reset=_no_reset, init=repository.init_connection
        )
        try:
            variants = {
                "repository": _repository(repository, sessions[0].id, count),
                "asyncpg CTE": _plain(connection, sessions[1].id),
                "asyncpg pool CTE": _pooled(pool, sessions[2].id),
                "asyncpg pool.execute": _pool_execute(quiet, sessions[3].id),
                "asyncpg repo SQL": _repository_sql(coded, sessions[4].id),
                "asyncpg transaction": _transaction(connection, sessions[5].id),
            }
            results = await _run(variants, count)
        finally:
            await pool.close()
            await quiet.close()
            await coded.close()
            await connection.close()
        for session in sessions:
            await repository.delete_session(session.id)
        shown = repository.display_url
    floor = results["asyncpg CTE"]
    print(f"{count} sequential appends per variant, interleaved, at {shown}")
    for name, seconds in results.items():
        each, ratio = seconds * 1e6 / count, seconds / floor
        print(f"  {name:<20} {each:8.1f} us/append {count / seconds:8.0f}/s  x{ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000))
