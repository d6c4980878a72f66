"""What only the in-memory backend can show: its indexes empty out, and it needs no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from ai_agent.domain.models import Agent, MCPServer, Message, MessageRole, Session, Tool
from ai_agent.infrastructure.database import (
    InMemoryRepository,
    Repository,
    RepositoryConnectionError,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


async def test_never_connected_refuses_every_call() -> None:
    repository = InMemoryRepository()

    assert isinstance(repository, Repository)
    assert await repository.health_check() is False
    for call in (
        repository.create_session(Session()),
        repository.get_session(uuid4()),
        repository.list_sessions(),
        repository.create_messages([]),
        repository.get_recent_messages(uuid4()),
        repository.list_tools(),
        repository.delete_external_service(uuid4()),
    ):
        with pytest.raises(RepositoryConnectionError):
            await call


async def test_deletes_leave_no_index_entries_behind() -> None:
    async with InMemoryRepository() as repository:
        for round_number in range(3):
            sessions = [
                await repository.create_session(Session(user_id=f"user-{i}", last_activity=T0))
                for i in range(5)
            ]
            for i, session in enumerate(sessions):
                root = await repository.create_message(
                    Message(session_id=session.id, role=MessageRole.USER, content="q")
                )
                await repository.create_message(
                    Message(
                        session_id=session.id,
                        role=MessageRole.ASSISTANT,
                        content="a",
                        parent_message_id=root.id,
                        created_at=T0 + timedelta(seconds=round_number * 10 + i),
                    )
                )
                if i % 2:
                    await repository.delete_message(root.id)
            server = await repository.create_mcp_server(MCPServer(name="s", endpoint="e"))
            tool = await repository.create_tool(Tool(name="t", mcp_server_id=server.id))
            agent = await repository.create_agent(Agent(name="a"))
            for session in sessions:
                await repository.delete_session(session.id)
            await repository.delete_mcp_server(server.id)
            await repository.delete_tool(tool.id)
            await repository.delete_agent(agent.id)

        session_store, message_store = repository._sessions, repository._messages
        assert not session_store.records
        assert not message_store.messages and not message_store.threads
        assert not message_store.replies
        assert not session_store.by_user
        assert len(session_store.by_activity) == 0
        assert not repository._catalogs.tool_links.by_server
        for catalog in repository._catalogs.by_kind.values():
            assert not catalog.items and not catalog._by_name
            assert len(catalog._all) == 0 and len(catalog._enabled) == 0


async def test_returned_entities_are_ordinary_validating_models() -> None:
    async with InMemoryRepository() as repository:
        session = await repository.create_session(Session(metadata={"a": [1]}))
        fetched = await repository.get_session(session.id)
        assert fetched is not None

        with pytest.raises(ValidationError):
            fetched.title = "\x00"
        fetched.title = "fine"
        assert fetched.model_dump()["metadata"] == {"a": [1]}
        assert fetched.model_fields_set == session.model_fields_set


async def test_each_repository_has_its_own_store() -> None:
    async with InMemoryRepository() as first, InMemoryRepository() as second:
        await first.create_session(Session())

        assert await second.list_sessions() == []
