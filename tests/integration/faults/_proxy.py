"""A TCP proxy in front of a real server that loses one reply, as a failing network would.

    async with ReplyLosingProxy(server.port) as proxy:       # clients connect to proxy.port
        proxy.lose_reply(marker=session.id.bytes, complete=postgres_ready)
        await repository.create_session(session)             # stored, but the answer is lost

The request holding ``marker`` reaches the server, which runs it and answers; the proxy
withholds the answer until ``complete(answer)`` says it is whole (for PostgreSQL, the
ReadyForQuery that follows the commit), then cuts both connections. The client sees a
connection reset after its write committed: the case a retried create must recover from.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

__all__ = ["ReplyLosingProxy", "any_reply", "postgres_ready"]

Complete = Callable[[bytes], bool]
_CHUNK = 65536


def postgres_ready(answer: bytes) -> bool:
    """Whether a PostgreSQL answer holds ReadyForQuery ('Z', length 5): the commit is done."""
    return b"Z\x00\x00\x00\x05" in answer


def any_reply(answer: bytes) -> bool:
    """Redis answers a command only once it has run (and, with AOF always, is on disk)."""
    return bool(answer)


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    complete: Complete | None = None  # set once this connection carried the marked request

    def cut(self) -> None:
        self.client.transport.abort()
        self.upstream.transport.abort()


class ReplyLosingProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``upstream_port`` (see the module docstring)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.lost = 0  # replies lost so far
        self._marker: bytes | None = None
        self._complete: Complete = any_reply
        self._server: asyncio.Server | None = None
        self._links: list[_Link] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def lose_reply(self, marker: bytes, complete: Complete) -> None:
        """Lose the answer to the next request that holds ``marker`` (once)."""
        self._marker, self._complete = marker, complete

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for link in self._links:
            link.cut()
        current = asyncio.current_task()
        await asyncio.gather(*(t for t in self._tasks if t is not current), return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serving = asyncio.current_task()
        if serving is not None:  # awaited on exit, so no connection outlives the proxy
            self._tasks.add(serving)
        try:
            upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, upstream[1])
        self._links.append(link)
        if self._server is None or not self._server.is_serving():  # closing meanwhile
            link.cut()
        pumps = [
            asyncio.create_task(self._requests(reader, link)),
            asyncio.create_task(self._replies(upstream[0], link)),
        ]
        self._tasks.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)
        link.cut()

    async def _requests(self, reader: asyncio.StreamReader, link: _Link) -> None:
        tail = b""  # a marker may straddle two reads
        with contextlib.suppress(OSError):
            while data := await reader.read(_CHUNK):
                window, marker = tail + data, self._marker
                if marker is not None and marker in window:
                    self._marker, link.complete = None, self._complete
                tail = window[-64:]
                link.upstream.write(data)
                await link.upstream.drain()
        link.cut()

    async def _replies(self, reader: asyncio.StreamReader, link: _Link) -> None:
        withheld = b""
        with contextlib.suppress(OSError):
            while data := await reader.read(_CHUNK):
                if link.complete is None:
                    link.client.write(data)
                    await link.client.drain()
                    continue
                withheld += data
                if link.complete(withheld):
                    self.lost += 1
                    break
        link.cut()
