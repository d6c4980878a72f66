"""Every Redis key shape of the backend, in one place.

All keys start with ``<prefix>:v1:`` (``v1`` is the schema version: a layout change gets a
new version instead of a migration). ``{...}`` is a Redis Cluster hash tag:

=========================================  ======  ==============================================
key                                        type    holds
=========================================  ======  ==============================================
``P:v1:session:{sid}``                     hash    ``doc`` (JSON), ``created``, ``activity``
                                                   (epoch µs), ``count``, ``seq``, ``user``
                                                   (absent for ``None``), ``ptr`` (see pointers)
``P:v1:session:{sid}:messages``            hash    message id -> frame ``created\\0parent\\0JSON``
``P:v1:session:{sid}:order``               zset    message id, score = insertion sequence
``P:v1:session:{sid}:replies``             hash    parent id -> its replies' ids, concatenated
``P:v1:message:{mid}``                     string  ``<session id>|<written at, µs>`` (pointer)
``P:v1:sessions``                          zset    session id, score = last_activity (epoch µs)
``P:v1:user-sessions:<user_id>``           zset    the same, for one user
``P:v1:catalog:{P}:<kind>s``               hash    id -> frame ``created\\0link\\0name\\0JSON``
``P:v1:catalog:{P}:<kind>s:by-name``       zset    ``name\\0id``, score 0 (lexicographic)
``P:v1:catalog:{P}:<kind>s:enabled``       zset    the same, enabled entities only
``P:v1:catalog:{P}:mcp_servers:tools``     hash    MCP server id -> its tools' ids, concatenated
``P:v1:state:<scope>``                     hash    state key -> JSON value (``get_states``); no TTL
=========================================  ======  ==============================================

A session and everything under it share the ``{sid}`` slot; the catalog (agents, tools, MCP
servers, external services) shares one ``{P}`` slot per prefix; a state scope's hash sits in
whatever slot its name hashes to (a ``{...}`` in the name is a hash tag, as anywhere). The
Lua scripts receive the session-side shapes as ``%s`` templates from
:meth:`KeySpace.templates`, so no other module spells a key.
"""

from __future__ import annotations

from typing import Final, Literal
from uuid import UUID

from ai_agent.infrastructure.database.errors import RepositoryValidationError

__all__ = ["SCHEMA_VERSION", "CatalogKey", "KeySpace"]

SCHEMA_VERSION: Final = "v1"

CatalogKey = Literal["agent", "tool", "mcp_server", "external_service"]

_SLOT = "\x00"  # stands for an id while building script templates; prefixes hold no NUL


class KeySpace:
    """Builds the keys of one prefix."""

    def __init__(self, prefix: str) -> None:
        if not prefix or any(char in prefix for char in "{}\x00"):
            raise RepositoryValidationError(
                f"Redis key prefix must be non-empty without '{{', '}}' or NUL, got {prefix!r}"
            )
        self.prefix = prefix
        self.base = f"{prefix}:{SCHEMA_VERSION}"
        self._catalog = f"{self.base}:catalog:{{{prefix}}}"
        self._templates: list[str] | None = None

    # -- sessions and messages ---------------------------------------------------------------

    def session(self, session_id: UUID | str) -> str:
        return f"{self.base}:session:{{{session_id}}}"

    def messages(self, session_id: UUID | str) -> str:
        return f"{self.session(session_id)}:messages"

    def order(self, session_id: UUID | str) -> str:
        return f"{self.session(session_id)}:order"

    def replies(self, session_id: UUID | str) -> str:
        return f"{self.session(session_id)}:replies"

    def session_slot(self, session_id: UUID | str) -> list[str]:
        """The keys of one session, in the order the Lua scripts expect them."""
        return [
            self.session(session_id),
            self.messages(session_id),
            self.order(session_id),
            self.replies(session_id),
        ]

    def pointer(self, message_id: UUID | str) -> str:
        return f"{self.base}:message:{{{message_id}}}"

    @property
    def sessions(self) -> str:
        return f"{self.base}:sessions"

    def user_sessions(self, user_id: str) -> str:
        return f"{self.base}:user-sessions:{user_id}"

    def session_index(self, user_id: str | None) -> str:
        return self.sessions if user_id is None else self.user_sessions(user_id)

    def state(self, scope: str) -> str:
        """The hash of one state scope (``get_states``): never expires."""
        return f"{self.base}:state:{scope}"

    def templates(self) -> list[str]:
        """``string.format`` templates for the scripts: session, messages, order, replies,
        pointer, user index, then the global index (a plain key).

        Every session script sends them: built once (the caller must not change the list).
        """
        if self._templates is None:
            self._templates = self._build_templates()
        return self._templates

    def _build_templates(self) -> list[str]:
        def template(shape: str) -> str:
            return shape.replace("%", "%%").replace(_SLOT, "%s")

        return [
            template(self.session(_SLOT)),
            template(self.messages(_SLOT)),
            template(self.order(_SLOT)),
            template(self.replies(_SLOT)),
            template(self.pointer(_SLOT)),
            template(self.user_sessions(_SLOT)),
            self.sessions,
        ]

    # -- catalog -----------------------------------------------------------------------------

    def records(self, kind: CatalogKey) -> str:
        return f"{self._catalog}:{kind}s"

    def by_name(self, kind: CatalogKey) -> str:
        return f"{self.records(kind)}:by-name"

    def enabled(self, kind: CatalogKey) -> str:
        return f"{self.records(kind)}:enabled"

    @property
    def tool_links(self) -> str:
        return f"{self.records('mcp_server')}:tools"

    def catalog_keys(self, kind: CatalogKey) -> list[str]:
        """The keys every catalog script receives, all in the ``{prefix}`` slot."""
        return [
            self.records(kind),
            self.by_name(kind),
            self.enabled(kind),
            self.tool_links,
            self.records("tool"),
            self.records("mcp_server"),
        ]

    def pattern(self) -> str:
        """A SCAN ``MATCH`` pattern for every key of this prefix (maintenance, never requests)."""
        escaped = "".join(f"\\{char}" if char in "*?[]\\" else char for char in self.base)
        return f"{escaped}:*"
