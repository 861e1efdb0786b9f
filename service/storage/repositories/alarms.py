"""Compliance alarms (``alarms``) and their audit trail (``alarm_events``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import Alarm, AlarmEvent
from service.storage.repositories import paging

#: Statuses of an alarm still followed up (a new finding updates it instead of a new one).
ACTIVE = ("open", "explained")


@dataclass(frozen=True)
class AlarmFilter:
    regions: Collection[str] | None = None
    enterprise_id: str | None = None
    statuses: Collection[str] | None = None
    levels: Collection[str] | None = None
    kinds: Collection[str] | None = None


async def active(session: AsyncSession) -> list[Alarm]:
    """Every alarm still open or explained (the check's memory of what it raised)."""
    statement = select(Alarm).where(Alarm.status.in_(ACTIVE))
    return list((await session.execute(statement)).scalars())


async def active_for(
    session: AsyncSession, keys: Collection[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Alarm]:
    """The active alarms of ``(enterprise, kind, subject)`` keys, locked for the update."""
    if not keys:
        return {}
    enterprises = sorted({key[0] for key in keys})
    statement = (
        select(Alarm)
        .where(Alarm.status.in_(ACTIVE), Alarm.enterprise_id.in_(enterprises))
        .with_for_update()
    )
    found = {}
    for row in (await session.execute(statement)).scalars():
        key = (row.enterprise_id, row.kind, row.subject)
        if key in keys:
            found[key] = row
    return found


async def get(session: AsyncSession, alarm_id: int, *, lock: bool = False) -> Alarm | None:
    if lock:
        statement = select(Alarm).where(Alarm.id == alarm_id).with_for_update()
        return await session.scalar(statement)
    return await session.get(Alarm, alarm_id)


def add_event(
    session: AsyncSession,
    alarm: Alarm,
    at: dt.datetime,
    actor: str,
    action: str,
    note: str | None = None,
) -> None:
    session.add(AlarmEvent(alarm_id=alarm.id, at=at, actor=actor, action=action, note=note))


async def events(session: AsyncSession, alarm_id: int) -> list[AlarmEvent]:
    statement = select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)
    return list((await session.execute(statement)).scalars())


async def page(
    session: AsyncSession,
    where: AlarmFilter,
    *,
    limit: int = paging.DEFAULT_LIMIT,
    before: int | None = None,
) -> tuple[list[Alarm], str | None]:
    """Alarms matching ``where``, newest first, a page at a time."""
    statement = select(Alarm)
    if where.regions is not None:
        statement = statement.where(Alarm.region.in_(list(where.regions)))
    if where.enterprise_id is not None:
        statement = statement.where(Alarm.enterprise_id == where.enterprise_id)
    if where.statuses:
        statement = statement.where(Alarm.status.in_(list(where.statuses)))
    if where.levels:
        statement = statement.where(Alarm.level.in_(list(where.levels)))
    if where.kinds:
        statement = statement.where(Alarm.kind.in_(list(where.kinds)))
    keys = None if before is None else (before,)
    statement = paging.keyset(statement, [Alarm.id], keys, limit, backward=True)
    found: Sequence[Alarm] = list((await session.execute(statement)).scalars())
    return paging.page(found, limit, lambda row: str(row.id))


async def active_by_kind(session: AsyncSession) -> dict[str, int]:
    """How many alarms of each kind are still followed up (open or explained)."""
    statement = (
        select(Alarm.kind, func.count()).where(Alarm.status.in_(ACTIVE)).group_by(Alarm.kind)
    )
    return {kind: count for kind, count in await session.execute(statement)}
