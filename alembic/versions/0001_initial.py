"""Initial schema: regions, stations, readings, AQI, forecasts, alerts, list, tokens, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Types are spelled out here rather than imported from the service, so this migration stays as
it was written whatever the models become: timestamps are ``timestamptz`` (naive UTC text on
SQLite), JSON is ``jsonb`` on PostgreSQL, surrogate keys are 64-bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _check(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def _fk(
    table: str, column: str, target: str, target_column: str, **kw: str
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.{target_column}"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        **kw,
    )


def _station_hour() -> list[sa.Column]:
    """Key columns of a per-station, per-hour table (the hour it ends)."""
    return [
        _id(),
        sa.Column("station_id", sa.String(32), nullable=False),
        sa.Column("observed_at", _utc(), nullable=False),
    ]


def _names() -> list[sa.Column]:
    return [
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("region_id", sa.String(32), nullable=False),
        *_names(),
        sa.Column("parent", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        _fk("regions", "parent", "regions", "region_id", ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_regions")),
    )
    op.create_index(op.f("ix_regions_parent"), "regions", ["parent"])

    op.create_table(
        "stations",
        sa.Column("station_id", sa.String(32), nullable=False),
        *_names(),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("gas_condition", sa.String(16), nullable=False),
        sa.Column("particle_condition", sa.String(16), nullable=False),
        sa.Column("units", _json(), nullable=False),
        _fk("stations", "region", "regions", "region_id"),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_stations")),
    )
    op.create_index(op.f("ix_stations_region"), "stations", ["region"])

    op.create_table(
        "readings",
        *_station_hour(),
        *(
            sa.Column(p, sa.Double(), nullable=True)
            for p in ("pm25", "pm10", "so2", "no2", "o3", "co")
        ),
        sa.Column("flags", _json(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        _fk("readings", "station_id", "stations", "station_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
        sa.UniqueConstraint(
            "station_id", "observed_at", name=op.f("uq_readings_station_id_observed_at")
        ),
    )
    op.create_index(op.f("ix_readings_observed_at"), "readings", ["observed_at"])

    op.create_table(
        "aqi_results",
        *_station_hour(),
        sa.Column("period", sa.String(3), nullable=False),
        sa.Column("aqi", sa.Integer(), nullable=True),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("primary", sa.String(64), nullable=False),
        sa.Column("iaqi", _json(), nullable=False),
        sa.Column("edition", sa.String(16), nullable=False),
        sa.Column("computed_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        _check("aqi_results", "period", ("1h", "24h")),
        _fk("aqi_results", "station_id", "stations", "station_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aqi_results")),
        sa.UniqueConstraint(
            "station_id",
            "observed_at",
            "period",
            name=op.f("uq_aqi_results_station_id_observed_at_period"),
        ),
    )

    op.create_table(
        "forecasts",
        _id(),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("issued_at", _utc(), nullable=False),
        sa.Column("days", _json(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        _fk("forecasts", "region", "regions", "region_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecasts")),
        sa.UniqueConstraint("region", "issued_at", name=op.f("uq_forecasts_region_issued_at")),
    )

    op.create_table(
        "alerts",
        _id(),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("response", sa.String(8), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("issued_at", _utc(), nullable=True),
        sa.Column("reason", _json(), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=True),
        sa.Column("forecast_days", _json(), nullable=False),
        sa.Column("proposed_at", _utc(), nullable=True),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_at", _utc(), nullable=True),
        _check("alerts", "level", ("none", "yellow", "orange", "red")),
        _check("alerts", "status", ("proposed", "active", "lifted", "superseded", "expired")),
        _check("alerts", "source", ("forecast", "manual", "joint")),
        _fk("alerts", "region", "regions", "region_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_region_status"), "alerts", ["region", "status"])

    op.create_table(
        "alert_events",
        _id(),
        sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("previous_level", sa.String(8), nullable=False),
        sa.Column("reason", _json(), nullable=False),
        _fk("alert_events", "alert_id", "alerts", "id", ondelete="SET NULL"),
        _fk("alert_events", "region", "regions", "region_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_alert_id"), "alert_events", ["alert_id"])
    op.create_index(op.f("ix_alert_events_region_at"), "alert_events", ["region", "at"])

    op.create_table(
        "list_revisions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("base", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("note", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("published_at", _utc(), nullable=True),
        _check("list_revisions", "status", ("draft", "published")),
        _fk("list_revisions", "base", "list_revisions", "number"),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_list_revisions")),
    )

    op.create_table(
        "list_entries",
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=False),
        sa.Column("data", _json(), nullable=False),
        _fk("list_entries", "revision", "list_revisions", "number", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("revision", "enterprise_id", name=op.f("pk_list_entries")),
    )

    op.create_table(
        "tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=True),
        sa.Column("station_ids", _json(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=True),
        _check("tokens", "role", ("operator", "station", "enterprise")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tokens_token_hash")),
    )

    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_target"), "audit_log", ["target"])


def downgrade() -> None:
    # Dependants first; dropping a table drops its indexes.
    for table in (
        "audit_log",
        "tokens",
        "list_entries",
        "list_revisions",
        "alert_events",
        "alerts",
        "forecasts",
        "aqi_results",
        "readings",
        "stations",
        "regions",
    ):
        op.drop_table(table)
