"""HJ 212 loggers, enterprises' telemetry, lines' hourly loads, compliance alarms.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

* ``loggers``: the data loggers the gateway accepts (MN, kind, owner, password hash, units).
* ``telemetry_values``: the values enterprises' loggers sent (power channels, CEMS).
* ``line_hours``: each line's hourly mean load, the history of its normal load.
* ``alarms`` and ``alarm_events``: what the compliance check found and its follow-up.
* ``outbox.alarms``: the ``haze.alarms`` records of a change, published with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DOUBLE = sa.Double()


def upgrade() -> None:
    op.create_table(
        "loggers",
        sa.Column("mn", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("station_id", sa.String(32)),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("password_sha256", sa.String(64), nullable=False),
        sa.Column("units", _JSON, nullable=False),
        sa.Column("timezone", sa.String(40), nullable=False, server_default=""),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("mn", name=op.f("pk_loggers")),
        sa.CheckConstraint("kind IN ('station', 'meter', 'cems')", name=op.f("ck_loggers_kind")),
    )
    op.create_index(op.f("ix_loggers_station_id"), "loggers", ["station_id"])
    op.create_index(op.f("ix_loggers_enterprise_id"), "loggers", ["enterprise_id"])
    op.create_table(
        "telemetry_values",
        sa.Column("mn", sa.String(32), nullable=False),
        sa.Column("code", sa.String(24), nullable=False),
        sa.Column("period", sa.String(1), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=False),
        sa.Column("value", _DOUBLE),
        sa.Column("flag", sa.String(2), nullable=False),
        sa.PrimaryKeyConstraint("mn", "code", "period", "at", name=op.f("pk_telemetry_values")),
    )
    op.create_index(
        op.f("ix_telemetry_values_enterprise_id_at"), "telemetry_values", ["enterprise_id", "at"]
    )
    op.create_table(
        "line_hours",
        sa.Column("enterprise_id", sa.String(32), nullable=False),
        sa.Column("line_id", sa.String(32), nullable=False),
        sa.Column("hour", _UTC, nullable=False),
        sa.Column("mean_kw", _DOUBLE, nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("enterprise_id", "line_id", "hour", name=op.f("pk_line_hours")),
    )
    op.create_table(
        "alarms",
        sa.Column("id", _BIGINT, nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(12), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("raised_at", _UTC, nullable=False),
        sa.Column("confirmed_at", _UTC),
        sa.Column("cleared_at", _UTC),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("explanation", sa.String(2000)),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.CheckConstraint(
            "kind IN ('production_over', 'control_stopped', 'logger_silent', 'cems_over_limit')",
            name=op.f("ck_alarms_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'explained', 'verified', 'closed')", name=op.f("ck_alarms_status")
        ),
        sa.CheckConstraint(
            "level IN ('none', 'yellow', 'orange', 'red')", name=op.f("ck_alarms_level")
        ),
    )
    op.create_index(op.f("ix_alarms_status_id"), "alarms", ["status", "id"])
    op.create_index(op.f("ix_alarms_enterprise_id_id"), "alarms", ["enterprise_id", "id"])
    op.create_index(op.f("ix_alarms_region_id"), "alarms", ["region", "id"])
    op.create_table(
        "alarm_events",
        sa.Column("id", _BIGINT, nullable=False),
        sa.Column("alarm_id", _BIGINT, nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.String(2000)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_events")),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["alarms.id"],
            name=op.f("fk_alarm_events_alarm_id_alarms"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_alarm_events_alarm_id"), "alarm_events", ["alarm_id"])
    op.add_column("outbox", sa.Column("alarms", _JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("outbox", "alarms")
    op.drop_table("alarm_events")
    op.drop_table("alarms")
    op.drop_table("line_hours")
    op.drop_table("telemetry_values")
    op.drop_table("loggers")
