"""Alert-lifecycle states, alert snapshots and their events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import Alert, AlertEvent, RegionAlertState
from emission_list.i18n import Text
from service.storage.alert_codec import (
    alert_from_dict,
    alert_to_dict,
    state_from_dict,
    state_to_dict,
)
from service.storage.models import Alert as AlertRow
from service.storage.models import AlertEvent as EventRow
from service.storage.models import AlertState
from service.storage.repositories import put_row, utcnow


@dataclass(frozen=True)
class StoredEvent:
    id: int
    kind: str
    region: str
    at: dt.datetime
    previous_level: str
    reason: Text
    alert: Alert | None


async def load_states(
    session: AsyncSession, regions: Sequence[str] | None = None
) -> dict[str, RegionAlertState]:
    """Every region's lifecycle state (or those of ``regions`` only)."""
    statement = select(AlertState)
    if regions is not None:
        statement = statement.where(AlertState.region.in_(list(regions)))
    rows = (await session.scalars(statement)).all()
    return {row.region: state_from_dict(row.state) for row in rows}


async def save_state(session: AsyncSession, region: str, state: RegionAlertState) -> None:
    values = {"region": region, "state": state_to_dict(state), "updated_at": utcnow()}
    await put_row(session, AlertState, region, values)


def _alert_row(alert: Alert) -> AlertRow:
    data = alert_to_dict(alert)
    for name in _TIMES:
        data[name] = getattr(alert, name)
    return AlertRow(**data)


async def record_events(session: AsyncSession, events: Sequence[AlertEvent]) -> None:
    """Store each event with a snapshot of the alert it concerns."""
    for event in events:
        alert_id = None
        if event.alert is not None:
            row = _alert_row(event.alert)
            session.add(row)
            await session.flush()
            alert_id = row.id
        session.add(
            EventRow(
                alert_id=alert_id,
                region=event.region,
                kind=event.kind,
                at=event.at,
                previous_level=event.previous_level.label,
                reason=dict(event.reason),
            )
        )
    await session.flush()


async def history(
    session: AsyncSession,
    *,
    region: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    regions: Sequence[str] | None = None,
    after: tuple[dt.datetime, int] | None = None,
    limit: int | None = None,
) -> list[StoredEvent]:
    """Events in time order (then id), each with its alert snapshot: of ``region`` (or of any
    of ``regions``), with ``since <= at < until``, after the event ``after`` (its time and
    id), at most ``limit`` (all when None)."""
    query = select(EventRow, AlertRow).outerjoin(AlertRow, EventRow.alert_id == AlertRow.id)
    if region is not None:
        query = query.where(EventRow.region == region)
    if regions is not None:
        query = query.where(EventRow.region.in_(list(regions)))
    if since is not None:
        query = query.where(EventRow.at >= since)
    if until is not None:
        query = query.where(EventRow.at < until)
    if after is not None:
        at, event_id = after
        query = query.where(or_(EventRow.at > at, and_(EventRow.at == at, EventRow.id > event_id)))
    query = query.order_by(EventRow.at, EventRow.id)
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).all()
    return [
        StoredEvent(
            id=event.id,
            kind=event.kind,
            region=event.region,
            at=event.at,
            previous_level=event.previous_level,
            reason=event.reason,
            alert=None if alert is None else alert_from_row(alert),
        )
        for event, alert in rows
    ]


_TIMES = ("starts_at", "ends_at", "issued_at", "proposed_at", "approved_at")


def alert_from_row(row: AlertRow) -> Alert:
    data = {
        "region": row.region,
        "level": row.level,
        "response": row.response,
        "source": row.source,
        "status": row.status,
        "reason": row.reason,
        "rule_id": row.rule_id,
        "forecast_days": row.forecast_days,
        "approved_by": row.approved_by,
    }
    for name in _TIMES:
        value = getattr(row, name)
        data[name] = None if value is None else value.isoformat()
    return alert_from_dict(data)
