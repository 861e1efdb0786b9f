"""Readings and AQI results keyed by what they are; no foreign-key trigger on the results.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

The readings consumer writes several rows per reading in bulk. ``readings`` (station, hour),
``aqi_results`` and ``region_aqi`` (place, hour, period) lose their surrogate ``id``: the
natural key the upserts already matched on becomes the primary key, so each row maintains
one unique index instead of two. The results (derived rows) also lose their foreign keys:
the consumer writes results only for stations it has just checked and regions of the tree,
and neither stations nor regions are ever deleted. The readings keep theirs: they are the
primary data.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table, natural key, the foreign key dropped (column, parent table, parent column) or None
_TABLES = (
    ("readings", ("station_id", "observed_at"), None),
    ("aqi_results", ("station_id", "observed_at", "period"), ("stations", "station_id")),
    ("region_aqi", ("region", "observed_at", "period"), ("regions", "region_id")),
)


def _unique_name(table: str, key: Sequence[str]) -> str:
    return op.f(f"uq_{table}_{'_'.join(key)}")


def upgrade() -> None:
    for table, key, parent in _TABLES:
        with op.batch_alter_table(table) as batch:
            if parent:
                batch.drop_constraint(op.f(f"fk_{table}_{key[0]}_{parent[0]}"), "foreignkey")
            batch.drop_constraint(_unique_name(table, key), type_="unique")
            batch.drop_constraint(op.f(f"pk_{table}"), type_="primary")
            batch.drop_column("id")
            batch.create_primary_key(op.f(f"pk_{table}"), list(key))


def downgrade() -> None:
    for table, key, parent in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"pk_{table}"), type_="primary")
            batch.add_column(
                sa.Column(
                    "id",
                    sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                    sa.Identity(),
                    nullable=False,
                )
            )
            batch.create_primary_key(op.f(f"pk_{table}"), ["id"])
            batch.create_unique_constraint(_unique_name(table, key), list(key))
            if parent:
                batch.create_foreign_key(
                    op.f(f"fk_{table}_{key[0]}_{parent[0]}"), parent[0], [key[0]], [parent[1]]
                )
