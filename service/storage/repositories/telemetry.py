"""Enterprises' telemetry (``telemetry_values``) and their lines' hourly loads (``line_hours``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import LineHour, TelemetryValue
from service.storage.repositories import CHUNK_ROWS

_VALUES = TelemetryValue.__table__
_HOURS = LineHour.__table__


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def store_values(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert values; one already stored (a logger sending a packet again) is kept as is."""
    for start in range(0, len(rows), CHUNK_ROWS):
        statement: Insert = _insert(session, _VALUES).on_conflict_do_nothing()
        await session.execute(statement, list(rows[start : start + CHUNK_ROWS]))


async def series(
    session: AsyncSession, mn: str, codes: Sequence[str], start: dt.datetime, end: dt.datetime
) -> list[TelemetryValue]:
    """A logger's minute and real-time values of ``codes`` in ``[start, end)``, by time."""
    statement = (
        select(TelemetryValue)
        .where(
            TelemetryValue.mn == mn,
            TelemetryValue.code.in_(list(codes)),
            TelemetryValue.period.in_(("m", "r")),
            TelemetryValue.at >= start,
            TelemetryValue.at < end,
        )
        .order_by(TelemetryValue.at, TelemetryValue.code)
    )
    return list((await session.execute(statement)).scalars())


async def put_hours(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Create or replace lines' hourly loads."""
    for start in range(0, len(rows), CHUNK_ROWS):
        statement = _insert(session, _HOURS)
        statement = statement.on_conflict_do_update(
            index_elements=["enterprise_id", "line_id", "hour"],
            set_={
                "mean_kw": statement.excluded.mean_kw,
                "minutes": statement.excluded.minutes,
                "warned": statement.excluded.warned,
            },
        )
        await session.execute(statement, list(rows[start : start + CHUNK_ROWS]))


async def hours_since(session: AsyncSession, since: dt.datetime) -> AsyncIterator[Sequence[Any]]:
    """Every line's hourly loads from ``since`` on (the normal loads' history), as plain
    rows ``(enterprise_id, line_id, hour, mean_kw, minutes, warned)``, a chunk at a time
    (weeks of every line's hours: held all at once they would take tens of MB)."""
    columns = (_HOURS.c[name] for name in ("enterprise_id", "line_id", "hour"))
    statement = select(*columns, _HOURS.c.mean_kw, _HOURS.c.minutes, _HOURS.c.warned).where(
        _HOURS.c.hour >= since
    )
    result = await session.stream(statement)
    async for chunk in result.partitions(CHUNK_ROWS):
        yield chunk


async def forget_before(session: AsyncSession, before: dt.datetime) -> int:
    """Delete values older than ``before`` (kept ``HAZE_TELEMETRY_KEEP_DAYS``)."""
    result = await session.execute(delete(TelemetryValue).where(TelemetryValue.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
