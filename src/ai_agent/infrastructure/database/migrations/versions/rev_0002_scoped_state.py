"""Scoped state: the ``states`` table (one row per key of a scope).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

Released revisions are never edited: add a new one. A scope is a caller-chosen name for one
JSON object shared by several sessions (ADK's ``app:`` and ``user:`` state, for one);
``get_states``, ``create_session_with_state`` and ``append_message_with_state`` read and
merge it key by key, so a merge writes what changed, never the whole object. The primary
key ``(scope, key)`` serves every read (``scope = ANY(...)``) and every upsert; names compare
in code-point order (``COLLATE "C"`` / SQLite's default), the order writers lock rows in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = postgresql.JSONB().with_variant(sa.Text(), "sqlite")
NAME = sa.Text(collation="C").with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "states",
        sa.Column("scope", NAME, nullable=False),
        sa.Column("key", NAME, nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_states"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("states")
