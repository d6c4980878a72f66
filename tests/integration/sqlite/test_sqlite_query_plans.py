"""Every listing is an index walk: no sort step, no scan of other sessions' or users' rows.

Checked with ``EXPLAIN QUERY PLAN`` on the statements the repository runs, and by timing
that reading the last messages of a long session costs what reading them in a short one does.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from ai_agent.domain.models import Message, MessageRole, Session
from ai_agent.infrastructure.database.catalog import AGENTS, EXTERNAL_SERVICES, MCP_SERVERS, TOOLS
from ai_agent.infrastructure.database.sqlite import SQLiteRepository
from ai_agent.infrastructure.database.sqlite import _queries as queries
from ai_agent.infrastructure.database.sqlite._codec import MESSAGES, catalog_table

pytestmark = pytest.mark.sqlite


async def plan(repository: SQLiteRepository, sql: str, parameters: Any) -> list[str]:
    rows = await repository._connection.driver().execute_fetchall(
        f"EXPLAIN QUERY PLAN {sql}", parameters
    )
    return [str(row[3]) for row in rows]


def assert_index_walk(steps: list[str], index: str) -> None:
    assert not any("TEMP B-TREE" in step for step in steps), steps
    assert any(f"INDEX {index}" in step for step in steps), steps


@pytest.mark.parametrize(
    ("sql", "parameters", "expected"),
    [
        (
            queries.LIST_USER_SESSIONS,
            ("user", 10, 0),
            "SEARCH sessions USING INDEX ix_sessions_user_activity (user_id=?)",
        ),
        # All users: walk the activity index from its newest end, stop after the page.
        (queries.LIST_SESSIONS, (10, 0), "SCAN sessions USING INDEX ix_sessions_activity"),
        # (session_id, seq) is the unique constraint's index: in order, and the last n.
        (
            queries.MESSAGES_IN_ORDER,
            ("s", 10, 0),
            "SEARCH messages USING INDEX sqlite_autoindex_messages_2 (session_id=?)",
        ),
        (
            queries.NEWEST_MESSAGES,
            ("s", 10),
            "SEARCH messages USING INDEX sqlite_autoindex_messages_2 (session_id=?)",
        ),
    ],
    ids=["sessions-of-user", "sessions", "messages-in-order", "recent-messages"],
)
async def test_conversation_reads_walk_an_index(
    repository: SQLiteRepository, sql: str, parameters: Any, expected: str
) -> None:
    assert await plan(repository, sql, parameters) == [expected]


async def test_numbering_a_message_reads_one_index_entry(repository: SQLiteRepository) -> None:
    row = dict.fromkeys(MESSAGES.columns)
    steps = await plan(repository, queries.INSERT_MESSAGE, row)
    assert (
        "SEARCH messages USING COVERING INDEX sqlite_autoindex_messages_2 (session_id=?)" in steps
    )
    assert not any(step.startswith("SCAN messages") for step in steps), steps


@pytest.mark.parametrize(
    ("kind", "statement", "index"),
    [
        (AGENTS, "list", "sqlite_autoindex_agents_2"),  # uq_agents_name
        (TOOLS, "list", "sqlite_autoindex_tools_2"),
        (TOOLS, "list_enabled", "ix_tools_enabled_name"),
        (MCP_SERVERS, "list", "sqlite_autoindex_mcp_servers_2"),
        (MCP_SERVERS, "list_enabled", "ix_mcp_servers_enabled_name"),
        (EXTERNAL_SERVICES, "list", "ix_external_services_name"),
        (EXTERNAL_SERVICES, "list_enabled", "ix_external_services_enabled_name"),
    ],
)
async def test_catalog_listings_walk_a_name_index(
    repository: SQLiteRepository, kind: Any, statement: str, index: str
) -> None:
    statements = queries.catalog_statements(catalog_table(kind))
    steps = await plan(repository, getattr(statements, statement), (10, 0))
    assert_index_walk(steps, index)


async def test_the_last_messages_cost_the_same_in_a_long_session(
    repository: SQLiteRepository, two_sessions: tuple[Session, Session]
) -> None:
    long, short = two_sessions
    for start in range(0, 20_000, 1000):
        await repository.create_messages(
            [
                Message(session_id=long.id, role=MessageRole.USER, content=str(index))
                for index in range(start, start + 1000)
            ]
        )
    await repository.create_messages(
        [Message(session_id=short.id, role=MessageRole.USER, content="x") for _ in range(20)]
    )

    async def cost(session: Session) -> float:
        began = time.perf_counter()
        for _ in range(50):
            recent = await repository.get_recent_messages(session.id, 20)
        assert len(recent) == 20
        return time.perf_counter() - began

    await cost(long)  # warm up
    assert await cost(long) < 3 * await cost(short) + 0.05
    newest = await repository.get_recent_messages(long.id, 3)
    assert [m.content for m in newest] == ["19997", "19998", "19999"]
