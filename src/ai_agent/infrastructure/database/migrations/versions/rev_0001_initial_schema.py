"""Initial schema: sessions, messages, agents, tools, MCP servers, external services.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Released revisions are never edited: add a new one. Dialect differences (PostgreSQL and
SQLite) live inside the revision, branching on ``op.get_bind().dialect.name``.

Type mapping (PostgreSQL / SQLite): ids ``uuid`` / ``TEXT`` (canonical lowercase form, so
text order equals UUID order); timestamps ``timestamptz`` / ``INTEGER`` microseconds since
the Unix epoch (UTC); JSON ``jsonb`` / ``TEXT``; names ``text COLLATE "C"`` / ``TEXT``
(both compare in code-point order). Each index serves one query of the repository contract:

* ``ix_sessions_user_activity``  list_sessions(user_id=...), newest activity first
* ``ix_sessions_activity``       list_sessions() for all users
* ``uq_messages_session_seq``    messages of a session in insertion order, and the last n
* ``ix_messages_parent``         clearing replies when a message is deleted
* ``uq_*_name`` / ``ix_*_enabled_name``  catalog listings by name (all / enabled only)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = postgresql.UUID(as_uuid=True).with_variant(sa.String(36), "sqlite")
TIMESTAMP = postgresql.TIMESTAMP(timezone=True).with_variant(sa.BigInteger(), "sqlite")
JSON = postgresql.JSONB().with_variant(sa.Text(), "sqlite")
NAME = sa.Text(collation="C").with_variant(sa.Text(), "sqlite")

MESSAGE_ROLES = ("user", "assistant", "system", "tool")
AGENT_STATUSES = ("idle", "processing", "waiting", "error", "completed")
SERVICE_TYPES = (
    "llm_provider",
    "mcp_server",
    "database",
    "cache",
    "secret_manager",
    "message_queue",
)


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    ]


def _message_sequence(dialect: str) -> sa.Column[object]:
    # PostgreSQL numbers messages with an identity column; SQLite has no sequences, so its
    # backend assigns max(seq) + 1 per session inside its (serialised) write transaction.
    if dialect == "postgresql":
        return sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False)
    return sa.Column("seq", sa.BigInteger(), nullable=False)


def _create_sessions_and_messages(dialect: str) -> None:
    op.create_table(
        "sessions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_activity", TIMESTAMP, nullable=False),
        *_timestamps(),
        sa.CheckConstraint("message_count >= 0", name="ck_sessions_message_count"),
    )
    op.create_index(
        "ix_sessions_user_activity",
        "sessions",
        ["user_id", sa.text("last_activity DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_sessions_activity", "sessions", [sa.text("last_activity DESC"), sa.text("id DESC")]
    )
    op.create_table(
        "messages",
        sa.Column("id", ID, primary_key=True),
        _message_sequence(dialect),
        sa.Column(
            "session_id",
            ID,
            sa.ForeignKey("sessions.id", ondelete="CASCADE", name="fk_messages_session"),
            nullable=False,
        ),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("tool_calls", JSON, nullable=False),
        sa.Column(
            "parent_message_id",
            ID,
            sa.ForeignKey("messages.id", ondelete="SET NULL", name="fk_messages_parent"),
            nullable=True,
        ),
        *_timestamps(),
        sa.CheckConstraint(_one_of("role", MESSAGE_ROLES), name="ck_messages_role"),
        sa.UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),
    )
    op.create_index(
        "ix_messages_parent",
        "messages",
        ["parent_message_id"],
        postgresql_where=sa.text("parent_message_id IS NOT NULL"),
        sqlite_where=sa.text("parent_message_id IS NOT NULL"),
    )


def _enabled_name_index(table: str) -> None:
    op.create_index(
        f"ix_{table}_enabled_name",
        table,
        ["name", "id"],
        postgresql_where=sa.text("enabled"),
        sqlite_where=sa.text("enabled"),
    )


def _create_catalog() -> None:
    op.create_table(
        "agents",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("llm_config", JSON, nullable=False),
        sa.Column("tools", JSON, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        *_timestamps(),
        sa.CheckConstraint(_one_of("status", AGENT_STATUSES), name="ck_agents_status"),
        sa.UniqueConstraint("name", name="uq_agents_name"),
    )
    op.create_table(
        "mcp_servers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("authentication", JSON, nullable=False),
        sa.Column("capabilities", JSON, nullable=False),
        sa.Column("health_check_url", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("name", name="uq_mcp_servers_name"),
    )
    _enabled_name_index("mcp_servers")
    op.create_table(
        "tools",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tool_schema", JSON, nullable=False),
        sa.Column(
            "mcp_server_id",
            ID,
            sa.ForeignKey("mcp_servers.id", ondelete="SET NULL", name="fk_tools_mcp_server"),
            nullable=True,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("name", name="uq_tools_name"),
    )
    _enabled_name_index("tools")
    op.create_index("ix_tools_mcp_server", "tools", ["mcp_server_id"])
    op.create_table(
        "external_services",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("service_type", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("authentication", JSON, nullable=False),
        sa.Column("retry_config", JSON, nullable=False),
        sa.Column("circuit_breaker_config", JSON, nullable=False),
        sa.Column("health_check_url", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            _one_of("service_type", SERVICE_TYPES), name="ck_external_services_type"
        ),
    )
    op.create_index("ix_external_services_name", "external_services", ["name", "id"])
    _enabled_name_index("external_services")


def upgrade() -> None:
    _create_sessions_and_messages(op.get_bind().dialect.name)
    _create_catalog()


def downgrade() -> None:
    for table in ("external_services", "tools", "mcp_servers", "agents", "messages", "sessions"):
        op.drop_table(table)
