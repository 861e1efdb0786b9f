"""Alert types of the warning lifecycle: an alert, an event, the settings, a region's state.

The state machine over these types is in :mod:`emission_list.lifecycle` (forecasts),
:mod:`emission_list.signoff` (proposals) and :mod:`emission_list.manual` (by hand), built on
:mod:`emission_list.alert_transitions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emission_list.i18n import Text
from emission_list.levels import Level, Response
from emission_list.regions import state_code

SOURCES = ("forecast", "manual", "joint")
STATUSES = ("proposed", "active", "lifted", "superseded", "expired")
EVENT_KINDS = ("issue", "upgrade", "downgrade", "lift", "hold", "propose", "approve", "expire")


def check_aware(value: dt.datetime | None, name: str) -> None:
    """Refuse a naive datetime ``value`` (``None`` passes)."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class Alert:
    """A warning of one region, in force over ``[starts_at, ends_at)`` while ``active``.

    A proposal to lift is an alert of level NONE with status ``proposed``.
    """

    region: str
    level: Level
    response: Response | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    source: str = "forecast"
    status: str = "active"
    issued_at: dt.datetime | None = None
    reason: Text = field(default_factory=dict)
    rule_id: str | None = None
    forecast_days: tuple[dt.date, ...] = ()
    proposed_at: dt.datetime | None = None
    approved_by: str | None = None
    approved_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level(self.level))
        if self.response is not None:
            object.__setattr__(self, "response", Response(self.response))
        for name in ("starts_at", "ends_at", "issued_at", "proposed_at", "approved_at"):
            check_aware(getattr(self, name), name)
        if self.source not in SOURCES or self.status not in STATUSES:
            raise ValueError(f"bad alert source {self.source!r} or status {self.status!r}")
        if (self.level is Level.NONE) != (self.response is None):
            raise ValueError("an alert has a response exactly when its level is not NONE")
        if self.level is Level.NONE and self.status != "proposed":
            raise ValueError("only a proposal (to lift) may have level NONE")
        if self.status in ("proposed", "active") and self.ends_at < self.starts_at:
            raise ValueError("ends_at before starts_at")

    @property
    def code(self) -> int:
        """State code (:func:`emission_list.regions.state_code`)."""
        return state_code(self.level, self.response)

    @property
    def signoff_wait(self) -> dt.timedelta | None:
        """Time from proposal to sign-off, when signed off."""
        if self.proposed_at is None or self.approved_at is None:
            return None
        return self.approved_at - self.proposed_at

    def in_force(self, at: dt.datetime) -> bool:
        return self.status == "active" and self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class AlertEvent:
    """Something that happened to a region's alert; ``alert`` is the alert after it."""

    kind: str
    region: str
    at: dt.datetime
    alert: Alert | None
    previous_level: Level
    reason: Text
    replaced: Alert | None = None  # the alert or proposal this event closed, as closed
    wait: dt.timedelta | None = None  # sign-off wait, on "approve"


@dataclass(frozen=True)
class LifecycleSettings:
    """Per-region lifecycle settings (data).

    ``lift_below_aqi`` is inclusive: AQI ≤ 150 is lightly polluted or better (HJ 633).
    """

    downgrade_confirmations: int = 2
    lift_below_aqi: int = 150
    lift_min_hours: float = 36.0
    requires_signoff: bool = False
    timezone: str = "Asia/Shanghai"
    forecasts_override_manual: bool = False
    manual_default_hours: float = 24.0
    signoff_target_hours: float = 2.0

    def __post_init__(self) -> None:
        if self.downgrade_confirmations < 1 or self.lift_min_hours < 0:
            raise ValueError("downgrade_confirmations >= 1 and lift_min_hours >= 0")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LifecycleSettings:
        names = set(cls.__dataclass_fields__)
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown lifecycle settings {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class RegionAlertState:
    """A region's alerts: the latest decided alert, a pending proposal, and the history.

    ``bridge`` is the alert still in force until ``current`` starts, when an upgrade was
    scheduled ahead; ``downgrade_to`` is the target of a streak of lower forecasts.
    """

    current: Alert | None = None
    proposal: Alert | None = None
    lower_streak: int = 0
    history: tuple[AlertEvent, ...] = ()
    region: str | None = None
    bridge: Alert | None = None
    downgrade_to: Alert | None = None
    last_forecast_at: dt.datetime | None = None


Events = list[AlertEvent]


def in_force(state: RegionAlertState, at: dt.datetime) -> Alert | None:
    """The alert in force at ``at`` (the current one, else the bridge), if any."""
    for alert in (state.current, state.bridge):
        if alert is not None and alert.in_force(at):
            return alert
    return None
