"""The demo: configuration, the repository pattern, health checks and clean-up.

Runs on the embedded default (in-memory, no server, no set-up) and on SQLite, Redis and
PostgreSQL when configured (``--backend`` or ``STORAGE_BACKEND`` / ``DB_*`` / ``REDIS_*``)::

    python examples/phase2_demo.py
    python examples/phase2_demo.py --backend sqlite
    ai-agent demo --backend postgresql

Every step either succeeds or the demo stops with a non-zero exit status; it prints URLs
redacted and deletes everything it created.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from rich.console import Console
from rich.table import Table

from ai_agent.config.settings import (
    ApplicationSettings,
    ConfigurationValidator,
    StorageBackend,
    get_settings,
)
from ai_agent.domain.models import (
    Agent,
    MCPServer,
    Message,
    MessageRole,
    Session,
    Tool,
    utc_now,
)
from ai_agent.infrastructure.database import (
    BaseRepository,
    cleanup_repository,
    migrations,
    setup_repository,
)

__all__ = ["DemoFailure", "run_demo"]

DEMO_USER = "phase2-demo-user"

# What to delete at the end: (what, delete call returning whether it deleted).
Cleanup = list[tuple[str, Callable[[], Awaitable[bool]]]]


def show_configuration(console: Console, settings: ApplicationSettings) -> None:
    """Step 1: environment-specific settings and what the validator says of each."""
    console.rule("[bold]1. Configuration")
    table = Table("environment", "storage", "debug", "pool", "validator")
    for environment in ("development", "testing", "staging", "production"):
        profile = get_settings(environment)
        problems = ConfigurationValidator.validate_settings(profile)
        verdict = "valid" if not problems else f"{len(problems)} problem(s)"
        pool = f"{profile.database.min_pool_size}-{profile.database.max_pool_size}"
        table.add_row(environment, str(profile.selected_backend), str(profile.debug), pool, verdict)
    console.print(table)
    console.print(f"active environment: [bold]{settings.environment}[/]")
    console.print(f"database URL: {settings.database.url}")  # SQLAlchemy URL: password hidden
    console.print(f"redis URL:    {settings.redis.url}")
    console.print(f"log level:    {settings.observability.log_level}")


@asynccontextmanager
async def connected(
    console: Console, settings: ApplicationSettings
) -> AsyncIterator[BaseRepository]:
    """Step 2: the factory picks, connects and health-checks the configured backend."""
    console.rule("[bold]2. Repository factory")
    backend = settings.selected_backend
    if backend in (StorageBackend.SQLITE, StorageBackend.POSTGRESQL):
        await _migrate(console, settings)
    with console.status(f"connecting to the {backend} backend..."):
        repository = await setup_repository(settings)
    console.print(f"connected: [bold]{type(repository).__name__}[/] at {repository.display_url}")
    try:
        yield repository
    finally:
        await cleanup_repository()
        console.print("repository closed")


async def _migrate(console: Console, settings: ApplicationSettings) -> None:
    """Bring the schema to head, creating a missing PostgreSQL database or SQLite file's
    directory first: the demo needs no set-up (``ai-agent db migrate`` does the same)."""
    url = migrations.settings_url(settings)
    shown = url.set(drivername=url.get_backend_name())  # str() masks the password
    with console.status(f"migrating {shown} to the newest schema..."):
        if url.get_backend_name() == "postgresql":
            await migrations.ensure_database(url)
        else:
            settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        await migrations.upgrade(url)
    console.print(f"schema of {shown}: revision {migrations.head_revision()} (head)")


async def conversation(console: Console, repository: BaseRepository, undo: Cleanup) -> None:
    """Step 3: sessions and messages, with paging and the newest-n read."""
    console.rule("[bold]3. Sessions and messages")
    session = await repository.create_session(Session(user_id=DEMO_USER, title="Trip planning"))
    undo.append(("session", lambda: repository.delete_session(session.id)))
    started = utc_now()
    lines = [
        (MessageRole.USER, "Find me a train from Paris to Lyon tomorrow morning."),
        (MessageRole.ASSISTANT, "The 08:04 TGV arrives at 10:00. Shall I book it?"),
        (MessageRole.USER, "Yes, a window seat please."),
        (MessageRole.ASSISTANT, "Booked: coach 4, seat 61, window. 🚄"),
    ]
    for offset, (role, content) in enumerate(lines):
        await repository.create_message(
            Message(
                session_id=session.id,
                role=role,
                content=content,
                created_at=started + timedelta(milliseconds=offset),
            )
        )
    batch = [
        Message(session_id=session.id, role=MessageRole.SYSTEM, content=f"note {n}")
        for n in range(3)
    ]
    await repository.create_messages(batch)
    stored = await repository.get_session(session.id)
    _require(stored is not None and stored.message_count == 7, "message_count after 7 appends")
    assert stored is not None
    first_page = await repository.get_messages_by_session(session.id, limit=3, offset=0)
    second_page = await repository.get_messages_by_session(session.id, limit=3, offset=3)
    recent = await repository.get_recent_messages(session.id, limit=2)
    _require([m.content for m in first_page] == [content for _, content in lines[:3]], "page 1")
    _require(len(second_page) == 3 and len(recent) == 2, "page 2 and the newest two")
    console.print(f"session {session.id} holds {stored.message_count} messages")
    for message in recent:
        console.print(f"  newest: {message.role}: {message.content}", markup=False)
    renamed = await repository.update_session(stored.model_copy(update={"title": "Lyon trip"}))
    _require(renamed.title == "Lyon trip" and renamed.message_count == 7, "update_session")
    mine = await repository.list_sessions(user_id=DEMO_USER, limit=10)
    _require(any(found.id == session.id for found in mine), "list_sessions(user_id)")
    console.print(f"user {DEMO_USER!r} has {len(mine)} session(s); renamed to {renamed.title!r}")


async def catalog(console: Console, repository: BaseRepository, undo: Cleanup) -> None:
    """Step 4: an MCP server, a tool it serves, and an agent that uses the tool."""
    console.rule("[bold]4. Agents, tools and MCP servers")
    server = await repository.create_mcp_server(
        MCPServer(
            name="phase2-demo-mcp",
            endpoint="http://127.0.0.1:9000/mcp",
            authentication={"token": "demo-token-never-printed"},
            capabilities=["tools"],
        )
    )
    undo.append(("MCP server", lambda: repository.delete_mcp_server(server.id)))
    tool = await repository.create_tool(
        Tool(
            name="phase2-demo-train-search",
            description="Search train connections",
            tool_schema={"type": "object", "properties": {"from": {"type": "string"}}},
            mcp_server_id=server.id,
        )
    )
    undo.append(("tool", lambda: repository.delete_tool(tool.id)))
    agent = await repository.create_agent(
        Agent(name="phase2-demo-travel-agent", tools=[tool.name], llm_config={"model": "demo"})
    )
    undo.append(("agent", lambda: repository.delete_agent(agent.id)))
    hidden = "demo-token" not in repr(server)  # authentication never shows in repr or str
    console.print(f"MCP server {server.name!r} at {server.endpoint}; credentials hidden: {hidden}")
    console.print(f"tool {tool.name!r} served by {server.name!r}; agent {agent.name!r}")
    enabled = await repository.list_tools(enabled_only=True, limit=100)
    _require(any(found.id == tool.id for found in enabled), "list_tools(enabled_only=True)")


async def health(console: Console, repository: BaseRepository) -> None:
    """Step 5: the repository's health check."""
    console.rule("[bold]5. Health check and clean-up")
    began = time.perf_counter()
    healthy = await repository.health_check()
    console.print(f"health check: {healthy} in {(time.perf_counter() - began) * 1000:.1f} ms")
    _require(healthy, "health_check()")


async def clean_up(console: Console, undo: Cleanup) -> None:
    """Delete what the demo created, newest first; try every delete, raise the first error."""
    first_error: Exception | None = None
    for what, delete in reversed(undo):
        try:
            if not await delete():
                raise DemoFailure(f"the demo's {what} was already gone at clean-up")
        except Exception as exc:
            first_error = first_error or exc
    undo.clear()
    if first_error is not None:
        raise first_error
    console.print("deleted everything the demo created")


class DemoFailure(RuntimeError):
    """A repository answered differently from what the contract promises."""


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailure(f"unexpected result from {what}")


async def run_demo(settings: ApplicationSettings, console: Console | None = None) -> None:
    """Run every step against the backend ``settings`` select; raise on any failure."""
    console = console or Console()
    show_configuration(console, settings)
    undo: Cleanup = []
    async with connected(console, settings) as repository:
        try:
            await conversation(console, repository, undo)
            await catalog(console, repository, undo)
            await health(console, repository)
        except BaseException:
            # Still delete what was made, but report the step that failed, not the clean-up.
            with contextlib.suppress(Exception):
                await clean_up(console, undo)
            raise
        await clean_up(console, undo)
    console.rule("[bold green]Phase 2 demo completed")
