"""The tables of Haze Response as typed SQLAlchemy 2.0 ORM classes.

The migrations in ``alembic/versions`` are the source of the schema; a test checks that these
classes and the migrated database agree on both dialects. These classes stay inside
``service.storage.repositories``: the API speaks pydantic schemas and the domain's own types.

Timestamps are timezone-aware UTC (:class:`~service.storage.types.UTCDateTime`); JSON documents
are ``jsonb`` on PostgreSQL. Readings and AQI results carry the hour they end (HJ 663).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from emission_list.aqi import POLLUTANTS as AQI_POLLUTANTS
from emission_list.rolling import WINDOW_COLUMNS
from service.storage.types import BigIntPK, JSONType, NamedNumbers, UTCDateTime

#: Constraint names that are stable across dialects (migrations refer to them by name).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
NAME = String(200)
LEVELS = ("none", "yellow", "orange", "red")
ROLES = ("operator", "station", "enterprise")
#: An AQI result's IAQI by pollutant, and the concentrations it was scored from: hourly
#: values by pollutant, or the 24-hour window's statistics (emission_list.rolling).
IAQI_VALUES = NamedNumbers(AQI_POLLUTANTS)
MEAN_VALUES = NamedNumbers(AQI_POLLUTANTS, WINDOW_COLUMNS)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class Region(Base):
    """A node of the region tree; no parent = a root."""

    __tablename__ = "regions"

    region_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(NAME)
    name_en: Mapped[str] = mapped_column(NAME)
    parent: Mapped[str | None] = mapped_column(
        ForeignKey("regions.region_id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str | None] = mapped_column(String(16))
    requires_signoff: Mapped[bool] = mapped_column(default=False, server_default=false())


class RegionOutline(Base):
    """A region's GeoJSON outline (Polygon or MultiPolygon, WGS 84) and where it came from."""

    __tablename__ = "region_outlines"

    region_id: Mapped[str] = mapped_column(
        ForeignKey("regions.region_id", ondelete="CASCADE"), primary_key=True
    )
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(NAME, default="", server_default="")


class Station(Base):
    """A monitoring station; gases at reference, particles at actual conditions (GB 3095)."""

    __tablename__ = "stations"

    station_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(NAME)
    name_en: Mapped[str] = mapped_column(NAME)
    lon: Mapped[float] = mapped_column(Double)
    lat: Mapped[float] = mapped_column(Double)
    region: Mapped[str] = mapped_column(ForeignKey("regions.region_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    gas_condition: Mapped[str] = mapped_column(String(16))
    particle_condition: Mapped[str] = mapped_column(String(16))
    units: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Reading(Base):
    """One station-hour [µg/m³; mg/m³ for CO]; ``updated_at`` is set by a later correction."""

    __tablename__ = "readings"
    __table_args__ = (Index(None, "observed_at"),)

    station_id: Mapped[str] = mapped_column(ForeignKey("stations.station_id"), primary_key=True)
    observed_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    pm25: Mapped[float | None] = mapped_column(Double)
    pm10: Mapped[float | None] = mapped_column(Double)
    so2: Mapped[float | None] = mapped_column(Double)
    no2: Mapped[float | None] = mapped_column(Double)
    o3: Mapped[float | None] = mapped_column(Double)
    co: Mapped[float | None] = mapped_column(Double)
    flags: Mapped[list[str]] = mapped_column(JSONType)
    received_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime | None]


class AqiResult(Base):
    """A station's AQI for the hour (``1h``, real-time) or the day ending then (``24h``)."""

    __tablename__ = "aqi_results"
    __table_args__ = (CheckConstraint(_one_of("period", ("1h", "24h")), name="period"),)

    # Derived rows, several per reading: keyed by what they are, no foreign-key trigger (the
    # consumer writes results only for stations it checked; stations are never deleted).
    station_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    observed_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(3), primary_key=True)
    aqi: Mapped[int | None]
    category: Mapped[int] = mapped_column(SmallInteger)  # 0 = no AQI
    primary: Mapped[str] = mapped_column(String(64))  # pollutants joined by ";"
    iaqi: Mapped[dict[str, Any]] = mapped_column(IAQI_VALUES)
    edition: Mapped[str] = mapped_column(String(16))
    means: Mapped[dict[str, Any] | None] = mapped_column(MEAN_VALUES)
    computed_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime | None]


class RegionAqi(Base):
    """A region's AQI for the hour or the 24 hours ending then, from the mean concentrations
    (``means``) of the ``stations`` in it and under it that had a value."""

    __tablename__ = "region_aqi"
    __table_args__ = (CheckConstraint(_one_of("period", ("1h", "24h")), name="period"),)

    region: Mapped[str] = mapped_column(String(32), primary_key=True)  # of the tree, no FK
    observed_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(3), primary_key=True)
    aqi: Mapped[int | None]
    category: Mapped[int] = mapped_column(SmallInteger)
    primary: Mapped[str] = mapped_column(String(64))
    iaqi: Mapped[dict[str, Any]] = mapped_column(IAQI_VALUES)
    means: Mapped[dict[str, Any]] = mapped_column(MEAN_VALUES)
    stations: Mapped[int]
    edition: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime | None]


class WindowMark(Base):
    """Hours of a region's stations whose readings changed since its station ``24h`` results
    and region AQI were last computed (:mod:`consumers.readings_refresh`): written with the
    readings, removed by the refresh that recomputes them, in one transaction each."""

    __tablename__ = "window_marks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    region: Mapped[str] = mapped_column(String(32))  # the stations' own region
    first_hour: Mapped[dt.datetime]
    last_hour: Mapped[dt.datetime]
    marked_at: Mapped[dt.datetime]


class Forecast(Base):
    """A region's daily AQI forecast as issued; ``days`` = ``[{date, aqi, driver}, ...]``."""

    __tablename__ = "forecasts"
    __table_args__ = (UniqueConstraint("region", "issued_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    region: Mapped[str] = mapped_column(ForeignKey("regions.region_id"))
    issued_at: Mapped[dt.datetime]
    days: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    received_at: Mapped[dt.datetime]


class Alert(Base):
    """A warning of one region (:class:`emission_list.alerts.Alert`)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(None, "region", "status"),
        CheckConstraint(_one_of("level", LEVELS), name="level"),
        CheckConstraint(
            _one_of("status", ("proposed", "active", "lifted", "superseded", "expired")),
            name="status",
        ),
        CheckConstraint(_one_of("source", ("forecast", "manual", "joint")), name="source"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    region: Mapped[str] = mapped_column(ForeignKey("regions.region_id"))
    level: Mapped[str] = mapped_column(String(8))
    response: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    issued_at: Mapped[dt.datetime | None]
    reason: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"zh-CN": ..., "en": ...}
    rule_id: Mapped[str | None] = mapped_column(ID)
    forecast_days: Mapped[list[str]] = mapped_column(JSONType)  # ISO dates
    proposed_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(ID)
    approved_at: Mapped[dt.datetime | None]


class AlertEvent(Base):
    """Something that happened to a region's alert (issue, upgrade, lift, ...)."""

    __tablename__ = "alert_events"
    __table_args__ = (Index(None, "region", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), index=True
    )
    region: Mapped[str] = mapped_column(ForeignKey("regions.region_id"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
    previous_level: Mapped[str] = mapped_column(String(8))
    reason: Mapped[dict[str, Any]] = mapped_column(JSONType)


class AlertState(Base):
    """A region's alert-lifecycle state (:func:`service.storage.alert_codec.state_to_dict`), so the
    lifecycle continues after a restart: alert in force, proposal, downgrade streak."""

    __tablename__ = "alert_states"

    region: Mapped[str] = mapped_column(ForeignKey("regions.region_id"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime]


class ListRevision(Base):
    """A numbered snapshot of the emission-reduction list (:class:`Revision`)."""

    __tablename__ = "list_revisions"
    __table_args__ = (CheckConstraint(_one_of("status", ("draft", "published")), name="status"),)

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    base: Mapped[int | None] = mapped_column(ForeignKey("list_revisions.number"))
    status: Mapped[str] = mapped_column(String(10))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    author: Mapped[str] = mapped_column(NAME)
    note: Mapped[Any] = mapped_column(JSONType)  # a text, or {"zh-CN": ..., "en": ...}
    created_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime | None]


class ListEntry(Base):
    """One enterprise of a revision: ``data`` is :meth:`Enterprise.to_dict`."""

    __tablename__ = "list_entries"
    __table_args__ = (
        *(Index(None, "revision", c) for c in ("region", "industry", "grade", "name")),
        # a part of a name: pg_trgm's trigrams on PostgreSQL (alembic 0008), else plain
        Index(
            None,
            "name",
            "name_en",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops", "name_en": "gin_trgm_ops"},
        ),
    )

    revision: Mapped[int] = mapped_column(
        ForeignKey("list_revisions.number", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # copies of data's fields the list is searched by (service.storage.repositories.lists)
    name: Mapped[str] = mapped_column(NAME, default="", server_default="")
    name_en: Mapped[str] = mapped_column(NAME, default="", server_default="")
    region: Mapped[str] = mapped_column(NAME, default="", server_default="")
    industry: Mapped[str] = mapped_column(NAME, default="", server_default="")
    grade: Mapped[str] = mapped_column(NAME, default="", server_default="")


class ConsoleSession(Base):
    """A person signed in to the console: only the SHA-256 of the cookie's secret is kept.
    ``token_id`` names the token it was opened with (no foreign key: the admin token of
    ``HAZE_ADMIN_TOKEN`` is not stored); revoking the token ends the session."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class ConsoleKey(Base):
    """A secret every process of a deployment shares (the console's CSRF signing key)."""

    __tablename__ = "console_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(NAME)


class Token(Base):
    """A bearer token: only the SHA-256 of the secret is kept."""

    __tablename__ = "tokens"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    station_ids: Mapped[list[str]] = mapped_column(JSONType)
    label: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(32))


class AuditEntry(Base):
    """Who changed what: ``actor`` is a token id or ``"system"``."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "target"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(ID)
    action: Mapped[str] = mapped_column(ID)
    target: Mapped[str] = mapped_column(NAME)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Outbox(Base):
    """A committed warning change's records still to be published (:mod:`service.bus.outbox`):
    ``alerts`` = the ``haze.alerts`` records as ``[{"key", "value"}]`` (base64),
    ``enterprises`` = the ids whose ``haze.actions`` record is due (or ``{"regions": [...]}``:
    every enterprise directly in those regions), ``alarms`` = the
    ``haze.alarms`` records like ``alerts``; ``origin`` = the process
    that made the change; ``attempts`` and ``last_error`` count failed publishes."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    created_at: Mapped[dt.datetime]
    origin: Mapped[str] = mapped_column(ID)
    region: Mapped[str] = mapped_column(String(32))
    alerts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    enterprises: Mapped[list[str] | dict[str, list[str]]] = mapped_column(JSONType)
    alarms: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list, server_default="[]"
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class Subscription(Base):
    """Where an enterprise's (or a region's) notices go. ``enterprise_id`` set: that
    enterprise's notices; else ``region``: the notices of the enterprises and alerts in it and
    under it. ``secret`` is a webhook's signing key (``whsec_...``): a key to sign with, so it
    is kept, unlike token secrets; ``second_target`` is the escalation's second contact."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(_one_of("channel", ("webhook", "sms", "email")), name="channel"),
        CheckConstraint(_one_of("status", ("active", "disabled")), name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32), index=True)
    region: Mapped[str | None] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    target: Mapped[str] = mapped_column(String(500))
    second_target: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8))
    events: Mapped[list[str]] = mapped_column(JSONType)
    wants_alerts: Mapped[bool] = mapped_column(index=True)  # asks for an alert.* event
    secret: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class Notice(Base):
    """One enterprise's change of required actions (or one region's alert event), stored
    before any attempt to deliver it. ``payload`` is the webhook body's ``data``; ``as_of``
    when the state it carries was read from the board (older records are ignored);
    ``escalation`` counts
    the escalation steps taken (1: sent again, 2: sent to the second contacts)."""

    __tablename__ = "notices"
    __table_args__ = (
        Index(None, "enterprise_id", "id"),
        Index(None, "created_at"),
        # the notices still to acknowledge (few among many): operators' list, escalation
        Index(
            "ix_notices_unacknowledged",
            "level",
            "id",
            postgresql_where=text("acknowledged_at IS NULL"),
            sqlite_where=text("acknowledged_at IS NULL"),
        ),
        CheckConstraint(_one_of("level", LEVELS), name="level"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    previous_level: Mapped[str] = mapped_column(String(8))
    as_of: Mapped[dt.datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(ID)
    escalation: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class Delivery(Base):
    """A notice to one subscription (and ``target``) and its attempts. ``key`` is
    ``"<subscription>/<enterprise or region>"``: a newer notice supersedes an older pending
    one of the same key, and no two of a key are in flight at once. ``lease_until``: a
    worker is trying it (a worker that dies leaves the lease to run out)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "key", "id"),
        CheckConstraint(
            _one_of("status", ("pending", "delivered", "superseded", "dead", "disabled")),
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(80))
    target: Mapped[str] = mapped_column(String(500))
    stage: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


LOGGER_KINDS = ("station", "meter", "cems")
ALARM_KINDS = ("production_over", "control_stopped", "logger_silent", "cems_over_limit")
ALARM_STATUSES = ("open", "explained", "verified", "closed")


class Logger(Base):
    """An HJ 212 data logger (数采仪) allowed to send to the gateway: a monitoring station's
    (``station_id``) or an enterprise's power meter or stack monitor (``enterprise_id``).
    ``password_sha256``: the packets' ``PW`` is compared by its hash; ``units``: the unit
    of each pollutant code this device sends (absent codes: HJ 212-2017 Table B.2)."""

    __tablename__ = "loggers"
    __table_args__ = (CheckConstraint(_one_of("kind", LOGGER_KINDS), name="kind"),)

    mn: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    station_id: Mapped[str | None] = mapped_column(String(32), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32), index=True)
    password_sha256: Mapped[str] = mapped_column(String(64))
    units: Mapped[dict[str, str]] = mapped_column(JSONType)
    timezone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(ID)


class TelemetryValue(Base):
    """One value of an enterprise's logger: ``code`` (a power channel or a pollutant code),
    ``period`` r (real-time), m (minute), h (hourly), d (daily), ``at`` the period's start;
    ``value`` in the unit the compliance check uses (kW, mg/m³, %), ``flag`` the HJ 212 data
    flag it came with."""

    __tablename__ = "telemetry_values"
    __table_args__ = (Index(None, "enterprise_id", "at"),)

    mn: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    period: Mapped[str] = mapped_column(String(1), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Double)
    flag: Mapped[str] = mapped_column(String(2))


class LineHour(Base):
    """A line's mean load over one hour (UTC start) from its minute data: the history its
    normal load is the median of. ``warned``: a warning was in force for its enterprise."""

    __tablename__ = "line_hours"

    enterprise_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(primary_key=True)
    mean_kw: Mapped[float] = mapped_column(Double)
    minutes: Mapped[int] = mapped_column(SmallInteger)
    warned: Mapped[bool] = mapped_column(default=False)


class Alarm(Base):
    """A compliance alarm: what was found (``kind``, on which line, logger or pollutant
    ``code``), how sure (``grade``: suspected, confirmed), its follow-up ``status`` and the
    figures behind it (``evidence``). ``started_at`` is the interval the condition began,
    ``raised_at`` when it was raised, ``cleared_at`` when the condition was last seen gone."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index(None, "status", "id"),
        Index(None, "enterprise_id", "id"),
        Index(None, "region", "id"),
        CheckConstraint(_one_of("kind", ALARM_KINDS), name="kind"),
        CheckConstraint(_one_of("status", ALARM_STATUSES), name="status"),
        CheckConstraint(_one_of("level", LEVELS), name="level"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(64))  # line id, logger MN or pollutant code
    grade: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="open")
    started_at: Mapped[dt.datetime]
    raised_at: Mapped[dt.datetime]
    confirmed_at: Mapped[dt.datetime | None]
    cleared_at: Mapped[dt.datetime | None]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    explanation: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[dt.datetime]


class AlarmEvent(Base):
    """The audit trail of an alarm: raised, confirmed, cleared, explained, verified,
    closed; by whom (``system`` for the check) and with what note."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(2000))
