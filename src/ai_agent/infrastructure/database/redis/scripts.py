"""The Lua scripts, one per multi-key operation, loaded once and run by EVALSHA.

Sources live in ``lua/``; session scripts get ``session_prelude.lua`` and catalog writes
``catalog_prelude.lua`` prepended. What is fixed for a repository (its key templates, its TTL,
single server or cluster) is rendered into the session scripts' source as Lua constants
(:func:`session_constants`), so each call sends only its own keys and arguments: the same
server then holds one version of a script per key prefix and TTL. redis-py's
``AsyncScript`` sends EVALSHA and, on ``NOSCRIPT`` (a restarted or failed-over server forgot
the script), loads it again and retries, so a server restart never surfaces as an error here.

Scripts never raise for expected outcomes: they reply ``['ok', ...]`` or a structured code such
as ``['not_found', 'session', <id>]``, which :func:`outcome` turns into the error tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ai_agent.infrastructure.database.errors import (
    DuplicateError,
    NotFoundError,
    RepositoryError,
)

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from ai_agent.infrastructure.database.redis.keys import KeySpace

__all__ = ["SESSION_SCRIPTS", "Scripts", "outcome", "session_constants"]

SESSION_SCRIPTS = (
    "create_session",
    "update_session",
    "delete_session",
    "create_messages",
    "update_message",
    "delete_message",
    "pop_message",
    "clear_messages",
    "trim_messages",
)
_CATALOG_SCRIPTS = ("catalog_write", "catalog_delete")
_PLAIN_SCRIPTS = (
    "read_messages",
    "messages_after",
    "list_sessions",
    "catalog_list",
    "drop_dead_entry",
    "swap_pointer",
)
_ALL = (*SESSION_SCRIPTS, *_CATALOG_SCRIPTS, *_PLAIN_SCRIPTS)

# Script nouns -> the entity names used in error messages.
_ENTITY = {"parent": "parent message", "mcp_server": "MCP server"}


@cache
def _source(name: str) -> str:
    return (files(__package__) / "lua" / f"{name}.lua").read_text(encoding="utf-8")


def source(name: str, constants: str) -> str:
    """The full text of script ``name``: prelude (after ``constants``, for session scripts)
    included."""
    if name in SESSION_SCRIPTS:
        return "\n".join((constants, _source("session_prelude"), _source(name)))
    if name == "list_sessions":
        return "\n".join((constants, _source(name)))
    if name in _CATALOG_SCRIPTS:
        return _source("catalog_prelude") + "\n" + _source(name)
    return _source(name)


@dataclass(frozen=True, slots=True)
class Scripts:
    """The scripts registered on one client."""

    create_session: AsyncScript
    update_session: AsyncScript
    delete_session: AsyncScript
    create_messages: AsyncScript
    update_message: AsyncScript
    delete_message: AsyncScript
    pop_message: AsyncScript
    clear_messages: AsyncScript
    trim_messages: AsyncScript
    read_messages: AsyncScript
    messages_after: AsyncScript
    list_sessions: AsyncScript
    catalog_write: AsyncScript
    catalog_delete: AsyncScript
    catalog_list: AsyncScript
    drop_dead_entry: AsyncScript
    swap_pointer: AsyncScript

    @classmethod
    def register(cls, client: Any, constants: str) -> Scripts:
        """``constants``: :func:`session_constants` of the repository."""
        return cls(**{name: client.register_script(source(name, constants)) for name in _ALL})

    async def load(self, client: Any) -> None:
        """SCRIPT LOAD every script (every primary of a cluster), so first calls take one
        round trip; a server that forgets them later is handled by ``AsyncScript``."""
        for name in _ALL:
            await client.script_load(getattr(self, name).script)


def session_constants(keys: KeySpace, *, single: bool, ttl: int) -> str:
    """The Lua constants ``session_prelude.lua`` expects, for one repository."""
    session, messages, order, replies, pointer, user, sessions = map(_lua, keys.templates())
    return (
        f"local SINGLE, TTL = {'true' if single else 'false'}, {int(ttl)}\n"
        f"local T_SESSION, T_MESSAGES = {session}, {messages}\n"
        f"local T_ORDER, T_REPLIES = {order}, {replies}\n"
        f"local T_POINTER, T_USER, K_SESSIONS = {pointer}, {user}, {sessions}"
    )


def _lua(text: str) -> str:
    """``text`` as a Lua string literal: every byte but the plainest as a decimal escape, so
    no prefix can end the literal or inject code."""
    plain = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.%")
    body = "".join(chr(b) if b in plain else f"\\{b:03d}" for b in text.encode("utf-8"))
    return f"'{body}'"


def outcome(reply: Any, entity: str) -> list[Any]:
    """Return the payload of an ``ok`` reply; raise the tree error a failure code stands for.

    ``entity`` names what the operation was about (``session``, ``agent``, ...): it is used
    when the script reports the operation's own record (``self``) as missing or duplicated.
    """
    if not isinstance(reply, list) or not reply:
        raise RepositoryError(f"unexpected reply from a Redis script: {reply!r:.80}")
    status, *rest = reply
    if status == "ok":
        return rest
    what = rest[0] if rest else "self"
    noun = entity if what == "self" else _ENTITY.get(what, what)
    if status == "not_found":
        detail = f"in session {rest[2]}" if what == "parent" and len(rest) > 2 else ""
        raise NotFoundError(noun, rest[1], detail)
    if status == "duplicate":
        field = "name" if what == "name" else "id"
        noun = entity if what in ("id", "name") else noun
        raise DuplicateError(noun, field, rest[1])
    raise RepositoryError(f"unexpected reply from a Redis script: {reply!r:.80}")
