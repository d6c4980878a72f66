"""Credentials (``authentication`` of MCP servers and external services) never show.

Every failure involving an entity that holds ``SECRET`` is rendered the ways a log would
render it (``str``, ``repr``, the whole chain of causes), and none of them may contain it.
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from ai_agent.infrastructure.database import Repository, RepositoryError

from .factories import SECRET, make_external_service, make_mcp_server, make_tool

M = TypeVar("M", bound=BaseModel)
Attempt = Callable[[Repository, Any], Awaitable[Any]]


def rendered(exc: BaseException) -> str:
    parts = []
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts + traceback.format_exception(exc))


def smuggle(entity: M, field: str, value: Any) -> M:
    copy = entity.model_copy()
    object.__setattr__(copy, field, value)
    return copy


# Each attempt gets a stored entity holding SECRET and fails in its own way.
ATTEMPTS: dict[str, Attempt] = {
    "duplicate id": lambda r, e: r.create_mcp_server(e),
    "duplicate name": lambda r, e: r.create_mcp_server(e.model_copy(update={"id": uuid4()})),
    "missing on update": lambda r, e: r.update_mcp_server(e.model_copy(update={"id": uuid4()})),
    "NUL beside the secret": lambda r, e: r.update_mcp_server(
        smuggle(e, "authentication", {"token": SECRET, "bad": "\x00"})
    ),
    "non-JSON beside the secret": lambda r, e: r.update_mcp_server(
        smuggle(e, "authentication", {"token": SECRET, "bad": {1, 2}})
    ),
    "bad other field": lambda r, e: r.update_mcp_server(smuggle(e, "endpoint", "")),
    "naive datetime": lambda r, e: r.create_mcp_server(
        smuggle(e, "created_at", datetime(2024, 1, 1))  # noqa: DTZ001
    ),
    "wrong type": lambda r, e: r.create_external_service(e),
    "tool naming a missing server": lambda r, e: r.create_tool(make_tool(mcp_server_id=uuid4())),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
async def test_no_error_shows_the_secret(repository: Repository, attempt: str) -> None:
    server = await repository.create_mcp_server(make_mcp_server())

    with pytest.raises(RepositoryError) as raised:
        await ATTEMPTS[attempt](repository, server)

    assert SECRET not in rendered(raised.value)


async def test_external_service_errors_do_not_show_the_secret(repository: Repository) -> None:
    service = await repository.create_external_service(make_external_service())
    attempts = [
        repository.create_external_service(service),
        repository.update_external_service(service.model_copy(update={"id": uuid4()})),
        repository.update_external_service(
            smuggle(service, "authentication", {"api_key": SECRET, "n": float("nan")})
        ),
        repository.create_external_service(smuggle(service, "service_type", "bogus")),
    ]
    for call in attempts:
        with pytest.raises(RepositoryError) as raised:
            await call
        assert SECRET not in rendered(raised.value)


def test_construction_errors_do_not_show_the_secret() -> None:
    for build in (
        lambda: make_mcp_server(endpoint="", authentication={"token": SECRET}),
        lambda: make_mcp_server(authentication={"token": SECRET, "x": "\x00"}),
        lambda: make_external_service(service_type="bogus", authentication={"k": SECRET}),
        lambda: make_external_service(authentication={"k": SECRET, "n": float("inf")}),
    ):
        with pytest.raises(ValidationError) as raised:
            build()
        assert SECRET not in rendered(raised.value)


async def test_entities_do_not_show_the_secret(repository: Repository) -> None:
    server = await repository.create_mcp_server(make_mcp_server())
    service = await repository.create_external_service(make_external_service())
    fetched = [
        await repository.get_mcp_server(server.id),
        await repository.get_external_service(service.id),
        *await repository.list_mcp_servers(),
        *await repository.list_external_services(),
    ]

    for entity in [server, service, *fetched]:
        assert entity is not None
        assert SECRET not in repr(entity)
        assert SECRET not in str(entity)
        assert SECRET in str(entity.model_dump())  # still stored, only hidden
    assert SECRET not in repr(repository)
