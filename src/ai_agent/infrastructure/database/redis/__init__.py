"""Redis backend (redis-py asyncio): atomic Lua scripts, sorted-set indexes, cluster-ready.

Usage::

    from ai_agent.domain.models import Message, MessageRole, Session
    from ai_agent.infrastructure.database import RedisRepository

    url = "redis://localhost:6379/0"       # a cluster: from_url(url, cluster_mode=True)
    async with RedisRepository.from_url(url, session_ttl=3600) as repository:
        session = await repository.create_session(Session(user_id="user-1"))
        await repository.create_message(
            Message(session_id=session.id, role=MessageRole.USER, content="Hello")
        )
        print(len(await repository.get_messages_by_session(session.id)))   # 1
        await repository.delete_session(session.id)       # and its messages

``RedisRepository(settings)`` takes a ``RedisSettings``; ``RedisRepository(settings,
client=...)`` uses a client of yours (built with ``decode_responses=True``), which the
repository never closes.

Layout (``_keys.py`` has every key): a session, its messages (one hash), their insertion order
(a sorted set scored by a per-session sequence) and their reply links share the session's
``{sid}`` hash slot. Sessions are listed from sorted sets scored by ``last_activity`` in epoch
microseconds (exact in a double until the year 2255; equal scores list by id descending,
which is UUID order), one global and one per user. Catalog entities (agents, tools, MCP
servers, external services) share one ``{prefix}`` slot, with lexicographic sorted sets
(``name\\0id``) for name order, uniqueness and the enabled-only listing. A message id points
to its session through ``P:v1:message:{mid}``. No request ever uses ``KEYS`` or ``SCAN``; list
calls read many records per round trip.

TTL: ``session_ttl`` (0 = never) applies to a session's keys, refreshed by every write to the
session. Message pointers and the session indexes live 2 x TTL and are re-armed once per
TTL/2 of a session's activity (pointers in batches; indexes also on every session create
and update), so the cost per write stays constant, neither expires before a session it
serves, and an idle index vanishes 2 x TTL after its last re-arm. Entries of expired
sessions are dropped when a listing meets them. Catalog keys never expire.

What is atomic where:

* **Single server**: every write is one Lua script (EVALSHA), cross-slot keys included:
  ``create_message``/``create_messages`` check sessions, parents and duplicates (in the
  session and, through the pointer, in any other session) and then store, count, move
  ``last_activity``, update both indexes, set pointers and refresh TTLs, all or nothing;
  ``delete_session`` removes the session, every message, every index entry and pointer;
  ``pop_message`` picks the newest message and removes it in one script (two pops never
  get the same one), ``clear_messages`` empties the session likewise.
  Reads of one session are one script (a consistent snapshot). ``list_sessions`` reads an
  index and then its sessions (not a snapshot): an entry whose session is gone is dropped by
  a script that re-checks, so a re-created session keeps its entry.
* **Cluster**: everything within one slot is still one script, so a session with its
  messages, count, sequence and ``last_activity`` is always consistent, as is the whole
  catalog (names stay unique, ``mcp_server_id`` stays consistent). Cross-slot keys follow
  fixed orders and are repaired when read:

  - session indexes are written *after* the session's script, and dropped after it on
    delete. A crash in between leaves an entry missing (restored by the session's next
    write) or stale (a listing drops entries whose session is gone or belongs to another
    user, fixes stale scores and re-reads the page);
  - message pointers are claimed (``SET NX``) *before* the message is written, so a message
    id is unique across sessions; a pointer left by a crash is ignored (the message is
    looked up in its session), and once it is a minute old (younger, it may belong to a
    create under way) the next create of that id takes it over and ``delete_message``
    drops it. ``update_message`` falls back to the message's own session if its pointer
    is lost and restores it. ``delete_message``, ``pop_message``, ``clear_messages`` and
    ``delete_session`` drop pointers *after* the session's script, and only those still
    naming the session: a crash in between leaves a leftover, handled as above;
  - ``create_messages`` over several sessions claims every pointer, validates every
    session's part, and only then writes session by session; if a write still fails (a
    session deleted concurrently) the parts already written are deleted again (their
    ``last_activity`` stays moved). If the process or a server dies in the middle, each
    session got all of its messages of the batch or none, some sessions may have theirs,
    and leftover pointers are harmless.

Redis does not roll a script back when a command inside it fails at run time, so every
script validates everything before its first write; only an unexpected server-side failure
(a key of the wrong type written by someone else, out of memory) could stop one midway.

Modules, the same in every backend: ``_repository`` (the class, one method per contract
hook), ``_sessions``, ``_messages``, ``_catalog``, ``_states``, ``_maintenance`` (the
operations), ``_codec`` (models <-> stored values), ``_keys`` (the key layout),
``_queries`` (the Lua scripts of ``lua/``), ``_connection`` (client, pool policy,
scripts' invocation) and ``_errors`` (redis-py errors -> the error tree).
"""

from __future__ import annotations

from ai_agent.infrastructure.database.redis._repository import RedisRepository

__all__ = ["RedisRepository"]
