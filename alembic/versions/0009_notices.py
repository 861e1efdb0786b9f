"""Notices to enterprises: subscriptions, the notices, and their deliveries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

* ``subscriptions``: a channel (webhook, SMS, email), its target and language, the events
  wanted, for one enterprise or a region (and the regions under it).
* ``notices``: one per enterprise per change of its required actions (or per region alert
  event), stored before any delivery is tried.
* ``deliveries``: a notice to one subscription, with its attempts, lease and state.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LEVELS = "level IN ('none', 'yellow', 'orange', 'red')"


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("region", sa.String(32)),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("second_target", sa.String(500)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("events", _JSON, nullable=False),
        sa.Column("wants_alerts", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(100)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("disabled_reason", sa.String(500)),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.CheckConstraint(
            "channel IN ('webhook', 'sms', 'email')", name=op.f("ck_subscriptions_channel")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'disabled')", name=op.f("ck_subscriptions_status")
        ),
    )
    op.create_index(op.f("ix_subscriptions_enterprise_id"), "subscriptions", ["enterprise_id"])
    op.create_index(op.f("ix_subscriptions_region"), "subscriptions", ["region"])
    op.create_index(op.f("ix_subscriptions_wants_alerts"), "subscriptions", ["wants_alerts"])
    op.create_table(
        "notices",
        sa.Column("id", _BIGINT, nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("previous_level", sa.String(8), nullable=False),
        sa.Column("as_of", _UTC, nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("acknowledged_at", _UTC),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("escalation", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.CheckConstraint(_LEVELS, name=op.f("ck_notices_level")),
    )
    op.create_index(op.f("ix_notices_enterprise_id_id"), "notices", ["enterprise_id", "id"])
    op.create_index(op.f("ix_notices_created_at"), "notices", ["created_at"])
    unacknowledged = sa.text("acknowledged_at IS NULL")
    op.create_index(
        "ix_notices_unacknowledged",
        "notices",
        ["level", "id"],
        postgresql_where=unacknowledged,
        sqlite_where=unacknowledged,
    )
    op.create_table(
        "deliveries",
        sa.Column("id", _BIGINT, nullable=False),
        sa.Column("notice_id", _BIGINT, nullable=False),
        sa.Column("subscription_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("stage", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("next_attempt_at", _UTC, nullable=False),
        sa.Column("lease_until", _UTC),
        sa.Column("delivered_at", _UTC),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.String(500)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_deliveries_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_deliveries_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'superseded', 'dead', 'disabled')",
            name=op.f("ck_deliveries_status"),
        ),
    )
    op.create_index(
        op.f("ix_deliveries_status_next_attempt_at"), "deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(op.f("ix_deliveries_key_id"), "deliveries", ["key", "id"])
    op.create_index(op.f("ix_deliveries_notice_id"), "deliveries", ["notice_id"])
    op.create_index(op.f("ix_deliveries_subscription_id"), "deliveries", ["subscription_id"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("notices")
    op.drop_table("subscriptions")
