"""The in-memory backend: the default store, real code that passes the whole contract.

Everything lives in this process and is lost when it exits. Reads cost what they return:
a session's messages are an insertion-ordered list of ids (the newest ``n`` are a slice),
sessions are kept in (``last_activity``, ``id``) order globally and per user, and named
entities in (``name``, ``id``) order, with a separate ordering of the enabled ones so
``enabled_only`` filters before paging without a scan. The store holds copies: nothing a
caller passes in or gets back is shared with it.

Concurrency: safe for concurrent tasks on one event loop (no operation awaits between its
first read and its last write, so each one is atomic); not thread-safe.

Usage::

    from ai_agent.domain.models import Message, MessageRole, Session
    from ai_agent.infrastructure.database import InMemoryRepository

    async with InMemoryRepository() as repository:        # connect() ... disconnect()
        session = await repository.create_session(Session(user_id="user-1"))
        await repository.create_message(
            Message(session_id=session.id, role=MessageRole.USER, content="Hello")
        )
        recent = await repository.get_recent_messages(session.id, limit=10)
        print(recent[-1].content)                          # Hello
        await repository.delete_session(session.id)       # and its messages
"""

from __future__ import annotations

from ai_agent.infrastructure.database.memory._repository import InMemoryRepository

__all__ = ["InMemoryRepository"]
