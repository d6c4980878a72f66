"""``RepositorySessionService`` at the edges, on every backend: what ADK's own services do
there (stale sessions, missing sessions, duplicate ids, partial events), 20 concurrent appends
to one session, ``last_update_time``, the event cache, and reads of more than one page.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events import Event, EventActions
from google.adk.sessions import Session
from google.adk.sessions.base_session_service import GetSessionConfig

from ai_agent.infrastructure.database import Repository
from ai_agent.integrations.adk import RepositorySessionService, session_key
from integration.adapters.adk_support import APP, USER, delta_event, service, text_event

__all__ = ["service"]


async def test_last_update_time_follows_the_events(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id=USER)
    created = session.last_update_time
    event = text_event("hello")
    await service.append_event(session, event)
    assert session.last_update_time == pytest.approx(event.timestamp, abs=1e-6)
    assert session.last_update_time >= created
    found = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert found is not None and found.last_update_time == session.last_update_time
    listed = (await service.list_sessions(app_name=APP, user_id=USER)).sessions
    assert [s.last_update_time for s in listed] == [session.last_update_time]


async def test_stale_session_is_refused(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id=USER)
    stale = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert stale is not None
    await service.append_event(session, delta_event({"app:x": 1, "k": 1}))
    with pytest.raises(StaleSessionError):
        await service.append_event(stale, delta_event({"app:x": 2, "k": 2}))
    assert stale.events == []
    fresh = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert fresh is not None and fresh.state == {"app:x": 1, "k": 1}
    await service.append_event(fresh, delta_event({"k": 3}))  # a reloaded session may append
    assert len(fresh.events) == 2


async def test_append_to_missing_session(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id=USER)
    await service.delete_session(app_name=APP, user_id=USER, session_id=session.id)
    with pytest.raises(SessionNotFoundError):
        await service.append_event(session, text_event("hi"))
    assert session.events == []
    ghost = Session(id="ghost", app_name=APP, user_id=USER)
    with pytest.raises(SessionNotFoundError):
        await service.append_event(ghost, text_event("hi"))


async def test_duplicate_session_id(service: RepositorySessionService) -> None:
    await service.create_session(app_name=APP, user_id=USER, session_id="dup", state={"a": 1})
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name=APP, user_id=USER, session_id="dup", state={"a": 2})
    results = await asyncio.gather(
        *(
            service.create_session(app_name=APP, user_id=USER, session_id="race", state={"i": i})
            for i in range(5)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Session) for r in results) == 1
    assert sum(isinstance(r, AlreadyExistsError) for r in results) == 4


async def test_repeated_event_id_is_rejected(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id=USER)
    event = delta_event({"k": 1})
    await service.append_event(session, event)
    with pytest.raises(AlreadyExistsError):
        await service.append_event(session, delta_event({"k": 2}, id=event.id))
    found = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert found is not None and found.events == [event] and found.state == {"k": 1}


async def test_partial_events_are_neither_stored_nor_added(
    service: RepositorySessionService,
) -> None:
    session = await service.create_session(app_name=APP, user_id=USER)
    partial = text_event("par", partial=True, actions=EventActions(state_delta={"k": 1}))
    assert await service.append_event(session, partial) is partial
    assert session.events == [] and session.state == {}
    found = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert found is not None and found.events == [] and found.state == {}


async def test_concurrent_appends_to_one_session(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id=USER)
    events = [
        delta_event({f"k{i}": i, "app:last": i, f"user:u{i}": i, "temp:t": i}) for i in range(20)
    ]
    await asyncio.gather(*(service.append_event(session, event) for event in events))
    found = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert found is not None
    assert sorted(e.id for e in found.events) == sorted(e.id for e in events)
    assert found.events == session.events  # same order in the object and in the store
    assert found.state == {k: v for k, v in session.state.items() if not k.startswith("temp:")}
    assert {k: v for k, v in found.state.items() if k.startswith("k")} == {
        f"k{i}": i for i in range(20)
    }
    assert found.last_update_time == session.last_update_time


async def test_read_events_are_copies_and_follow_updates(
    service: RepositorySessionService, repository: Repository
) -> None:
    session = await service.create_session(app_name=APP, user_id=USER, session_id="cached")
    event = text_event("original")
    await service.append_event(session, event)

    async def read() -> list[Event]:
        found = await service.get_session(app_name=APP, user_id=USER, session_id="cached")
        assert found is not None
        return found.events

    first = await read()
    assert first[0].content is not None and first[0].content.parts
    first[0].content.parts[0].text = "changed by the caller"
    assert await read() == [event]  # the caller's change reached nothing stored or cached

    # Changed in the store by someone else (another process, another adapter): seen.
    (stored,) = await repository.get_messages_by_session(session_key(APP, USER, "cached"))
    edited = text_event("edited", id=event.id, timestamp=event.timestamp)
    stored.metadata["adk"] = edited.model_dump(mode="json", exclude_none=True)
    await repository.update_message(stored)
    assert await read() == [edited]


async def test_more_events_than_one_page(service: RepositorySessionService) -> None:
    session = await service.create_session(app_name=APP, user_id=USER)
    events = [Event(author="user", timestamp=2000 + i) for i in range(1_100)]
    for event in events:
        await service.append_event(session, event)

    async def read(**config: Any) -> list[Event]:
        found = await service.get_session(
            app_name=APP, user_id=USER, session_id=session.id, config=GetSessionConfig(**config)
        )
        assert found is not None
        return found.events

    assert await read(num_recent_events=1_050) == events[50:]
    assert await read(after_timestamp=2020) == events[20:]
    assert await read(after_timestamp=2020, num_recent_events=1_090) == events[20:]
    assert await read(after_timestamp=2090, num_recent_events=1_090) == events[90:]
    whole = await service.get_session(app_name=APP, user_id=USER, session_id=session.id)
    assert whole is not None and whole.events == events
