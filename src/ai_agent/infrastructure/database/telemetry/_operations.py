"""The operations that are measured, and the collection (table or key family) each touches."""

from __future__ import annotations

import inspect

from ai_agent.infrastructure.database.contract import Repository

__all__ = ["COLLECTIONS", "OPERATIONS"]

#: The contract's data operations: every public coroutine method of the protocol but the
#: lifecycle. (``iter_messages`` returns an iterator: each page it reads counts as one
#: ``iter_messages`` operation instead.)
OPERATIONS: tuple[str, ...] = tuple(
    sorted(
        name
        for name, member in vars(Repository).items()
        if not name.startswith("_")
        and inspect.iscoroutinefunction(member)
        and name not in {"connect", "disconnect", "health_check"}
    )
)

# The entity an operation's name mentions, first match wins ("get_messages_by_session"
# reads messages); the collection is its table (SQL) or key family (Redis).
_ENTITIES = ("message", "external_service", "mcp_server", "agent", "tool", "session", "state")


def _collection(operation: str) -> str:
    found = (f"{entity}s" for entity in _ENTITIES if entity in operation)
    return next(found, operation.rpartition("_")[2])  # a new entity: the last word


#: ``db.collection.name`` of each operation: ``sessions``, ``messages``, ``agents``, ...
COLLECTIONS: dict[str, str] = {
    operation: _collection(operation) for operation in (*OPERATIONS, "iter_messages")
}
