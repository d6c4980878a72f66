"""Ordered key lists and the store for named entities (agents, tools, MCP servers, services)."""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any, Generic, TypeVar
from uuid import UUID

from ai_agent.domain.models import Agent, ExternalService, MCPServer, Tool, utc_now
from ai_agent.infrastructure.database.copies import clone
from ai_agent.infrastructure.database.errors import DuplicateError, NotFoundError

__all__ = ["Catalog", "SortedKeys"]

K = TypeVar("K", bound=tuple[Any, ...])
E = TypeVar("E", Agent, Tool, MCPServer, ExternalService)


class SortedKeys(Generic[K]):
    """Keys kept in ascending order; pages cost what they return.

    Inserting and removing are a binary search plus one ``memmove`` of a list of pointers,
    which stays cheap into the hundreds of thousands of keys.
    """

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: list[K] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: K) -> None:
        keys = self._keys
        if not keys or keys[-1] < key:  # the usual case: the newest activity sorts last
            keys.append(key)
        else:
            insort(keys, key)

    def discard(self, key: K) -> None:
        keys = self._keys
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            del keys[index]

    def replace(self, old: K, new: K) -> None:
        keys = self._keys
        # The usual case: the most recently active session gets newer still.
        if keys and keys[-1] is old and (len(keys) == 1 or keys[-2] < new) and old < new:
            keys[-1] = new
        else:
            self.discard(old)
            self.add(new)

    def ascending(self, limit: int, offset: int) -> list[K]:
        return self._keys[offset : offset + limit]

    def descending(self, limit: int, offset: int) -> list[K]:
        stop = len(self._keys) - offset
        if stop <= 0:
            return []
        return self._keys[max(0, stop - limit) : stop][::-1]


def _order_key(item: Agent | Tool | MCPServer | ExternalService) -> tuple[str, UUID]:
    # Python compares str by code point, which is also UTF-8 byte order (what SQL "C" gives).
    return (item.name, item.id)


class Catalog(Generic[E]):
    """Entities listed by (name, id), with an extra ordering of the enabled ones.

    ``check_*`` methods only read; ``store`` and ``remove`` only write, so a caller can run
    every check of an operation before changing anything.
    """

    def __init__(self, entity: str, *, unique_names: bool) -> None:
        self.entity = entity
        self.items: dict[UUID, E] = {}
        self._unique_names = unique_names
        self._by_name: dict[str, UUID] = {}
        self._all: SortedKeys[tuple[str, UUID]] = SortedKeys()
        self._enabled: SortedKeys[tuple[str, UUID]] = SortedKeys()

    def get(self, item_id: UUID) -> E | None:
        item = self.items.get(item_id)
        return None if item is None else clone(item)

    def page(self, enabled_only: bool, limit: int, offset: int) -> list[E]:
        index = self._enabled if enabled_only else self._all
        return [clone(self.items[key[1]]) for key in index.ascending(limit, offset)]

    def check_new(self, item: E) -> None:
        if item.id in self.items:
            raise DuplicateError(self.entity, "id", item.id)
        self._check_name(item)

    def check_existing(self, item: E) -> E:
        """Return the stored version of ``item``, which is about to replace it."""
        stored = self.items.get(item.id)
        if stored is None:
            raise NotFoundError(self.entity, item.id)
        self._check_name(item)
        return stored

    def _check_name(self, item: E) -> None:
        if self._unique_names and self._by_name.get(item.name, item.id) != item.id:
            raise DuplicateError(self.entity, "name", item.name)

    def create(self, item: E) -> E:
        self.check_new(item)
        return self.store(item)

    def update(self, item: E) -> E:
        self.check_existing(item)
        return self.store(item)

    def store(self, item: E) -> E:
        """Store an already checked ``item`` (new, or replacing the stored one with its id).

        ``item`` is the repository's own copy (``BaseRepository`` detached it from the
        caller's), so it is kept as is and a clone goes back.
        """
        stored = item
        previous = self.items.get(item.id)
        if previous is not None:
            self._unindex(previous)
            stored.__dict__["created_at"] = previous.created_at
            stored.__dict__["updated_at"] = utc_now()
        self.items[item.id] = stored
        self._index(stored)
        return clone(stored)

    def remove(self, item_id: UUID) -> E | None:
        item = self.items.pop(item_id, None)
        if item is not None:
            self._unindex(item)
        return item

    def _index(self, item: E) -> None:
        key = _order_key(item)
        self._all.add(key)
        if getattr(item, "enabled", True):
            self._enabled.add(key)
        if self._unique_names:
            self._by_name[item.name] = item.id

    def _unindex(self, item: E) -> None:
        key = _order_key(item)
        self._all.discard(key)
        self._enabled.discard(key)
        if self._unique_names:
            del self._by_name[item.name]
