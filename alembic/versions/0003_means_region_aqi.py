"""Moving means behind a station's 24-hour AQI, and the AQI of each region.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

``aqi_results.means`` holds the concentrations a result was scored from (for ``24h`` rows the
24-hour means, the 8-hour O3 mean ending at the hour and the window's maximum 8-hour O3).
``region_aqi`` holds a region's AQI per hour and period, from the mean concentrations of the
stations in it and under it (HJ 663-2013), with how many stations counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("aqi_results") as batch:
        batch.add_column(sa.Column("means", _json(), nullable=True))
    op.create_table(
        "region_aqi",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("observed_at", _utc(), nullable=False),
        sa.Column("period", sa.String(3), nullable=False),
        sa.Column("aqi", sa.Integer(), nullable=True),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("primary", sa.String(64), nullable=False),
        sa.Column("iaqi", _json(), nullable=False),
        sa.Column("means", _json(), nullable=False),
        sa.Column("stations", sa.Integer(), nullable=False),
        sa.Column("edition", sa.String(16), nullable=False),
        sa.Column("computed_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.CheckConstraint("period IN ('1h', '24h')", name=op.f("ck_region_aqi_period")),
        sa.ForeignKeyConstraint(
            ["region"], ["regions.region_id"], name=op.f("fk_region_aqi_region_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_aqi")),
        sa.UniqueConstraint(
            "region", "observed_at", "period", name=op.f("uq_region_aqi_region_observed_at_period")
        ),
    )


def downgrade() -> None:
    op.drop_table("region_aqi")
    with op.batch_alter_table("aqi_results") as batch:
        batch.drop_column("means")
