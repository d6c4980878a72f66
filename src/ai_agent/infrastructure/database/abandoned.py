"""A repository dropped while connected: one ``ResourceWarning``, and its resources released.

Every ``connect()`` needs its ``disconnect()`` (``cleanup_repository()`` for the repository
``setup_repository()`` made current). A repository that is garbage collected while still
connected, or still connected when the interpreter exits (the current one is: the factory
keeps it), costs a ``ResourceWarning`` that names both calls, the way redis-py and asyncpg
report an unclosed client; its backend then releases what it can without awaiting anything.
By then the event loop is usually closed (``asyncio.run`` closes it before the interpreter
exits), so a release needs no loop: it never hangs the exit and never prints a traceback.

Like every ``ResourceWarning`` it is hidden by Python's default warning filters: run with
``python -X dev`` or ``-W default`` (pytest shows it too) to see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
import weakref
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["Release", "Watch", "on_loop", "watch"]

#: Releases what ``connect()`` opened, synchronously. It must not refer to the repository
#: (that would keep it alive), and it runs on whatever thread collects the repository.
Release = Callable[[], None]
#: The finalizer :func:`watch` returns (``detach()`` it on disconnect); a string, as
#: ``weakref.finalize`` is generic only to type checkers.
Watch: TypeAlias = "weakref.finalize[[str, Release | None], object]"


def watch(repository: object, release: Release | None) -> Watch:
    """Report and ``release`` when ``repository`` is collected, or at exit, unless detached.

    ``disconnect()`` detaches the returned finalizer first, so a repository closed properly
    never warns.
    """
    return weakref.finalize(repository, _abandoned, repr(repository), release)


def _abandoned(description: str, release: Release | None) -> None:
    if release is not None:
        # Best effort: a failed release must not hide the warning, nor print a traceback.
        with contextlib.suppress(Exception):
            release()
    warnings.warn(
        f"{description} was never disconnected; call `await repository.disconnect()`, or "
        "`await cleanup_repository()` for the repository setup_repository() returned",
        ResourceWarning,
        stacklevel=1,
    )


def on_loop(loop: asyncio.AbstractEventLoop, release: Release) -> Release:
    """``release`` made safe for a finalizer, for resources bound to ``loop`` (sockets).

    It runs at once when this thread may touch the loop, through ``call_soon_threadsafe``
    when the loop runs in another thread, and not at all once the loop is closed: closing
    a transport schedules a callback on its loop, which a closed loop refuses. Sockets of a
    closed loop close with the process, or when their transports are collected.
    """

    def run() -> None:
        if loop.is_closed():
            return
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if loop.is_running() and current is not loop:
            loop.call_soon_threadsafe(release)
        else:
            release()

    return run
