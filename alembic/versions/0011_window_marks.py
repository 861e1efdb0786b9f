"""Window marks: the region-hours whose derived results a readings consumer still owes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

* ``window_marks``: written with each batch of readings a Kafka readings consumer stores on
  PostgreSQL; its refresh recomputes the stations' ``24h`` results and the regions' AQI of
  the marked hours and deletes the marks in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "window_marks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("first_hour", _UTC, nullable=False),
        sa.Column("last_hour", _UTC, nullable=False),
        sa.Column("marked_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_window_marks")),
    )


def downgrade() -> None:
    op.drop_table("window_marks")
