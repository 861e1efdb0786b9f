"""API models of compliance alarms."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.times import LocalInstant
from service.storage.models import Alarm, AlarmEvent, TelemetryValue

AlarmKind = Literal["production_over", "control_stopped", "logger_silent", "cems_over_limit"]
AlarmStatus = Literal["open", "explained", "verified", "closed"]
AlarmGrade = Literal["suspected", "confirmed"]


class AlarmOut(BaseModel):
    """What the compliance check found, and where its follow-up stands."""

    id: int
    enterprise_id: str
    region: str
    kind: AlarmKind
    subject: str = Field(description="The line id, the logger's MN or the pollutant code.")
    grade: AlarmGrade
    level: str = Field(description="The warning level in force when it was raised.")
    status: AlarmStatus
    started_at: LocalInstant = Field(description="The interval the condition began.")
    raised_at: LocalInstant
    confirmed_at: LocalInstant | None
    cleared_at: LocalInstant | None = Field(description="When the condition was seen gone.")
    evidence: dict[str, Any] = Field(description="The figures the check judged by.")
    explanation: str | None
    updated_at: LocalInstant

    @classmethod
    def of(cls, row: Alarm) -> AlarmOut:
        return cls.model_validate(row, from_attributes=True)


class AlarmEventOut(BaseModel):
    at: LocalInstant
    actor: str
    action: str
    note: str | None

    @classmethod
    def of(cls, row: AlarmEvent) -> AlarmEventOut:
        return cls.model_validate(row, from_attributes=True)


class SeriesPoint(BaseModel):
    at: LocalInstant = Field(description="Start of the interval.")
    code: str
    value: float | None
    flag: str

    @classmethod
    def of(cls, row: TelemetryValue) -> SeriesPoint:
        return cls(at=row.at, code=row.code, value=row.value, flag=row.flag)


class AlarmDetail(AlarmOut):
    events: list[AlarmEventOut] = Field(description="The audit trail, oldest first.")
    series: list[SeriesPoint] = Field(
        description="The logger's values around the alarm (30 minutes before it began to 10 "
        "minutes after it cleared or now)."
    )


class ExplanationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)
