"""What the web console needs: sessions, shared keys, region outlines, searchable entries.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

* ``console_sessions``: a signed-in person's session; only the SHA-256 of the cookie's
  secret is kept. It names the token it was opened with (no foreign key: the admin token of
  ``HAZE_ADMIN_TOKEN`` is not stored), so revoking that token ends the session.
* ``console_keys``: secrets every process of a deployment must share (the CSRF signing key),
  made by the first process that needs them.
* ``region_outlines``: a region's GeoJSON outline (a Polygon or MultiPolygon, WGS 84), kept
  apart from ``regions`` so that reading the tree does not read the shapes.
* ``list_entries`` gains the columns the list is searched by (name in both languages,
  region, industry, grade), filled from ``data``, with an index per filter.
* ``regions.requires_signoff``: a warning decision for the region waits as a proposal until
  an operator signs it off (off by default).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_SEARCH = ("name", "name_en", "region", "industry", "grade")


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.Column("ended_at", _UTC),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_console_sessions_secret_hash")),
    )
    op.create_index(op.f("ix_console_sessions_token_id"), "console_sessions", ["token_id"])
    op.create_table(
        "console_keys",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_console_keys")),
    )
    op.create_table(
        "region_outlines",
        sa.Column("region_id", sa.String(32), nullable=False),
        sa.Column("geometry", _JSON, nullable=False),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_region_outlines")),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.region_id"],
            name=op.f("fk_region_outlines_region_id_regions"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("regions") as batch:
        batch.add_column(
            sa.Column("requires_signoff", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("list_entries") as batch:
        for column in _SEARCH:
            batch.add_column(sa.Column(column, sa.String(200), nullable=False, server_default=""))
    _fill_search_columns()
    for column in ("region", "industry", "grade", "name"):
        op.create_index(
            op.f(f"ix_list_entries_revision_{column}"), "list_entries", ["revision", column]
        )


def _fill_search_columns() -> None:
    connection = op.get_bind()
    entries = sa.table(
        "list_entries",
        sa.column("revision", sa.Integer),
        sa.column("enterprise_id", sa.String),
        sa.column("data", _JSON),
        *(sa.column(c, sa.String) for c in _SEARCH),
    )
    key = (entries.c.revision, entries.c.enterprise_id)
    rows = connection.execute(sa.select(*key, entries.c.data))
    for revision_number, enterprise_id, data in rows.fetchall():
        data = json.loads(data) if isinstance(data, str) else data
        values = {c: str(data.get(c) or "")[:200] for c in _SEARCH}
        connection.execute(
            entries.update()
            .where(entries.c.revision == revision_number)
            .where(entries.c.enterprise_id == enterprise_id)
            .values(**values)
        )


def downgrade() -> None:
    for column in ("region", "industry", "grade", "name"):
        op.drop_index(op.f(f"ix_list_entries_revision_{column}"), "list_entries")
    with op.batch_alter_table("list_entries") as batch:
        for column in _SEARCH:
            batch.drop_column(column)
    with op.batch_alter_table("regions") as batch:
        batch.drop_column("requires_signoff")
    op.drop_table("region_outlines")
    op.drop_table("console_keys")
    op.drop_index(op.f("ix_console_sessions_token_id"), "console_sessions")
    op.drop_table("console_sessions")
