"""The window marks (:class:`~service.storage.models.WindowMark`): region-hours whose derived
results a readings consumer still owes, added with the readings and taken by the refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import WindowMark

#: (region, first hour, last hour), the hours as UTC datetimes.
Marked = tuple[str, dt.datetime, dt.datetime]

_REFRESH_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('haze.window_marks', 0))"


async def add(session: AsyncSession, marks: Sequence[Marked], now: dt.datetime) -> None:
    if not marks:
        return
    rows = [
        {"region": region, "first_hour": first, "last_hour": last, "marked_at": now}
        for region, first, last in marks
    ]
    await session.execute(insert(WindowMark), rows)


async def lock_refresh(session: AsyncSession) -> bool:
    """Whether this transaction may refresh (one refresh at a time over all processes, so a
    refresh that read older readings cannot commit after one that read newer). Elsewhere than
    on PostgreSQL there is one process: always."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(text(_REFRESH_LOCK)))


async def take(session: AsyncSession, limit: int) -> tuple[list[Marked], dt.datetime | None]:
    """Delete up to ``limit`` of the oldest marks (rolled back with the transaction that
    fails to store their results); them and when the oldest was made."""
    oldest = select(WindowMark.id).order_by(WindowMark.id).limit(limit).scalar_subquery()
    statement = (
        delete(WindowMark)
        .where(WindowMark.id.in_(oldest))
        .returning(
            WindowMark.region, WindowMark.first_hour, WindowMark.last_hour, WindowMark.marked_at
        )
    )
    rows = (await session.execute(statement)).all()
    marks = [(row[0], row[1], row[2]) for row in rows]
    return marks, min((row[3] for row in rows), default=None)


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(WindowMark)) or 0)
