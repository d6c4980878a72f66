"""Raw Redis store: plain redis-py asyncio, one Lua call per operation.

Layout (``R`` is the run's key prefix; ``{sid}`` a hash tag, so a session's keys share a slot):
``R:s:{sid}`` hash (``doc`` JSON, ``user``, ``count``, ``last`` in epoch µs),
``R:s:{sid}:m`` hash (message id -> JSON), ``R:s:{sid}:o`` list (insertion order),
``R:p:<mid>`` string (message -> session, which also refuses duplicate ids),
``R:all`` and ``R:u:<user>`` sorted sets (sessions by last activity). Session keys carry the
same TTL as the project's default and every write refreshes it. Like the project on a single
server, the scripts touch cross-slot keys (pointers, indexes): single-server code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from redis.asyncio import BlockingConnectionPool, Redis

from ai_agent.domain.models import Message, Session
from bench.stores import Store

__all__ = ["RawRedisStore", "drop_keys", "open_raw_redis"]

TTL = 86_400  # the project's default session_ttl

_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
  if redis.call('EXISTS', ARGV[3] .. ARGV[5 + 3 * i]) == 1 then return -1 end
end
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
local newest = last
for i = 0, n - 1 do
  local mid = ARGV[5 + 3 * i]
  redis.call('SET', ARGV[3] .. mid, ARGV[1], 'EX', ARGV[2] * 2)
  redis.call('HSET', KEYS[2], mid, ARGV[6 + 3 * i])
  redis.call('RPUSH', KEYS[3], mid)
  local created = tonumber(ARGV[7 + 3 * i])
  if created > newest then newest = created end
end
redis.call('HINCRBY', KEYS[1], 'count', n)
if newest > last then
  redis.call('HSET', KEYS[1], 'last', newest)
  redis.call('ZADD', KEYS[4], newest, ARGV[1])
  local user = redis.call('HGET', KEYS[1], 'user')
  if user then redis.call('ZADD', KEYS[5] .. user, newest, ARGV[1]) end
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return 1
"""

_CREATE_SESSION = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'count', 0, 'last', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'user', ARGV[4])
  redis.call('ZADD', KEYS[3] .. ARGV[4], ARGV[3], ARGV[1])
end
return 1
"""

_RECENT = """
local ids = redis.call('LRANGE', KEYS[2], -tonumber(ARGV[1]), -1)
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[1], unpack(ids))
"""

_LIST = """
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local out = {}
for _, sid in ipairs(ids) do
  local fields = redis.call('HMGET', ARGV[2] .. '{' .. sid .. '}', 'doc', 'count', 'last')
  out[#out + 1] = sid
  out[#out + 1] = fields[1]
  out[#out + 1] = fields[2]
  out[#out + 1] = fields[3]
end
return out
"""

_DELETE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local user = redis.call('HGET', KEYS[1], 'user')
local ids = redis.call('LRANGE', KEYS[3], 0, -1)
for i = 1, #ids, 1000 do
  local keys = {}
  for j = i, math.min(i + 999, #ids) do keys[#keys + 1] = ARGV[2] .. ids[j] end
  redis.call('UNLINK', unpack(keys))
end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
if user then redis.call('ZREM', ARGV[3] .. user, ARGV[1]) end
return 1
"""


def _message_json(message: Message) -> str:
    return json.dumps(
        {
            "id": str(message.id),
            "role": str(message.role),
            "content": message.content,
            "metadata": message.metadata,
            "tool_calls": message.tool_calls,
            "parent_message_id": None
            if message.parent_message_id is None
            else str(message.parent_message_id),
            "created_at": message.created_at.isoformat(),
            "updated_at": message.updated_at.isoformat(),
        }
    )


def _micros(message: Message | Session) -> int:
    moment = message.created_at if isinstance(message, Message) else message.last_activity
    return int(moment.timestamp() * 1_000_000)


class RawRedisStore:
    """Hand-written redis-py code: one EVALSHA per operation."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._append = client.register_script(_APPEND)
        self._create = client.register_script(_CREATE_SESSION)
        self._recent = client.register_script(_RECENT)
        self._list = client.register_script(_LIST)
        self._delete = client.register_script(_DELETE)

    def _session_keys(self, session_id: UUID | str) -> list[str]:
        base = f"{self.prefix}:s:{{{session_id}}}"
        return [base, f"{base}:m", f"{base}:o"]

    async def create_session(self, session: Session) -> None:
        doc = json.dumps({"title": session.title, "metadata": session.metadata})
        keys = [self._session_keys(session.id)[0], f"{self.prefix}:all", f"{self.prefix}:u:"]
        args: list[str | int] = [str(session.id), doc, _micros(session), session.user_id or "", TTL]
        if await self._create(keys=keys, args=args) != 1:
            raise KeyError(f"session {session.id} exists")

    async def append(self, message: Message) -> None:
        await self.append_many([message])

    async def append_many(self, messages: Sequence[Message]) -> None:
        by_session: dict[UUID, list[Message]] = {}
        for message in messages:
            by_session.setdefault(message.session_id, []).append(message)
        for session_id, batch in by_session.items():  # one atomic script per session
            keys = [*self._session_keys(session_id), f"{self.prefix}:all", f"{self.prefix}:u:"]
            args: list[str | int] = [str(session_id), TTL, f"{self.prefix}:p:", len(batch)]
            for message in batch:
                args += [str(message.id), _message_json(message), _micros(message)]
            status = await self._append(keys=keys, args=args)
            if status != 1:
                raise KeyError(f"append to session {session_id} refused ({status})")

    async def recent(self, session_id: UUID, limit: int) -> list[dict[str, Any]]:
        docs = await self._recent(keys=self._session_keys(session_id)[1:], args=[limit])
        return [json.loads(doc) for doc in docs]

    async def list_sessions(self, user_id: str, limit: int) -> list[dict[str, Any]]:
        keys = [f"{self.prefix}:u:{user_id}"]
        flat = await self._list(keys=keys, args=[limit, f"{self.prefix}:s:"])
        records = [
            {"id": sid, **json.loads(doc), "message_count": int(count), "last": int(last)}
            for sid, doc, count, last in zip(*[iter(flat)] * 4, strict=True)
        ]
        return records

    def ids(self, items: Sequence[Any]) -> list[str]:
        return [record["id"] for record in items]

    async def delete_session(self, session_id: UUID) -> bool:
        keys = [*self._session_keys(session_id), f"{self.prefix}:all"]
        args = [str(session_id), f"{self.prefix}:p:", f"{self.prefix}:u:"]
        return bool(await self._delete(keys=keys, args=args) == 1)

    async def message_count(self, session_id: UUID) -> int | None:
        count = await self.client.hget(self._session_keys(session_id)[0], "count")
        return None if count is None else int(count)


def make_client(url: str, pool_size: int) -> Redis:
    """A client on a blocking pool of ``pool_size`` connections (callers wait, never fail)."""
    pool = BlockingConnectionPool.from_url(url, max_connections=pool_size, decode_responses=True)
    return Redis(connection_pool=pool)


async def drop_keys(client: Redis, prefix: str) -> None:
    """Delete every key under ``prefix:`` (benchmark clean-up, never on a timed path)."""
    batch: list[str] = []
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await client.unlink(*batch)
            batch.clear()
    if batch:
        await client.unlink(*batch)


@asynccontextmanager
async def open_raw_redis(url: str, pool_size: int, prefix: str) -> AsyncIterator[Store]:
    """A store under ``prefix`` (fresh per workload); its keys are dropped on exit."""
    client = make_client(url, pool_size)
    try:
        yield RawRedisStore(client, prefix)
    finally:
        await drop_keys(client, prefix)
        await client.aclose()
