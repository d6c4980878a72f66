"""sqlite3 errors arrive as the error tree, naming what and which; failed writes change nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from ai_agent.domain.models import Agent, MCPServer, Message, MessageRole, Session, Tool
from ai_agent.infrastructure.database import errors
from ai_agent.infrastructure.database.sqlite import SQLiteRepository
from ai_agent.infrastructure.database.sqlite._errors import translate_error

pytestmark = pytest.mark.sqlite


def message(session: Session, parent_message_id: UUID | None = None) -> Message:
    return Message(
        session_id=session.id,
        role=MessageRole.USER,
        content="hi",
        parent_message_id=parent_message_id,
    )


async def test_a_taken_id_or_name_is_a_duplicate_naming_it(repository: SQLiteRepository) -> None:
    session = await repository.create_session(Session())
    with pytest.raises(errors.DuplicateError) as caught:
        await repository.create_session(Session(id=session.id))
    assert (caught.value.entity, caught.value.field, caught.value.value) == (
        "session",
        "id",
        session.id,
    )
    first = await repository.create_agent(Agent(name="planner"))
    second = await repository.create_agent(Agent(name="writer"))
    with pytest.raises(errors.DuplicateError, match="agent with name 'planner' already exists"):
        await repository.create_agent(Agent(name="planner"))
    with pytest.raises(errors.DuplicateError, match="agent with name 'planner'"):
        await repository.update_agent(second.model_copy(update={"name": "planner"}))
    assert await repository.list_agents() == [first, second]


async def test_a_missing_mcp_server_is_not_found(repository: SQLiteRepository) -> None:
    missing = uuid4()
    with pytest.raises(errors.NotFoundError, match=f"MCP server {missing} not found"):
        await repository.create_tool(Tool(name="t", mcp_server_id=missing))
    tool = await repository.create_tool(Tool(name="t"))
    with pytest.raises(errors.NotFoundError, match="MCP server"):
        await repository.update_tool(tool.model_copy(update={"mcp_server_id": missing}))
    assert await repository.list_tools() == [tool]


async def test_deleting_an_mcp_server_keeps_its_tools(repository: SQLiteRepository) -> None:
    server = await repository.create_mcp_server(MCPServer(name="s", endpoint="stdio://s"))
    tool = await repository.create_tool(Tool(name="t", mcp_server_id=server.id))
    assert await repository.delete_mcp_server(server.id) is True
    kept = await repository.get_tool(tool.id)
    assert kept == tool.model_copy(update={"mcp_server_id": None})


async def test_a_parent_in_another_session_is_not_found(
    repository: SQLiteRepository, two_sessions: tuple[Session, Session]
) -> None:
    one, other = two_sessions
    elsewhere = await repository.create_message(message(other))
    with pytest.raises(
        errors.NotFoundError, match=f"^parent message {elsewhere.id} not found in session {one.id}$"
    ):
        await repository.create_message(message(one, parent_message_id=elsewhere.id))
    stored = await repository.get_session(one.id)
    assert stored == one
    reply = await repository.create_message(message(one))
    with pytest.raises(errors.NotFoundError, match="not found in session"):
        await repository.update_message(
            reply.model_copy(update={"parent_message_id": elsewhere.id})
        )
    with pytest.raises(errors.RepositoryValidationError, match="cannot change"):
        await repository.update_message(reply.model_copy(update={"session_id": other.id}))
    with pytest.raises(errors.NotFoundError, match="message"):
        await repository.update_message(message(one))
    assert await repository.get_message(reply.id) == reply


@pytest.mark.parametrize("problem", ["missing-session", "stored-duplicate", "later-parent"])
async def test_a_bad_batch_stores_none_of_it(repository: SQLiteRepository, problem: str) -> None:
    session = await repository.create_session(Session())
    stored = await repository.create_message(message(session))
    good = [message(session), message(session)]
    bad = {
        "missing-session": message(Session()),
        "stored-duplicate": stored.model_copy(),
        "later-parent": message(session, parent_message_id=good[1].id),
    }[problem]
    error = errors.DuplicateError if problem == "stored-duplicate" else errors.NotFoundError
    with pytest.raises(error):
        await repository.create_messages([good[0], bad, good[1]])
    assert await repository.get_messages_by_session(session.id) == [stored]
    after = await repository.get_session(session.id)
    assert after is not None and after.message_count == 1


async def test_a_batch_may_reply_to_its_own_earlier_messages(
    repository: SQLiteRepository, two_sessions: tuple[Session, Session]
) -> None:
    one, two = two_sessions
    first = message(one)
    batch = [first, message(two), message(one, parent_message_id=first.id)]
    assert await repository.create_messages(batch) == batch
    assert await repository.get_messages_by_session(one.id) == [batch[0], batch[2]]
    counts = [(await repository.get_session(s.id)) for s in (one, two)]
    assert [s.message_count for s in counts if s is not None] == [2, 1]


async def test_deletes_cascade_and_clear_replies(repository: SQLiteRepository) -> None:
    session = await repository.create_session(Session())
    parent = await repository.create_message(message(session))
    reply = await repository.create_message(message(session, parent_message_id=parent.id))
    assert await repository.delete_message(parent.id) is True
    assert await repository.get_message(reply.id) == reply.model_copy(
        update={"parent_message_id": None}
    )
    counted = await repository.get_session(session.id)
    assert counted is not None and counted.message_count == 1
    assert await repository.delete_session(session.id) is True
    assert await repository.get_message(reply.id) is None
    assert await repository.delete_session(session.id) is False
    assert await repository.delete_message(reply.id) is False


async def test_driver_errors_map_by_constraint(tmp_path: Path) -> None:
    where = "sqlite:///x.db"
    with closing(sqlite3.connect(":memory:")) as raw:
        raw.execute(
            "CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT, seq INT, "
            "UNIQUE (session_id, seq), CHECK (seq > 0))"
        )
        raw.execute("INSERT INTO messages VALUES ('a', 's', 1)")
        translated = {}
        for name, sql in {
            "pk": "INSERT INTO messages VALUES ('a', 's', 2)",
            "seq": "INSERT INTO messages VALUES ('b', 's', 1)",
            "check": "INSERT INTO messages VALUES ('c', 's', 0)",
            "other": "SELECT * FROM nowhere_at_all",
            "syntax": "SELEKT 1",
        }.items():
            with pytest.raises(sqlite3.Error) as caught:
                raw.execute(sql)
            translated[name] = translate_error(caught.value, where)
    assert isinstance(translated["pk"], errors.DuplicateError) and translated["pk"].field == "id"
    assert isinstance(translated["seq"], errors.ConflictError)
    assert isinstance(translated["check"], errors.RepositoryValidationError)
    assert type(translated["other"]) is errors.RepositoryError and "ai-agent db migrate" in str(
        translated["other"]
    )
    assert type(translated["syntax"]) is errors.RepositoryError and where in str(
        translated["syntax"]
    )
    assert isinstance(
        translate_error(ValueError("Connection closed"), where), errors.RepositoryConnectionError
    )
    assert translate_error(ValueError("some bug"), where) is None
    assert translate_error(KeyError("x"), where) is None


async def test_a_lone_surrogate_never_reaches_the_driver(repository: SQLiteRepository) -> None:
    # UTF-8 cannot hold one. The models refuse it; smuggled past them it is refused again, and
    # should sqlite3 ever meet one while binding, that is a validation error too.
    smuggled = Agent.model_construct(**{**Agent(name="a").__dict__, "description": "\ud800"})
    with pytest.raises(errors.RepositoryValidationError):
        await repository.create_agent(smuggled)
    assert await repository.list_agents() == []
    try:
        "x\udfffy".encode()
    except UnicodeEncodeError as exc:
        error = translate_error(exc, "sqlite:///x.db")
    assert isinstance(error, errors.RepositoryValidationError)
    assert "U+DFFF" in str(error) and "x\udfffy" not in str(error)
