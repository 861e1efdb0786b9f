"""The alert events the public warnings are made of: each with its alert snapshot's row id.

Every lifecycle event that carries an alert stored a new ``alerts`` row (a snapshot, never
changed afterwards): an issue, each upgrade, downgrade and hold, the lift, an expiry, and
the proposals of sign-off. :mod:`service.public.messages` turns them into CAP messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.alerts import Alert
from service.storage.models import Alert as AlertRow
from service.storage.models import AlertEvent as EventRow
from service.storage.models import ListEntry
from service.storage.repositories.alerts import alert_from_row

#: Event kinds that end a region's warning or change it; proposals and sign-off are internal.
KINDS = ("issue", "upgrade", "downgrade", "hold", "lift", "expire")


@dataclass(frozen=True)
class AlertEventRow:
    """An event with the id of its alert snapshot (the CAP document's id)."""

    alert_id: int
    event_id: int
    kind: str
    region: str
    at: dt.datetime
    alert: Alert


def _query():  # type: ignore[no-untyped-def]
    return (
        select(EventRow, AlertRow)
        .join(AlertRow, EventRow.alert_id == AlertRow.id)
        .where(EventRow.kind.in_(KINDS))
    )


def _rows(found: object) -> list[AlertEventRow]:
    return [
        AlertEventRow(alert.id, event.id, event.kind, event.region, event.at, alert_from_row(alert))
        for event, alert in found  # type: ignore[attr-defined]
    ]


async def of_alert(session: AsyncSession, alert_id: int) -> AlertEventRow | None:
    """The event whose snapshot is the alert ``alert_id``."""
    found = (await session.execute(_query().where(AlertRow.id == alert_id))).all()
    rows = _rows(found)
    return rows[0] if rows else None


async def of_regions(
    session: AsyncSession,
    regions: Collection[str],
    *,
    until: AlertEventRow | None = None,
) -> list[AlertEventRow]:
    """The events of ``regions`` in time order (then id), up to and with ``until``."""
    query = _query().where(EventRow.region.in_(list(regions)))
    if until is not None:
        same_time = and_(EventRow.at == until.at, EventRow.id <= until.event_id)
        query = query.where(or_(EventRow.at < until.at, same_time))
    query = query.order_by(EventRow.at, EventRow.id)
    return _rows((await session.execute(query)).all())


async def regions_since(session: AsyncSession, since: dt.datetime) -> set[str]:
    """Regions with an event at or after ``since``."""
    query = select(EventRow.region).where(EventRow.at >= since, EventRow.kind.in_(KINDS))
    return set((await session.scalars(query.distinct())).all())


async def alert_ids_between(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[int]:
    """Alert ids (ascending) of the events with ``start <= at < end``."""
    query = (
        select(AlertRow.id, EventRow.kind, AlertRow.status)
        .join(EventRow, EventRow.alert_id == AlertRow.id)
        .where(EventRow.at >= start, EventRow.at < end, EventRow.kind.in_(KINDS))
        .order_by(AlertRow.id)
    )
    return [
        alert_id
        for alert_id, kind, status in (await session.execute(query)).all()
        if kind != "expire" and status in ("active", "lifted")
    ]


async def grades_under(
    session: AsyncSession, revision: int, regions: Collection[str]
) -> dict[str, str]:
    """Enterprise id -> grade of revision ``revision``'s entries in ``regions``."""
    query = select(ListEntry.enterprise_id, ListEntry.grade).where(
        ListEntry.revision == revision, ListEntry.region.in_(list(regions))
    )
    return {eid: grade for eid, grade in (await session.execute(query)).all()}
