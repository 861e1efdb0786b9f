"""JSON form of alerts and of a region's alert-lifecycle state, for the database and the bus.

The state keeps what the lifecycle needs to continue after a restart (the alert in force, a
pending proposal, the bridge of a scheduled upgrade, the downgrade streak and its target, the
last forecast applied). Its history is not kept here: every event is a row of
``alert_events``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from emission_list.alerts import Alert, RegionAlertState
from emission_list.levels import Level, Response


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    return {
        "region": alert.region,
        "level": alert.level.label,
        "response": None if alert.response is None else str(alert.response),
        "starts_at": alert.starts_at.isoformat(),
        "ends_at": alert.ends_at.isoformat(),
        "source": alert.source,
        "status": alert.status,
        "issued_at": _time(alert.issued_at),
        "reason": dict(alert.reason),
        "rule_id": alert.rule_id,
        "forecast_days": [d.isoformat() for d in alert.forecast_days],
        "proposed_at": _time(alert.proposed_at),
        "approved_by": alert.approved_by,
        "approved_at": _time(alert.approved_at),
    }


def alert_from_dict(data: dict[str, Any]) -> Alert:
    return Alert(
        region=data["region"],
        level=Level.parse(data["level"]),
        response=None if data["response"] is None else Response(data["response"]),
        starts_at=dt.datetime.fromisoformat(data["starts_at"]),
        ends_at=dt.datetime.fromisoformat(data["ends_at"]),
        source=data["source"],
        status=data["status"],
        issued_at=_parse_time(data["issued_at"]),
        reason=dict(data["reason"]),
        rule_id=data["rule_id"],
        forecast_days=tuple(dt.date.fromisoformat(d) for d in data["forecast_days"]),
        proposed_at=_parse_time(data["proposed_at"]),
        approved_by=data["approved_by"],
        approved_at=_parse_time(data["approved_at"]),
    )


_ALERT_FIELDS = ("current", "proposal", "bridge", "downgrade_to")


def state_to_dict(state: RegionAlertState) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: None if getattr(state, name) is None else alert_to_dict(getattr(state, name))
        for name in _ALERT_FIELDS
    }
    out |= {
        "region": state.region,
        "lower_streak": state.lower_streak,
        "last_forecast_at": _time(state.last_forecast_at),
    }
    return out


def state_from_dict(data: dict[str, Any]) -> RegionAlertState:
    alerts = {
        name: None if data.get(name) is None else alert_from_dict(data[name])
        for name in _ALERT_FIELDS
    }
    return RegionAlertState(
        region=data["region"],
        lower_streak=int(data["lower_streak"]),
        last_forecast_at=_parse_time(data["last_forecast_at"]),
        **alerts,
    )
