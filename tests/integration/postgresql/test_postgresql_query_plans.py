"""The listing queries are index range scans: EXPLAIN shows the index, a Limit, and no Sort.

The tables are filled with enough rows (23,000 sessions of 202 users, 26,000 messages, 3,000
of each catalog entity) and ANALYZEd, so the planner chooses freely; nothing is disabled.
The statements explained are the repository's own (``_queries``), with real parameters.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

import pytest

from ai_agent.infrastructure.database.postgresql import PostgreSQLRepository
from ai_agent.infrastructure.database.postgresql import _queries as q

pytestmark = pytest.mark.postgresql

LONG = UUID("00000000-0000-4000-8000-000000000001")  # 20,000 messages
SHORT = UUID("00000000-0000-4000-8000-000000000002")  # 60 messages
SESSIONS = 23002

SEED = f"""
INSERT INTO sessions (id, user_id, title, metadata, last_activity, created_at, updated_at)
SELECT gen_random_uuid(), CASE WHEN g <= 3000 THEN 'heavy' ELSE 'user-' || (g % 200) END,
       'title', '{{}}', now() - g * interval '1 second', now(), now()
  FROM generate_series(1, 23000) AS g;
INSERT INTO sessions (id, user_id, title, metadata, last_activity, created_at, updated_at)
SELECT id, 'target', 'title', '{{}}', now(), now(), now()
  FROM (VALUES ('{LONG}'::uuid), ('{SHORT}'::uuid)) AS s(id);
INSERT INTO messages (id, session_id, role, content, metadata, tool_calls, created_at,
                      updated_at)
SELECT gen_random_uuid(), s.id, 'user', 'message ' || g, '{{}}', '[]', now(), now()
  FROM (SELECT id FROM sessions WHERE user_id IN ('user-1', 'user-2', 'user-3')
         ORDER BY id LIMIT 20) AS s, generate_series(1, 300) AS g;
INSERT INTO messages (id, session_id, role, content, metadata, tool_calls, created_at,
                      updated_at)
SELECT gen_random_uuid(), '{LONG}', 'assistant', 'message ' || g, '{{}}', '[]', now(), now()
  FROM generate_series(1, 20000) AS g;
INSERT INTO messages (id, session_id, role, content, metadata, tool_calls, created_at,
                      updated_at)
SELECT gen_random_uuid(), '{SHORT}', 'user', 'message ' || g, '{{}}', '[]', now(), now()
  FROM generate_series(1, 60) AS g;
INSERT INTO agents (id, name, llm_config, tools, status, metadata, created_at, updated_at)
SELECT gen_random_uuid(), 'agent-' || g, '{{}}', '[]', 'idle', '{{}}', now(), now()
  FROM generate_series(1, 3000) AS g;
INSERT INTO tools (id, name, tool_schema, enabled, metadata, created_at, updated_at)
SELECT gen_random_uuid(), 'tool-' || g, '{{}}', g % 3 <> 0, '{{}}', now(), now()
  FROM generate_series(1, 3000) AS g;
INSERT INTO mcp_servers (id, name, endpoint, authentication, capabilities, enabled,
                         created_at, updated_at)
SELECT gen_random_uuid(), 'mcp-' || g, 'http://x', '{{}}', '[]', g % 3 <> 0, now(), now()
  FROM generate_series(1, 3000) AS g;
INSERT INTO external_services (id, name, service_type, endpoint, authentication,
                               retry_config, circuit_breaker_config, enabled, created_at,
                               updated_at)
SELECT gen_random_uuid(), 'service-' || (g % 1500), 'cache', 'http://x', '{{}}', '{{}}',
       '{{}}', g % 3 <> 0, now(), now()
  FROM generate_series(1, 3000) AS g;
ANALYZE sessions, messages, agents, tools, mcp_servers, external_services;
"""


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _explain(
    repository: PostgreSQLRepository, sql: str, *args: Any, analyze: bool = False
) -> dict[str, Any]:
    assert repository.pool is not None
    options = "ANALYZE, BUFFERS, " if analyze else ""
    async with repository.pool.acquire() as connection:
        result = await connection.fetchval(f"EXPLAIN ({options}FORMAT JSON) {sql}", *args)
    document = result if isinstance(result, list) else json.loads(result)
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


def _assert_index_range_scan(plan: dict[str, Any], index: str, direction: str = "Forward") -> None:
    nodes = list(_nodes(plan))
    kinds = [node["Node Type"] for node in nodes]
    assert plan["Node Type"] == "Limit", kinds
    assert not {"Sort", "Incremental Sort", "Seq Scan", "Bitmap Heap Scan"} & set(kinds), kinds
    scans = [node for node in nodes if node["Node Type"] in ("Index Scan", "Index Only Scan")]
    assert [scan["Index Name"] for scan in scans] == [index], scans
    assert scans[0]["Scan Direction"] == direction


@pytest.fixture
async def seeded(
    database_url: Callable[[str], Awaitable[str]],
    make_repository: Callable[[str], PostgreSQLRepository],
    truncate: Callable[[PostgreSQLRepository], Awaitable[None]],
) -> AsyncIterator[PostgreSQLRepository]:
    """A database of its own, seeded once (tests here only read)."""
    async with make_repository(await database_url("plans")) as repository:
        assert repository.pool is not None
        async with repository.pool.acquire() as connection:
            seeded = await connection.fetchval("SELECT count(*) FROM sessions") == SESSIONS
        if not seeded:
            await truncate(repository)
            async with repository.pool.acquire() as connection:
                await connection.execute(SEED)
        yield repository


async def test_list_sessions_of_a_user_scans_the_user_activity_index(
    seeded: PostgreSQLRepository,
) -> None:
    plan = await _explain(seeded, q.LIST_USER_SESSIONS.sql, "user-7", 20, 0)
    _assert_index_range_scan(plan, "ix_sessions_user_activity")
    # Paging deeper into a user with many sessions still walks the index. (For a user whose
    # page is most of their ~100 sessions, the planner rightly prefers reading them all and
    # sorting: the cost then is that user's sessions, still not anyone else's.)
    page = await _explain(seeded, q.LIST_USER_SESSIONS.sql, "heavy", 20, 400)
    _assert_index_range_scan(page, "ix_sessions_user_activity")


async def test_list_all_sessions_scans_the_activity_index(seeded: PostgreSQLRepository) -> None:
    plan = await _explain(seeded, q.SESSION_SQL.list_all.sql, 100, 0)
    _assert_index_range_scan(plan, "ix_sessions_activity")


async def test_recent_messages_scan_the_session_sequence_backwards(
    seeded: PostgreSQLRepository,
) -> None:
    plan = await _explain(seeded, q.RECENT_MESSAGES.sql, LONG, 50)
    _assert_index_range_scan(plan, "uq_messages_session_seq", direction="Backward")


async def test_messages_of_a_session_scan_the_session_sequence(
    seeded: PostgreSQLRepository,
) -> None:
    plan = await _explain(seeded, q.MESSAGES_BY_SESSION.sql, LONG, 100, 500)
    _assert_index_range_scan(plan, "uq_messages_session_seq")


async def test_recent_messages_cost_does_not_grow_with_history(
    seeded: PostgreSQLRepository,
) -> None:
    def touched(plan: dict[str, Any]) -> int:
        return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])

    long = await _explain(seeded, q.RECENT_MESSAGES.sql, LONG, 50, analyze=True)
    short = await _explain(seeded, q.RECENT_MESSAGES.sql, SHORT, 50, analyze=True)
    assert long["Actual Rows"] == short["Actual Rows"] == 50
    # 20,000 messages against 60: the same handful of index and heap pages.
    assert touched(long) <= touched(short) + 5, (touched(long), touched(short))


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        (q.CATALOG_SQL["agents"].list_all, "uq_agents_name"),
        (q.CATALOG_SQL["tools"].list_all, "uq_tools_name"),
        (q.CATALOG_SQL["tools"].list_enabled, "ix_tools_enabled_name"),
        (q.CATALOG_SQL["mcp_servers"].list_all, "uq_mcp_servers_name"),
        (q.CATALOG_SQL["mcp_servers"].list_enabled, "ix_mcp_servers_enabled_name"),
        (q.CATALOG_SQL["external_services"].list_all, "ix_external_services_name"),
        (q.CATALOG_SQL["external_services"].list_enabled, "ix_external_services_enabled_name"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_catalog_listings_scan_their_name_index(
    seeded: PostgreSQLRepository, statement: q.Statement | None, index: str
) -> None:
    assert statement is not None
    plan = await _explain(seeded, statement.sql, 100, 0)
    _assert_index_range_scan(plan, index)
