"""The follow-up of compliance alarms: raised by the check, explained by the enterprise,
verified or closed by an operator, every step in the audit trail (``alarm_events``).

Lifecycle: ``open`` → ``explained`` (the enterprise says why; it may explain again) →
``verified`` (an operator found the breach real, e.g. on inspection) or ``closed`` (no
breach, or dealt with). An operator may verify or close an alarm that was never explained.
A finding of the check on an alarm still open or explained updates it (a suspected load
alarm becomes confirmed) instead of raising a second one; once verified or closed, the next
finding of the same condition raises a new alarm. When the condition is gone the alarm
records ``cleared_at`` (and the event) but stays open until a person acts on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import HazeError, not_found
from service.security import Principal
from service.storage.models import Alarm, TelemetryValue
from service.storage.repositories import alarms as alarm_rows
from service.storage.repositories import audit, telemetry, utcnow

SYSTEM = "system"
GRADES = ("suspected", "confirmed")
#: The evidence series: from this long before the condition began ...
SERIES_BEFORE = dt.timedelta(minutes=30)
#: ... to this long after it cleared (or now).
SERIES_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Finding:
    """What the check found this interval about one subject of one enterprise."""

    enterprise_id: str
    region: str
    kind: str  # one of service.storage.models.ALARM_KINDS
    subject: str  # line id, logger MN or pollutant code
    grade: str  # suspected | confirmed
    level: str  # the warning level in force
    started_at: dt.datetime  # the interval the condition began
    evidence: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.enterprise_id, self.kind, self.subject)


def record_of(alarm: Alarm) -> dict[str, Any]:
    """The ``haze.alarms`` value of an alarm (keyed by its id: compacted, the topic keeps
    every alarm's current state)."""
    return {
        "id": alarm.id,
        "enterprise_id": alarm.enterprise_id,
        "region": alarm.region,
        "kind": alarm.kind,
        "subject": alarm.subject,
        "grade": alarm.grade,
        "level": alarm.level,
        "status": alarm.status,
        "started_at": alarm.started_at.isoformat(),
        "raised_at": alarm.raised_at.isoformat(),
        "confirmed_at": None if alarm.confirmed_at is None else alarm.confirmed_at.isoformat(),
        "cleared_at": None if alarm.cleared_at is None else alarm.cleared_at.isoformat(),
        "evidence": alarm.evidence,
    }


async def record_findings(
    session: AsyncSession, findings: Sequence[Finding], now: dt.datetime
) -> list[Alarm]:
    """Raise new alarms and upgrade active ones; the alarms that changed."""
    existing = await alarm_rows.active_for(session, {f.key for f in findings})
    changed: list[Alarm] = []
    for finding in findings:
        alarm = existing.get(finding.key)
        if alarm is None:
            alarm = Alarm(
                enterprise_id=finding.enterprise_id,
                region=finding.region,
                kind=finding.kind,
                subject=finding.subject,
                grade=finding.grade,
                level=finding.level,
                status="open",
                started_at=finding.started_at,
                raised_at=now,
                confirmed_at=now if finding.grade == "confirmed" else None,
                evidence=finding.evidence,
                updated_at=now,
            )
            session.add(alarm)
            await session.flush()
            alarm_rows.add_event(session, alarm, now, SYSTEM, "raised", finding.grade)
            existing[finding.key] = alarm
        elif GRADES.index(finding.grade) > GRADES.index(alarm.grade) or alarm.cleared_at:
            if finding.grade == "confirmed" and alarm.confirmed_at is None:
                alarm.confirmed_at = now
                alarm_rows.add_event(session, alarm, now, SYSTEM, "confirmed")
            if alarm.cleared_at is not None:
                alarm.cleared_at = None
                alarm_rows.add_event(session, alarm, now, SYSTEM, "recurred")
            alarm.grade = max(alarm.grade, finding.grade, key=GRADES.index)
            alarm.evidence = finding.evidence
            alarm.level = finding.level
            alarm.updated_at = now
        else:
            continue
        changed.append(alarm)
    await session.flush()
    return changed


async def record_cleared(
    session: AsyncSession, keys: Sequence[tuple[str, str, str]], now: dt.datetime
) -> list[Alarm]:
    """The conditions of ``keys`` are gone: their active alarms record it."""
    changed = []
    for alarm in (await alarm_rows.active_for(session, set(keys))).values():
        if alarm.cleared_at is None:
            alarm.cleared_at = now
            alarm.updated_at = now
            alarm_rows.add_event(session, alarm, now, SYSTEM, "cleared")
            changed.append(alarm)
    await session.flush()
    return changed


async def series(session: AsyncSession, alarm: Alarm) -> list[TelemetryValue]:
    """The values of the evidence's logger (``mn``) and ``codes`` around the alarm: from
    :data:`SERIES_BEFORE` before it began to :data:`SERIES_AFTER` after it cleared (or now);
    none when the evidence names no logger."""
    evidence = alarm.evidence or {}
    mn, codes = evidence.get("mn"), evidence.get("codes")
    if not isinstance(mn, str) or not isinstance(codes, list) or not codes:
        return []
    end = (alarm.cleared_at or utcnow()) + SERIES_AFTER
    start = alarm.started_at - SERIES_BEFORE
    return await telemetry.series(session, mn, [str(c) for c in codes], start, end)


def _unknown(alarm_id: int) -> HazeError:
    return not_found("alarm.unknown", f"没有告警 {alarm_id}", f"No alarm {alarm_id}")


async def visible(session: AsyncSession, principal: Principal, alarm_id: int) -> Alarm:
    """The alarm, if ``principal`` may see it (an enterprise: its own; else 404)."""
    alarm = await alarm_rows.get(session, alarm_id)
    if alarm is None or (
        principal.role == "enterprise" and alarm.enterprise_id != principal.enterprise_id
    ):
        raise _unknown(alarm_id)
    return alarm


def _conflict(alarm: Alarm, action: str) -> HazeError:
    return HazeError(
        409,
        "alarm.status",
        {
            "zh-CN": f"告警 {alarm.id} 当前状态为 {alarm.status}，不能{_ACTION_ZH[action]}",
            "en": f"Alarm {alarm.id} is {alarm.status}: it cannot be {action}",
        },
        [{"field": "status", "value": alarm.status}],
    )


_ACTION_ZH = {"explained": "说明", "verified": "核实", "closed": "关闭"}


async def explain(
    session: AsyncSession, principal: Principal, alarm_id: int, text: str, now: dt.datetime
) -> Alarm:
    """The enterprise explains an alarm of its own (again, if it was explained already)."""
    alarm = await visible(session, principal, alarm_id)
    alarm = await alarm_rows.get(session, alarm.id, lock=True) or alarm
    if alarm.status not in alarm_rows.ACTIVE:
        raise _conflict(alarm, "explained")
    alarm.status, alarm.explanation, alarm.updated_at = "explained", text, now
    alarm_rows.add_event(session, alarm, now, principal.token_id, "explained", text)
    await audit.record(session, principal.token_id, "alarm.explain", f"alarm/{alarm.id}")
    await session.flush()
    return alarm


async def resolve(
    session: AsyncSession,
    principal: Principal,
    alarm_id: int,
    outcome: str,
    note: str,
    now: dt.datetime,
) -> Alarm:
    """An operator verifies (``verified``) or closes (``closed``) an open or explained alarm."""
    alarm = await alarm_rows.get(session, alarm_id, lock=True)
    if alarm is None:
        raise _unknown(alarm_id)
    if alarm.status not in alarm_rows.ACTIVE:
        raise _conflict(alarm, outcome)
    alarm.status, alarm.updated_at = outcome, now
    alarm_rows.add_event(session, alarm, now, principal.token_id, outcome, note or None)
    await audit.record(session, principal.token_id, f"alarm.{outcome}", f"alarm/{alarm.id}")
    await session.flush()
    return alarm
