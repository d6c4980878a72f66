"""The Lua scripts' text: loaded from ``lua/``, named, and put together with their preludes.

Session scripts get the repository's constants, ``id_lists.lua`` and ``session_prelude.lua``
in front; catalog writes ``id_lists.lua`` and ``catalog_prelude.lua``. What is fixed for a
repository (its key templates, its TTL, single server or cluster) is rendered into the
session scripts' source as Lua constants (:func:`session_constants`), so each call sends
only its own keys and arguments: the same server then holds one version of a script per key
prefix and TTL.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ai_agent.infrastructure.database.redis._keys import KeySpace

__all__ = ["ALL_SCRIPTS", "LOADED_SCRIPTS", "session_constants", "source"]

_SESSION_SCRIPTS: Final = (
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
_CATALOG_SCRIPTS: Final = ("catalog_write", "catalog_delete")
_PLAIN_SCRIPTS: Final = (
    "read_messages",
    "messages_after",
    "list_sessions",
    "catalog_list",
    "drop_dead_entry",
    "swap_pointer",
)
# A state script is a head, ``with_state.lua``, and the create script run inside it.
_STATE_SCRIPTS: Final = {
    "append_with_state": "create_messages",
    "create_session_with_state": "create_session",
}
# SCRIPT LOADed at connect, so first calls take one round trip; the state scripts are
# loaded by their first call.
LOADED_SCRIPTS: Final = (*_SESSION_SCRIPTS, *_CATALOG_SCRIPTS, *_PLAIN_SCRIPTS)
ALL_SCRIPTS: Final = (*LOADED_SCRIPTS, *_STATE_SCRIPTS)
_BODY: Final = "\n--@BODY@--\n"


@cache
def _text(name: str) -> str:
    return (files(__package__) / "lua" / f"{name}.lua").read_text(encoding="utf-8")


def source(name: str, constants: str) -> str:
    """The full text of script ``name``, preludes included; ``constants``:
    :func:`session_constants` of the repository."""
    if name in _SESSION_SCRIPTS:
        return "\n".join((constants, _text("id_lists"), _text("session_prelude"), _text(name)))
    if name in _STATE_SCRIPTS:
        tail = _text("with_state").replace(_BODY, f"\n{_text(_STATE_SCRIPTS[name])}\n")
        return "\n".join(
            (constants, _text("id_lists"), _text("session_prelude"), _text(name), tail)
        )
    if name == "list_sessions":
        return "\n".join((constants, _text(name)))
    if name in _CATALOG_SCRIPTS:
        return "\n".join((_text("id_lists"), _text("catalog_prelude"), _text(name)))
    return _text(name)


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
