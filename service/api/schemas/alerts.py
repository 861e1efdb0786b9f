"""API models of forecasts, warning decisions and alerts."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from emission_list.alerts import Alert, AlertEvent
from emission_list.i18n import Text, pick
from emission_list.levels import Driver
from emission_list.warnings import Decision, Forecast, ForecastDay
from service.api.schemas.inputs import DayText, Instant, Stamp
from service.api.schemas.times import LocalInstant, local_iso
from service.services.warnings import Outcome, Pending
from service.storage.repositories.alerts import StoredEvent

LevelName = Literal["none", "yellow", "orange", "red"]
ResponseName = Literal["full", "o3", "advisory"]


class ForecastDayIn(BaseModel):
    date: DayText = Field(description="Local date (Asia/Shanghai); the first may be today.")
    aqi: int = Field(ge=0, le=2000, description="Forecast daily AQI.")
    driver: Driver = Field(Driver.PM25, description="What drives the day.")


class ForecastIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region": "150203",
                    "issued_at": "2026-12-02T16:00:00+08:00",
                    "daily": [
                        {"date": "2026-12-02", "aqi": 130},
                        {"date": "2026-12-03", "aqi": 160},
                        {"date": "2026-12-04", "aqi": 185, "driver": "pm25"},
                    ],
                }
            ]
        }
    )

    region: str = Field(min_length=1, max_length=32)
    issued_at: Stamp  # its range: service.services.forecast_check (a code per problem)
    daily: list[ForecastDayIn] = Field(
        min_length=1,
        max_length=366,  # a parse bound; the checks allow 15 (forecast.too_many_days)
        description="Consecutive local days from the local issue date (or later), at most 15.",
    )

    def to_domain(self) -> Forecast:
        days = tuple(ForecastDay(d.date, d.aqi, d.driver) for d in self.daily)
        return Forecast(region=self.region, issued_at=self.issued_at, days=days)


class AlertOut(BaseModel):
    """An alert in force, scheduled, or in the history."""

    region: str
    level: LevelName
    response: ResponseName | None
    status: str
    source: Literal["forecast", "manual", "joint"]
    starts_at: LocalInstant
    ends_at: LocalInstant
    issued_at: LocalInstant | None
    reason: str
    rule_id: str | None
    forecast_days: list[dt.date]

    @classmethod
    def of(cls, alert: Alert, language: str) -> AlertOut:
        return cls(
            region=alert.region,
            level=alert.level.label,
            response=None if alert.response is None else str(alert.response),
            status=alert.status,
            source=alert.source,
            starts_at=alert.starts_at,
            ends_at=alert.ends_at,
            issued_at=alert.issued_at,
            reason=pick(alert.reason, language),
            rule_id=alert.rule_id,
            forecast_days=list(alert.forecast_days),
        )


class DecisionOut(BaseModel):
    """What a forecast decided, why, and what the lifecycle did with it."""

    region: str
    level: LevelName
    response: ResponseName | None
    rule_id: str | None
    days: list[dt.date]
    reason: str
    events: list[dict[str, str]] = Field(
        description="Lifecycle events: kind (issue, upgrade, downgrade, lift, hold, propose, ...)"
        " with the reason."
    )
    alert: AlertOut | None = Field(description="The region's alert after the decision.")
    enterprises_changed: int = Field(description="Enterprises whose required actions changed.")
    duplicate: bool = Field(False, description="This forecast was already applied: no change.")

    @classmethod
    def of(cls, outcome: Outcome, decision: Decision, language: str) -> DecisionOut:
        alert = outcome.state.current
        return cls(
            region=outcome.region,
            level=decision.level.label,
            response=None if decision.response is None else str(decision.response),
            rule_id=decision.rule_id,
            days=list(decision.days),
            reason=pick(decision.reason, language),
            events=[event_summary(e, language) for e in outcome.events],
            alert=None if alert is None else AlertOut.of(alert, language),
            enterprises_changed=len(outcome.changed_enterprises),
            duplicate=outcome.duplicate,
        )


def event_summary(event: AlertEvent, language: str) -> dict[str, str]:
    return {"kind": event.kind, "at": local_iso(event.at), "reason": pick(event.reason, language)}


class ChangeOut(BaseModel):
    """What an operator's warning did."""

    region: str
    events: list[dict[str, str]]
    alert: AlertOut | None
    enterprises_changed: int

    @classmethod
    def of(cls, outcome: Outcome, language: str) -> ChangeOut:
        alert = outcome.state.current
        return cls(
            region=outcome.region,
            events=[event_summary(e, language) for e in outcome.events],
            alert=None if alert is None else AlertOut.of(alert, language),
            enterprises_changed=len(outcome.changed_enterprises),
        )


class EventOut(BaseModel):
    """One entry of a region's alert history."""

    kind: str
    region: str
    at: LocalInstant
    previous_level: str
    reason: str
    alert: AlertOut | None

    @classmethod
    def of(cls, event: StoredEvent, language: str) -> EventOut:
        return cls(
            kind=event.kind,
            region=event.region,
            at=event.at,
            previous_level=event.previous_level,
            reason=pick(event.reason, language),
            alert=None if event.alert is None else AlertOut.of(event.alert, language),
        )


class ProposalOut(BaseModel):
    """A region's change waiting for sign-off, and how long it has waited."""

    region: str
    kind: Literal["issue", "upgrade", "downgrade", "lift"] = Field(
        description="What signing it off does to the alert in force or scheduled."
    )
    level: LevelName = Field(description='The level proposed ("none": lift).')
    response: ResponseName | None
    current_level: LevelName = Field(description="The level of the region's alert now.")
    proposed_at: LocalInstant
    starts_at: LocalInstant
    ends_at: LocalInstant
    reason: str
    rule_id: str | None
    forecast_days: list[dt.date]
    wait_s: int = Field(description="Seconds waited so far.")
    late: bool = Field(description="Waited beyond the region's sign-off target (2 hours).")

    @classmethod
    def of(cls, pending: Pending, language: str) -> ProposalOut:
        proposal, current = pending.proposal, pending.current
        return cls(
            region=pending.region,
            kind=pending.kind,  # type: ignore[arg-type]
            level=proposal.level.label,
            response=None if proposal.response is None else str(proposal.response),
            current_level="none" if current is None else current.level.label,
            proposed_at=proposal.proposed_at or proposal.starts_at,
            starts_at=proposal.starts_at,
            ends_at=proposal.ends_at,
            reason=pick(proposal.reason, language),
            rule_id=proposal.rule_id,
            forecast_days=list(proposal.forecast_days),
            wait_s=int(pending.wait.total_seconds()),
            late=pending.late,
        )


class ManualAlertIn(BaseModel):
    """An operator issues, changes or lifts (level "none") a warning by hand."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "region": "150200",
                    "level": "orange",
                    "reason": {
                        "zh-CN": "市政府发布橙色预警",
                        "en": "City issued an orange warning",
                    },
                    "ends_at": "2026-12-08T00:00:00+08:00",
                }
            ]
        }
    )

    region: str
    level: LevelName
    response: ResponseName = "full"
    source: Literal["manual", "joint"] = "manual"
    reason: Text = Field(description='Bilingual text: {"zh-CN": ..., "en": ...} (one is enough).')
    ends_at: Instant | None = None
