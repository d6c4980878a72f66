"""A repository on an event loop of its own, so that synchronous code can use it.

Repositories are async and bound to the loop that connected them. Frameworks with a
synchronous API (LangChain's ``invoke``) need a way in from plain threads::

    from ai_agent.integrations.langchain import RepositoryThread

    with RepositoryThread.from_url("sqlite:///chat.db") as background:
        messages = background.run(background.repository.get_recent_messages(session_id))

``RepositoryThread(monitor.get_healthy_repository)`` runs a health monitor there instead
and serves its routing repository.

The loop runs in a daemon thread. ``close()`` disconnects the repository on it, stops it and
joins the thread; a thread that is never closed is closed when it is garbage collected, and
at interpreter exit before non-daemon threads are joined (a driver's own worker thread, such
as aiosqlite's, would otherwise keep the interpreter from exiting).
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from ai_agent.infrastructure.database.contract import Repository
from ai_agent.infrastructure.database.scoped import ClosesOnExit

__all__ = ["RepositoryThread"]

_T = TypeVar("_T")
Opener = Callable[[], Awaitable[Repository]]
_CLOSE_TIMEOUT = 10.0
_live: weakref.WeakSet[RepositoryThread] = weakref.WeakSet()
_exit_hook_installed = False


def _close_all_at_exit() -> None:
    for background in list(_live):
        background.close()


def _install_exit_hook() -> None:
    """Close live threads at exit, before the interpreter joins non-daemon threads."""
    global _exit_hook_installed
    if _exit_hook_installed:
        return
    # threading._register_atexit runs before non-daemon threads are joined (atexit runs
    # after, too late for a forgotten aiosqlite connection); concurrent.futures uses it too.
    register = getattr(threading, "_register_atexit", atexit.register)
    register(_close_all_at_exit)
    _exit_hook_installed = True


async def _opened(opener: Opener) -> Repository:
    return await opener()


async def _disconnect_then_stop(owned: list[Repository], loop: asyncio.AbstractEventLoop) -> None:
    try:
        for repository in owned:
            await asyncio.wait_for(repository.disconnect(), _CLOSE_TIMEOUT)
    finally:
        loop.stop()


def _shutdown(
    loop: asyncio.AbstractEventLoop, thread: threading.Thread, owned: list[Repository]
) -> None:
    """Disconnect, stop the loop, join its thread. Safe from any thread, the loop's own too
    (a forgotten instance may be garbage collected there); never raises."""
    try:
        asyncio.run_coroutine_threadsafe(_disconnect_then_stop(owned, loop), loop)
    except RuntimeError:  # the loop is closed already
        return
    if thread is not threading.current_thread():
        thread.join(_CLOSE_TIMEOUT + 1)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class RepositoryThread(ClosesOnExit):
    """A connected repository served by a private event loop in a daemon thread.

    ``run(coroutine)`` runs a repository call there from any other thread and returns its
    result; ``await arun(coroutine)`` does the same from another event loop.
    """

    def __init__(self, repository: Repository | Opener, *, connect: bool = True) -> None:
        """Start the thread and connect ``repository`` on it (unless ``connect`` is false).

        ``repository`` may also be an async callable that returns a connected repository,
        run on the thread's loop: ``RepositoryThread(monitor.get_healthy_repository)``
        starts a health monitor there and serves its routing repository. Either way the
        thread owns the repository: ``close()`` disconnects it (a monitor's router stops
        its monitor).
        """
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=_serve, args=(self.loop,), name="ai-agent-repository", daemon=True
        )
        self._closed = False
        self._lock = threading.Lock()
        self._owned: list[Repository] = []
        self._thread.start()
        # Holds no reference to self, so a forgotten instance is collected, and closed then.
        self._finalizer = weakref.finalize(self, _shutdown, self.loop, self._thread, self._owned)
        _install_exit_hook()
        _live.add(self)
        try:
            if callable(repository):
                self.repository = self.run(_opened(repository))
                self._owned.append(self.repository)
            else:
                self.repository = repository
                self._owned.append(repository)
                if connect:
                    self.run(repository.connect())
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RepositoryThread:
        """Build the repository for ``url`` (as ``RepositoryFactory.from_url``), connect it
        and check that it answers and its schema is current (``ai-agent db migrate``)."""
        from ai_agent.infrastructure.database.factory import RepositoryFactory, open_checked

        repository = RepositoryFactory.from_url(url, **options)
        background = cls(repository, connect=False)
        try:
            background.run(open_checked(repository))
        except BaseException:
            background.close()
            raise
        return background

    @property
    def closed(self) -> bool:
        return self._closed

    def in_loop_thread(self) -> bool:
        """Whether the caller runs on this instance's loop (where ``run`` would deadlock)."""
        return threading.current_thread() is self._thread

    def _submit(self, coroutine: Coroutine[Any, Any, _T]) -> Future[_T]:
        if self._closed:
            coroutine.close()
            raise RuntimeError("this RepositoryThread is closed")
        if self.in_loop_thread():
            coroutine.close()
            raise RuntimeError(
                "a blocking call on the RepositoryThread's own event loop would wait for "
                "itself forever; use the async API there"
            )
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coroutine`` on the loop and wait for its result (from another thread)."""
        return self._submit(coroutine).result()

    async def arun(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Await ``coroutine`` run on the loop, from any event loop (this one included)."""
        if self.in_loop_thread():
            return await coroutine
        return await asyncio.wrap_future(self._submit(coroutine))

    def close(self) -> None:
        """Disconnect the repository, stop the loop and join the thread. Idempotent."""
        with self._lock:
            if self._closed:
                return
            if self.in_loop_thread():
                raise RuntimeError("close() cannot be called from the repository's own loop")
            self._closed = True
            _live.discard(self)
            self._finalizer()
