"""Paging bounds on a store that holds data (issue 15): any offset past what is stored,
however large, is an empty page; a bad limit or offset is a ``RepositoryValidationError``
that reads and changes nothing.

SPEC.md section 3: ``limit`` is 1..1000 (so a huge limit is refused, not capped) and
``offset`` any integer >= 0; ``bool`` is not an integer here, nor is ``1.5`` or ``"10"``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ai_agent.infrastructure.database import Repository, RepositoryValidationError

from .checks import unchanged
from .factories import (
    make_agent,
    make_external_service,
    make_mcp_server,
    make_message,
    make_session,
    make_tool,
)

STORED = 3  # of each entity, and messages in the one session
HUGE_OFFSETS = [STORED, 2**62, 2**63 - 1, 2**63, 2**64, 10**30, 10**100]
BAD_OFFSETS = [-1, -(2**63), True, False, 1.5, "10", None]
BAD_LIMITS = [0, -1, 1001, 2**63, 10**30, True, 1.5, "10", None]

Page = Callable[..., Awaitable[list[Any]]]


async def _fill(repository: Repository) -> dict[str, Page]:
    """``STORED`` of everything; returns each paged read, bound to what it reads."""
    session = await repository.create_session(make_session(user_id="user-1"))
    for _ in range(STORED - 1):
        await repository.create_session(make_session(user_id="user-1"))
    await repository.create_messages([make_message(session) for _ in range(STORED)])
    for _ in range(STORED):
        await repository.create_agent(make_agent())
        await repository.create_tool(make_tool())
        await repository.create_mcp_server(make_mcp_server())
        await repository.create_external_service(make_external_service())
    r = repository
    return {
        "list_sessions": lambda **page: r.list_sessions(**page),
        "list_sessions(user_id)": lambda **page: r.list_sessions("user-1", **page),
        "get_messages_by_session": lambda **page: r.get_messages_by_session(session.id, **page),
        "list_agents": lambda **page: r.list_agents(**page),
        "list_tools": lambda **page: r.list_tools(**page),
        "list_tools(all)": lambda **page: r.list_tools(False, **page),
        "list_mcp_servers": lambda **page: r.list_mcp_servers(**page),
        "list_mcp_servers(all)": lambda **page: r.list_mcp_servers(False, **page),
        "list_external_services": lambda **page: r.list_external_services(**page),
        "list_external_services(all)": lambda **page: r.list_external_services(False, **page),
    }


async def test_offsets_past_the_end_are_empty_pages(repository: Repository) -> None:
    pages = await _fill(repository)
    async with unchanged(repository):
        for name, page in pages.items():
            assert len(await page(limit=1000, offset=STORED - 1)) == 1, name  # capped page
            for offset in HUGE_OFFSETS:
                assert await page(offset=offset) == [], f"{name}(offset={offset})"
                assert await page(limit=1000, offset=offset) == [], f"{name}(offset={offset})"


async def _refused(call: Awaitable[list[Any]], what: str, where: str) -> None:
    """``call`` raises a ``RepositoryValidationError`` naming ``what`` (and nothing else)."""
    try:
        await call
    except RepositoryValidationError as exc:
        assert what in str(exc), f"{where}: {exc}"
    except Exception as exc:
        raise AssertionError(f"{where} raised {type(exc).__name__}: {exc}") from exc
    else:
        raise AssertionError(f"{where} was accepted")


async def test_bad_offsets_are_refused(repository: Repository) -> None:
    pages = await _fill(repository)
    async with unchanged(repository):
        for name, page in pages.items():
            for offset in BAD_OFFSETS:
                await _refused(page(offset=offset), "offset", f"{name}(offset={offset!r})")


async def test_bad_limits_are_refused(repository: Repository) -> None:
    pages = await _fill(repository)
    session = (await repository.list_sessions(limit=1))[0]

    def recent(**page: Any) -> Awaitable[list[Any]]:
        return repository.get_recent_messages(session.id, **page)

    async with unchanged(repository):
        for limit in BAD_LIMITS:
            await _refused(recent(limit=limit), "limit", f"get_recent_messages(limit={limit!r})")
            for name, page in pages.items():
                await _refused(page(limit=limit), "limit", f"{name}(limit={limit!r})")
                # a bad limit is refused whatever the offset, a clamped one included
                where = f"{name}(limit={limit!r}, offset=2**63)"
                await _refused(page(limit=limit, offset=2**63), "limit", where)
