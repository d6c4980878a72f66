"""The Lua scripts, one per multi-key operation, loaded once and run by EVALSHA.

Sources live in ``lua/``; session scripts get ``session_prelude.lua`` and catalog writes
``catalog_prelude.lua`` prepended. redis-py's ``AsyncScript`` sends EVALSHA and, on
``NOSCRIPT`` (a restarted or failed-over server forgot the script), loads it again and retries,
so a server restart never surfaces as an error here.

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

__all__ = ["SESSION_SCRIPTS", "Scripts", "outcome"]

SESSION_SCRIPTS = (
    "create_session",
    "update_session",
    "delete_session",
    "create_messages",
    "update_message",
    "delete_message",
)
_CATALOG_SCRIPTS = ("catalog_write", "catalog_delete")
_PLAIN_SCRIPTS = (
    "read_messages",
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


def source(name: str) -> str:
    """The full text of script ``name``, prelude included."""
    if name in SESSION_SCRIPTS:
        return _source("session_prelude") + "\n" + _source(name)
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
    read_messages: AsyncScript
    list_sessions: AsyncScript
    catalog_write: AsyncScript
    catalog_delete: AsyncScript
    catalog_list: AsyncScript
    drop_dead_entry: AsyncScript
    swap_pointer: AsyncScript

    @classmethod
    def register(cls, client: Any) -> Scripts:
        return cls(**{name: client.register_script(source(name)) for name in _ALL})

    async def load(self, client: Any) -> None:
        """SCRIPT LOAD every script (every primary of a cluster), so first calls take one
        round trip; a server that forgets them later is handled by ``AsyncScript``."""
        for name in _ALL:
            await client.script_load(source(name))


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
