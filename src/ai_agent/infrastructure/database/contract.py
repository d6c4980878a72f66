"""The repository contract: what every storage backend promises, documented once.

Implementations (memory, SQLite, Redis, PostgreSQL) do not repeat these docstrings; the
shared contract suite in ``tests/contract`` proves every rule below on every backend.

General rules:

* ``create_*`` and ``update_*`` return the stored entity as a new object and never change
  their argument; a later ``get_*`` returns an equal object, field for field.
* Arguments are validated again (a model built with ``model_construct`` or mutated past
  validation is caught) and rejected with ``RepositoryValidationError``.
* A call rejected with any error but ``RepositoryConnectionError`` leaves the stored data
  exactly as it was. A ``RepositoryConnectionError`` does not say whether a write was
  applied (the connection may have broken after the server committed).
* With retries on (``FEATURE_ENABLE_RETRIES`` and a ``retry_policy``), a create whose earlier
  attempt was stored but whose reply was lost returns that one stored copy, and a delete
  whose earlier attempt lost its connection returns ``True`` even when the attempt that
  succeeded found nothing left.
* ``limit`` must be 1..1000 and ``offset`` >= 0.
* Any method other than ``connect`` and ``health_check`` raises
  ``RepositoryConnectionError`` before ``connect()`` or after ``disconnect()``.
* The repository owns ``updated_at`` (set to now on every update), ``created_at`` (kept from
  the caller on create, never changed by update) and ``Session.message_count``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable
from uuid import UUID

from ai_agent.domain.models import Agent, ExternalService, MCPServer, Message, Session, Tool

__all__ = ["DEFAULT_ITER_BATCH", "DEFAULT_LIST_LIMIT", "MAX_LIMIT", "Repository"]

MAX_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100
DEFAULT_ITER_BATCH = 500


@runtime_checkable
class Repository(Protocol):
    """Storage for sessions, messages, agents, tools, MCP servers and external services."""

    # -- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open connections. Idempotent; a repository that was disconnected can reconnect."""

    async def disconnect(self) -> None:
        """Close what ``connect`` opened. Idempotent. Stored data is kept.

        Every ``connect`` needs one, in the same event loop: a repository collected while
        connected, or still connected at interpreter exit, costs a ``ResourceWarning``.
        """

    async def health_check(self) -> bool:
        """Return whether the store answers now. Never raises."""

    async def __aenter__(self) -> Self:
        """Connect, and return the repository."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect."""

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(self, session: Session) -> Session:
        """Store a new session with ``message_count`` 0 whatever the caller passed.

        ``created_at`` and ``last_activity`` are kept from the argument.

        Raises:
            DuplicateError: a session with this id exists.
        """

    async def get_session(self, session_id: UUID) -> Session | None:
        """Return the session, or ``None`` when there is none with this id."""

    async def list_sessions(
        self, user_id: str | None = None, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Session]:
        """Return sessions, most recently active first (``last_activity`` desc, then ``id`` desc).

        With ``user_id`` (an empty string is a user id like any other), only that user's
        sessions; the cost does not depend on how many other users' sessions exist.
        """

    async def update_session(self, session: Session) -> Session:
        """Replace the caller-owned fields of a stored session.

        ``message_count`` and ``created_at`` keep their stored values; ``updated_at`` becomes
        now; ``last_activity`` is taken from the argument. Changing ``user_id`` moves the
        session to the new user's listing.

        Raises:
            NotFoundError: no session has this id.
        """

    async def delete_session(self, session_id: UUID) -> bool:
        """Delete the session and all of its messages atomically; return whether it existed."""

    # -- messages ----------------------------------------------------------------------------

    async def create_message(self, message: Message) -> Message:
        """Append a message to its session.

        In one atomic step: stores the message, adds 1 to the session's ``message_count`` and
        moves its ``last_activity`` to the later of its value and the message's
        ``created_at``. N concurrent calls add exactly N.

        Raises:
            NotFoundError: the session, or ``parent_message_id`` within that session, is missing.
            DuplicateError: a message with this id exists.
        """

    async def create_messages(self, messages: Sequence[Message]) -> list[Message]:
        """Append a batch, possibly for several sessions, in list order; all or nothing.

        Each message has the effect of ``create_message``. A missing session or parent, or a
        duplicate id (in the store or within the batch), stores none of the batch. An empty
        list returns an empty list.
        """

    async def get_message(self, message_id: UUID) -> Message | None:
        """Return the message, or ``None``."""

    async def get_messages_by_session(
        self, session_id: UUID, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Message]:
        """Return a session's messages in insertion order (oldest first); ``[]`` if unknown."""

    async def get_recent_messages(self, session_id: UUID, limit: int = 50) -> list[Message]:
        """Return the newest ``limit`` messages, oldest first.

        The cost does not depend on the session's length.
        """

    async def update_message(self, message: Message) -> Message:
        """Replace a stored message's fields; ``updated_at`` becomes now.

        Raises:
            NotFoundError: no message has this id, or the new parent is missing.
            RepositoryValidationError: the message's ``session_id`` would change.
        """

    async def delete_message(self, message_id: UUID) -> bool:
        """Delete a message and decrement its session's ``message_count``.

        Replies to it keep existing with ``parent_message_id`` cleared. Returns whether it
        existed.
        """

    # -- conversation helpers: what framework adapters need --------------------------------

    async def get_or_create_session(self, session: Session) -> tuple[Session, bool]:
        """Return the stored session with ``session.id`` and whether this call created it.

        When none exists, ``session`` is created as by ``create_session``; otherwise the
        stored one is returned unchanged (``session``'s other fields are ignored). Concurrent
        callers with one id get one session, and exactly one of them gets ``True``.
        """

    async def pop_message(self, session_id: UUID) -> Message | None:
        """Remove the session's newest message and return it; ``None`` when it has none.

        Atomic like ``delete_message`` (``message_count`` drops by one, replies keep existing
        with ``parent_message_id`` cleared); concurrent pops never return the same message.
        Never retried: after a ``RepositoryConnectionError`` the message may or may not be
        gone.
        """

    async def clear_messages(self, session_id: UUID) -> int:
        """Delete every message of the session atomically and return how many there were.

        The session stays with all of its fields, ``message_count`` 0. An unknown session
        returns 0.
        """

    def iter_messages(
        self, session_id: UUID, batch_size: int = DEFAULT_ITER_BATCH
    ) -> AsyncIterator[Message]:
        """Iterate over the session's whole history, oldest first, ``batch_size`` per read.

        Pages follow insertion position, not offset, so each read costs the same however
        long the history is; messages appended while iterating are met at the end, deleted
        ones are skipped. An unknown session yields nothing. Arguments are checked when
        called (``batch_size`` 1..1000), not at the first ``async for`` step.
        """

    # -- scoped state: what framework adapters need beside sessions ------------------------

    async def get_states(self, scopes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Return the stored state of each scope, keyed by scope; ``{}`` for one never written.

        A *scope* names one JSON object that the caller shares between sessions as it
        chooses (1 to 1024 bytes of UTF-8 without NUL; at most 1000 per call). Its keys (up
        to 1024 bytes) are stored one by one, so a read costs what it returns. State is
        never deleted with a session and never expires (Redis included).
        """

    async def create_session_with_state(
        self, session: Session, *, state: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Session:
        """``create_session``, merging each ``state[scope]`` delta into its scope atomically.

        A merge is shallow, key by key: each key of a delta replaces the stored key (a JSON
        ``null`` is stored as ``null``), the other keys stay. Scopes are written in code-point
        order (row locks too), so concurrent writers cannot deadlock.

        Raises:
            DuplicateError: a session with this id exists; no state changed.
        """

    async def append_message_with_state(
        self,
        message: Message,
        *,
        state: Mapping[str, Mapping[str, Any]] | None = None,
        session_state: Mapping[str, Any] | None = None,
        if_last_activity: datetime | None = None,
    ) -> Message:
        """``create_message``, with state deltas, in one atomic step.

        In that step: refuse when ``if_last_activity`` is given and the stored session's
        ``last_activity`` is later; store the message as ``create_message`` does; merge each
        ``state[scope]`` delta as ``create_session_with_state`` does; merge ``session_state``
        (key by key) into the session's ``metadata["state"]`` object (any other value there
        is replaced) and set the session's ``updated_at`` to now. On Redis Cluster the
        scopes live in other hash slots: their deltas are written right after the atomic
        step, in scope order, and a crash in between loses them.

        Raises:
            NotFoundError: the session, or the parent message, is missing.
            DuplicateError: a message with this id exists (checked before ``if_last_activity``,
                so a retried call recognises its own earlier write).
            ConflictError: the session's ``last_activity`` is later than ``if_last_activity``;
                nothing was written, and retrying the same call cannot succeed.
        """

    # -- agents ------------------------------------------------------------------------------

    async def create_agent(self, agent: Agent) -> Agent:
        """Store a new agent. Raises ``DuplicateError`` when the id or the name is taken."""

    async def get_agent(self, agent_id: UUID) -> Agent | None:
        """Return the agent, or ``None``."""

    async def list_agents(self, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0) -> list[Agent]:
        """Return agents by ``name`` in code-point order, then ``id``."""

    async def update_agent(self, agent: Agent) -> Agent:
        """Replace an agent. Raises ``NotFoundError``, or ``DuplicateError`` on a taken name."""

    async def delete_agent(self, agent_id: UUID) -> bool:
        """Delete an agent; return whether it existed."""

    # -- tools -------------------------------------------------------------------------------

    async def create_tool(self, tool: Tool) -> Tool:
        """Store a new tool.

        Raises:
            DuplicateError: the id or the name is taken.
            NotFoundError: ``mcp_server_id`` names no MCP server.
        """

    async def get_tool(self, tool_id: UUID) -> Tool | None:
        """Return the tool, or ``None``."""

    async def list_tools(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[Tool]:
        """Return tools by ``name``, then ``id``; ``enabled_only`` filters before paging."""

    async def update_tool(self, tool: Tool) -> Tool:
        """Replace a tool; the same errors as ``create_tool`` plus ``NotFoundError`` for the id."""

    async def delete_tool(self, tool_id: UUID) -> bool:
        """Delete a tool; return whether it existed."""

    # -- MCP servers -------------------------------------------------------------------------

    async def create_mcp_server(self, server: MCPServer) -> MCPServer:
        """Store a new MCP server. Raises ``DuplicateError`` when the id or name is taken."""

    async def get_mcp_server(self, server_id: UUID) -> MCPServer | None:
        """Return the MCP server, or ``None``."""

    async def list_mcp_servers(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[MCPServer]:
        """Return MCP servers by ``name``, then ``id``; ``enabled_only`` filters before paging."""

    async def update_mcp_server(self, server: MCPServer) -> MCPServer:
        """Replace an MCP server. Raises ``NotFoundError``, or ``DuplicateError`` for its name."""

    async def delete_mcp_server(self, server_id: UUID) -> bool:
        """Delete an MCP server; its tools stay, with ``mcp_server_id`` cleared."""

    # -- external services -------------------------------------------------------------------

    async def create_external_service(self, service: ExternalService) -> ExternalService:
        """Store a new external service. Raises ``DuplicateError`` when the id is taken."""

    async def get_external_service(self, service_id: UUID) -> ExternalService | None:
        """Return the external service, or ``None``."""

    async def list_external_services(
        self, enabled_only: bool = True, limit: int = DEFAULT_LIST_LIMIT, offset: int = 0
    ) -> list[ExternalService]:
        """Return external services by ``name``, then ``id``; ``enabled_only`` filters first."""

    async def update_external_service(self, service: ExternalService) -> ExternalService:
        """Replace an external service. Raises ``NotFoundError`` for an unknown id."""

    async def delete_external_service(self, service_id: UUID) -> bool:
        """Delete an external service; return whether it existed."""
