"""``RepositorySessionService`` on every backend: ADK's own session-service scenarios.

Rewritten from google/adk-python ``tests/unittests/sessions/test_session_service.py`` (create,
get, list, delete, state scoping, bytes, complete events, ``GetSessionConfig``), plus the
mapping onto messages; the edges are in ``test_adk_edges.py``. Where it matters the result is
compared with ADK's ``InMemorySessionService`` fed the same calls.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.adk.events import Event, EventActions
from google.adk.sessions import InMemorySessionService, Session
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig
from google.genai import types

from ai_agent.domain.models import MessageRole
from ai_agent.infrastructure.database import Repository
from ai_agent.integrations.adk import RepositorySessionService, session_key
from integration.adapters.adk_support import APP, USER, delta_event, service, text_event
from integration.adapters.fakes import stored_call

__all__ = ["service"]


async def test_get_empty_session(service: RepositorySessionService) -> None:
    assert await service.get_session(app_name=APP, user_id=USER, session_id="123") is None


async def test_create_get_delete_session(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id=USER, state={"key": "value"})
    assert (session.app_name, session.user_id, session.state) == (APP, USER, {"key": "value"})
    assert session.id
    assert await service.get_session(app_name=APP, user_id=USER, session_id=session.id) == session
    # Sessions are scoped by app and user, as in ADK.
    assert await service.get_session(app_name=APP, user_id="other", session_id=session.id) is None
    assert await service.get_session(app_name="app2", user_id=USER, session_id=session.id) is None

    await service.delete_session(app_name=APP, user_id=USER, session_id=session.id)
    assert await service.get_session(app_name=APP, user_id=USER, session_id=session.id) is None
    await service.delete_session(app_name=APP, user_id=USER, session_id=session.id)  # no error


async def test_same_session_id_in_two_apps_and_users(service: RepositorySessionService) -> None:
    for app, user in [(APP, USER), ("app2", USER), (APP, "u2")]:
        await service.create_session(app_name=app, user_id=user, session_id="s", state={"a": app})
    found = await service.get_session(app_name="app2", user_id=USER, session_id="s")
    assert found is not None and found.state == {"a": "app2"}


async def test_create_and_list_sessions(service: RepositorySessionService) -> None:
    session_ids = [f"session{i}" for i in range(5)]
    for session_id in session_ids:
        await service.create_session(app_name=APP, user_id=USER, session_id=session_id)
    await service.create_session(app_name="other_app", user_id=USER, session_id="x")
    listed = (await service.list_sessions(app_name=APP, user_id=USER)).sessions
    assert [s.id for s in listed] == session_ids  # oldest update first
    assert all(not s.events for s in listed)


async def test_list_sessions_of_every_user_in_adk_order(
    service: RepositorySessionService,
) -> None:
    reference = InMemorySessionService()
    for user, session_id in [("u2", "b"), ("u1", "a"), ("u2", "c"), ("u3", "d")]:
        for svc in (service, reference):
            await svc.create_session(
                app_name=APP, user_id=user, session_id=session_id, state={"user:n": user}
            )
    await service.create_session(app_name="other_app", user_id="u1", session_id="z")
    ours = (await service.list_sessions(app_name=APP)).sessions
    theirs = (await reference.list_sessions(app_name=APP)).sessions
    assert [(s.user_id, s.id, s.state) for s in ours] == [
        (s.user_id, s.id, s.state) for s in theirs
    ]
    assert (await service.list_sessions(app_name="nobody")).sessions == []


async def test_session_state(service: RepositorySessionService) -> None:
    session_11 = await service.create_session(
        app_name=APP, user_id="user1", state={"key11": "value11"}, session_id="session11"
    )
    await service.create_session(
        app_name=APP, user_id="user1", state={"key12": "value12"}, session_id="session12"
    )
    await service.create_session(app_name=APP, user_id="user2", session_id="session2")
    assert session_11.state.get("key11") == "value11"

    event = delta_event(
        {"app:key": "value", "user:key1": "value1", "temp:key": "temp", "key11": "value11_new"}
    )
    await service.append_event(session=session_11, event=event)
    assert session_11.state.get("app:key") == "value"
    assert session_11.state.get("key11") == "value11_new"
    assert session_11.state.get("user:key1") == "value1"
    assert "temp:key" not in (event.actions.state_delta or {})  # never stored

    session_12 = await service.get_session(app_name=APP, user_id="user1", session_id="session12")
    assert session_12 is not None
    assert session_12.state == {"key12": "value12", "app:key": "value", "user:key1": "value1"}

    session_2 = await service.get_session(app_name=APP, user_id="user2", session_id="session2")
    assert session_2 is not None and session_2.state == {"app:key": "value"}

    reloaded = await service.get_session(app_name=APP, user_id="user1", session_id="session11")
    assert reloaded is not None
    assert reloaded.state == {"key11": "value11_new", "app:key": "value", "user:key1": "value1"}
    assert await service.get_user_state(app_name=APP, user_id="user1") == {"key1": "value1"}
    assert await service.get_user_state(app_name=APP, user_id="user2") == {}


async def test_create_new_session_will_merge_states(service: RepositorySessionService) -> None:
    session_1 = await service.create_session(
        app_name=APP, user_id="user", state={"key1": "value1"}, session_id="session1"
    )
    event = delta_event({"app:key": "value", "user:key1": "value1", "temp:key": "temp"})
    await service.append_event(session=session_1, event=event)
    assert session_1.state.get("temp:key") == "temp"  # the object keeps it for the invocation

    session_2 = await service.create_session(
        app_name=APP, user_id="user", state={}, session_id="session2"
    )
    assert session_2.state == {"app:key": "value", "user:key1": "value1"}


async def test_initial_app_and_user_state(service: RepositorySessionService) -> None:
    state = {"app:a": 1, "user:u": [1], "temp:t": 0, "s": {"x": None}}
    session = await service.create_session(app_name=APP, user_id=USER, state=state)
    assert session.state == {"app:a": 1, "user:u": [1], "s": {"x": None}}
    other = await service.create_session(app_name=APP, user_id="someone")
    assert other.state == {"app:a": 1}


async def test_append_event_bytes(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id="user")
    content = types.Content(
        role="user",
        parts=[types.Part.from_bytes(data=b"\x00\xfftest_image_data", mime_type="image/png")],
    )
    grounding = types.GroundingMetadata(
        search_entry_point=types.SearchEntryPoint(sdk_blob=b"test_sdk_blob\x00")
    )
    event = Event(
        invocation_id="invocation", author="user", content=content, grounding_metadata=grounding
    )
    await service.append_event(session=session, event=event)
    assert session.events[0].content == content

    reloaded = await service.get_session(app_name=APP, user_id="user", session_id=session.id)
    assert reloaded is not None
    assert reloaded.events == [event]
    assert reloaded.events[0].grounding_metadata == grounding


async def test_append_event_complete(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id="user")
    event = Event(
        invocation_id="invocation",
        author="user",
        content=types.Content(role="user", parts=[types.Part(text="test_text")]),
        turn_complete=True,
        partial=False,
        actions=EventActions(artifact_delta={"file": 0}, transfer_to_agent="agent", escalate=True),
        long_running_tool_ids={"tool1"},
        error_code="error_code",
        error_message="error_message",
        interrupted=True,
    )
    await service.append_event(session=session, event=event)
    assert await service.get_session(app_name=APP, user_id="user", session_id=session.id) == session


async def test_get_session_with_config(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id="user")
    for i in range(1, 6):
        await service.append_event(session, Event(author="user", timestamp=i))

    async def events(**config: Any) -> list[float]:
        found = await service.get_session(
            app_name=APP,
            user_id="user",
            session_id=session.id,
            config=GetSessionConfig(**config) if config else None,
        )
        assert found is not None
        return [event.timestamp for event in found.events]

    assert await events() == [1, 2, 3, 4, 5]
    assert await events(num_recent_events=3) == [3, 4, 5]
    assert await events(num_recent_events=0) == []
    assert await events(num_recent_events=50) == [1, 2, 3, 4, 5]
    assert await events(after_timestamp=4.0) == [4, 5]
    assert await events(after_timestamp=50) == []
    assert await events(after_timestamp=0.5) == [1, 2, 3, 4, 5]
    assert await events(after_timestamp=4.0, num_recent_events=3) == [4, 5]
    assert await events(after_timestamp=2.0, num_recent_events=2) == [4, 5]


async def test_after_timestamp_reads_back_beyond_the_first_window(
    service: RepositorySessionService, repository: Repository
) -> None:
    session = await service.create_session(app_name=APP, user_id="user")
    events = [Event(author="user", timestamp=1000 + i) for i in range(130)]
    for event in events:
        await service.append_event(session, event)
    found = await service.get_session(
        app_name=APP,
        user_id="user",
        session_id=session.id,
        config=GetSessionConfig(after_timestamp=1010),
    )
    assert found is not None and found.events == events[10:]


async def test_events_map_to_messages(
    service: RepositorySessionService, repository: Repository
) -> None:
    """The shared mapping: one conversation reads through the repository as plain messages."""
    session = await service.create_session(app_name=APP, user_id=USER, session_id="mapped")
    call = types.FunctionCall(id="c1", name="weather", args={"city": "Paris"})
    answer = types.FunctionResponse(id="c1", name="weather", response={"result": "sunny"})
    events = [
        text_event("Weather in Paris?"),
        Event(
            author="agent",
            content=types.Content(role="model", parts=[types.Part(function_call=call)]),
        ),
        Event(
            author="user",
            content=types.Content(role="user", parts=[types.Part(function_response=answer)]),
        ),
        text_event("Sunny.", author="agent"),
    ]
    for event in events:
        await service.append_event(session, event)
    key = session_key(APP, USER, "mapped")
    stored = await repository.get_messages_by_session(key)
    assert [(m.role, m.content) for m in stored] == [
        (MessageRole.USER, "Weather in Paris?"),
        (MessageRole.ASSISTANT, ""),
        (MessageRole.TOOL, ""),
        (MessageRole.ASSISTANT, "Sunny."),
    ]
    assert stored[1].tool_calls == [stored_call("c1", "weather", '{"city": "Paris"}')]
    assert stored[2].metadata["tool_call_id"] == "c1"
    assert [m.created_at.timestamp() for m in stored] == pytest.approx(
        [e.timestamp for e in events], abs=1e-6
    )
    found = await repository.get_session(key)
    assert found is not None and found.user_id == USER


async def test_matches_adk_in_memory_service(service: RepositorySessionService) -> None:
    """The same calls through ADK's own in-memory service give equal sessions."""
    reference = InMemorySessionService()
    ours_theirs: list[Session] = []
    for svc in (service, reference):
        s: BaseSessionService = svc
        session = await s.create_session(
            app_name=APP, user_id=USER, session_id="same", state={"a": 1, "app:b": 2}
        )
        for event in [delta_event({"a": 3, "user:c": [4]}, id="e1", timestamp=10**9 + 0.25)]:
            await s.append_event(session, event.model_copy(deep=True))
        found = await s.get_session(app_name=APP, user_id=USER, session_id="same")
        assert found is not None
        ours_theirs.append(found)
    ours, theirs = ours_theirs
    assert (ours.id, ours.state, ours.events) == (theirs.id, theirs.state, theirs.events)
