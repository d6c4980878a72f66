"""Journal payloads, their replay into the primary, and the clearing of fallback copies.

Replay is idempotent by id, so an entry applied just before a crash (or whose first attempt
reached the primary before the connection broke) can be applied again:

* a create meeting a stored record that is identical (the fields the repository owns,
  ``updated_at``, ``message_count`` and ``last_activity``, aside) counts as done;
* a batch of messages meeting some of its messages stores the missing ones, in order;
* updates are applied again (last writer wins, as it did in the fallback); deletes too
  (``False`` is fine).

An entry the primary refuses for good (a different record under the same id, a missing
session, invalid data) is set aside in the journal's ``rejected`` table and logged; replay
goes on. A connection failure or a conflict stops replay: it is tried again later, from the
same entry.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

from pydantic import BaseModel, TypeAdapter, ValidationError

from ai_agent.domain.models import (
    Agent,
    DomainModel,
    ExternalService,
    MCPServer,
    Message,
    Session,
    Tool,
)
from ai_agent.infrastructure.database.calls import same_write
from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.errors import (
    ConflictError,
    DuplicateError,
    RepositoryConnectionError,
    RepositoryError,
)
from ai_agent.infrastructure.database.features import forced
from ai_agent.infrastructure.database.health._journal import Journal, JournalEntry
from ai_agent.infrastructure.database.telemetry import HEALTH_LOGGER, event_logger

__all__ = ["clear_copies", "drain", "encode_entity", "encode_id", "encode_messages"]

events = event_logger(HEALTH_LOGGER)

_MODELS: dict[str, type[DomainModel]] = {
    "session": Session,
    "message": Message,
    "agent": Agent,
    "tool": Tool,
    "mcp_server": MCPServer,
    "external_service": ExternalService,
}
_MESSAGES: TypeAdapter[list[Message]] = TypeAdapter(list[Message])
# Clearing order: a session's delete takes its messages with it.
_CLEAR_ORDER = ("session", "message", "external_service", "tool", "agent", "mcp_server")

Method = Callable[..., Awaitable[Any]]


def encode_entity(entity: BaseModel) -> str:
    return entity.model_dump_json()


def encode_messages(messages: list[Message]) -> str | None:
    return _MESSAGES.dump_json(messages).decode() if messages else None


def encode_id(key: object) -> str:
    return json.dumps(str(UUID(str(key))))


def _split(operation: str) -> tuple[str, str]:
    """``create_mcp_server`` -> (``create``, ``mcp_server``); ``create_messages`` too."""
    verb, _, kind = operation.partition("_")
    if kind == "messages":
        kind = "message"
    if kind not in _MODELS:
        raise RepositoryError(f"unknown journal operation {operation!r}")
    return verb, kind


async def _create(primary: Repository, kind: str, entity: DomainModel) -> None:
    create: Method = getattr(primary, f"create_{kind}")
    get: Method = getattr(primary, f"get_{kind}")
    try:
        await create(entity)
    except DuplicateError:
        stored = await get(entity.id)
        if stored is None or not same_write(stored, entity):
            raise


async def _create_batch(primary: Repository, messages: list[Message]) -> None:
    try:
        await primary.create_messages(messages)
    except DuplicateError:
        # Some were stored by an earlier attempt: keep those, add the others in order.
        for message in messages:
            await _create(primary, "message", message)


async def apply(primary: Repository, entry: JournalEntry) -> None:
    """Apply one journal entry to the primary (idempotently; see the module docstring)."""
    verb, kind = _split(entry.operation)
    if entry.operation == "create_messages":
        await _create_batch(primary, _MESSAGES.validate_json(entry.payload))
        return
    method: Method = getattr(primary, entry.operation)
    if verb in ("delete", "clear"):  # by id: delete_X(id), clear_messages(session id)
        await method(UUID(json.loads(entry.payload)))
        return
    entity = _MODELS[kind].model_validate_json(entry.payload)
    if verb == "create":
        await _create(primary, kind, entity)
    elif verb == "update":
        await method(entity)
    else:
        raise RepositoryError(f"unknown journal operation {entry.operation!r}")


_REFUSED = (RepositoryError, ValidationError, ValueError, KeyError, TypeError)


async def replay_entry(primary: Repository, journal: Journal, entry: JournalEntry) -> None:
    """Apply ``entry`` and record the outcome; connection failures and conflicts propagate."""
    try:
        await apply(primary, entry)
    except (RepositoryConnectionError, ConflictError):
        raise
    except _REFUSED as exc:
        reason = f"{type(exc).__name__}: {exc}"
        # The reason stays in the journal: a refused model's message may quote its content.
        events.error(
            "journal.entry_rejected",
            primary=getattr(primary, "backend_name", type(primary).__name__),
            seq=entry.seq,
            operation=entry.operation,
            error=type(exc).__name__,
        )
        await journal.reject(entry, reason)
        return
    await journal.mark_applied([entry])


def _messages_of(entry: JournalEntry) -> list[Message]:
    if entry.operation == "create_messages":
        return _MESSAGES.validate_json(entry.payload)
    return [Message.model_validate_json(entry.payload)]


def _groups(entries: list[JournalEntry]) -> Iterator[list[JournalEntry]]:
    """Runs of consecutive message creates (replayed as one batch), and every other entry."""
    run: list[JournalEntry] = []
    for entry in entries:
        if entry.operation in ("create_message", "create_messages"):
            run.append(entry)
            continue
        if run:
            yield run
            run = []
        yield [entry]
    if run:
        yield run


async def replay_group(primary: Repository, journal: Journal, group: list[JournalEntry]) -> None:
    """Replay a run of message creates in one batch (same order, one round trip)."""
    if len(group) > 1:
        try:
            await _create_batch(primary, [m for entry in group for m in _messages_of(entry)])
        except (RepositoryConnectionError, ConflictError):
            raise
        except _REFUSED:
            pass  # one of them is refused: replay them one by one to set aside only that one
        else:
            await journal.mark_applied(group)
            return
    for entry in group:
        await replay_entry(primary, journal, entry)


async def drain(primary: Repository, journal: Journal, *, budget: int | None = None) -> int:
    """Replay pending entries in order (at most about ``budget`` of them); return how many.

    Runs of message creates go back as ``create_messages`` batches even while the
    ``bulk_operations`` flag is off: the flag refuses new bulk requests, and these writes
    were accepted (one at a time, perhaps) during the outage.
    """
    with forced("bulk_operations", True):
        return await _drain(primary, journal, budget)


async def _drain(primary: Repository, journal: Journal, budget: int | None) -> int:
    replayed = 0
    while journal.pending_count and (budget is None or replayed < budget):
        size = 256 if budget is None else max(1, min(256, budget - replayed))
        batch = await journal.pending(size)
        if not batch:
            break
        for group in _groups(batch):
            await replay_group(primary, journal, group)
            replayed += len(group)
    return replayed


def _ids(entry: JournalEntry) -> tuple[str, list[UUID]]:
    verb, kind = _split(entry.operation)
    decoded = json.loads(entry.payload)
    if entry.operation == "create_messages":
        return kind, [UUID(item["id"]) for item in decoded]
    if verb == "clear":  # wrote no entity of its own
        return kind, []
    return kind, [UUID(decoded if verb == "delete" else decoded["id"])]


async def clear_copies(fallback: Repository, entries: list[JournalEntry]) -> int:
    """Delete from the fallback every entity the entries wrote; return how many were there."""
    by_kind: dict[str, dict[UUID, None]] = {kind: {} for kind in _CLEAR_ORDER}
    for entry in entries:
        try:
            kind, ids = _ids(entry)
        except (RepositoryError, ValueError, KeyError, TypeError):
            continue  # an unreadable entry was rejected by replay; it wrote nothing we can name
        by_kind[kind].update(dict.fromkeys(ids))
    removed = 0
    for kind in _CLEAR_ORDER:
        delete: Method = getattr(fallback, f"delete_{kind}")
        for entity_id in by_kind[kind]:
            removed += bool(await delete(entity_id))
    return removed
