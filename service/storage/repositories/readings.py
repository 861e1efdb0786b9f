"""Hourly readings and AQI results, stored idempotently per station and hour.

Readings may arrive hours late, be corrected, or come again (a replayed batch): an upsert
keyed on ``(station_id, observed_at)`` keeps the newest values, stamps ``updated_at`` only
when a value really changed, and leaves a replay without effect. AQI results are keyed on
``(station_id, observed_at, period)`` the same way. ``observed_at`` is the hour the value
ends (HJ 663), timezone-aware.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import AqiResult, Reading
from service.storage.repositories import UpsertCounts, upsert_rows, utcnow

#: Pollutant columns of a reading [µg/m³; mg/m³ for CO].
POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "o3", "co")
PERIODS: tuple[str, ...] = ("1h", "24h")
_AQI_VALUES = ("aqi", "category", "primary", "iaqi", "edition", "means")
#: The upserts write past the ORM: rows already loaded in the session are read again.
_FRESH = {"populate_existing": True}


def _number(value: Any) -> float | None:
    """A float, or None for a missing value (None or NaN, as decoded batches mark it)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _reading_row(row: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {
        "station_id": row["station_id"],
        "observed_at": row["observed_at"],
        **{p: _number(row.get(p)) for p in POLLUTANTS},
        "flags": sorted(row.get("flags") or ()),
        "received_at": now,
    }


async def upsert_many(
    session: AsyncSession, rows: Iterable[Mapping[str, Any]], *, now: dt.datetime | None = None
) -> UpsertCounts:
    """Store readings: new station-hours inserted, changed ones replaced, the same ones left.

    Parameters
    ----------
    rows
        Mappings with ``station_id``, ``observed_at`` (aware datetime, hour-ending), any of
        :data:`POLLUTANTS` (missing, None or NaN = not measured) and optional ``flags``
        (a collection of codes, stored sorted). Checked rows only: the stations must exist.
    now
        Stamp for ``received_at`` (new rows) and ``updated_at`` (changed rows).
    """
    now = now or utcnow()
    return await upsert_rows(
        session,
        Reading.__table__,
        (_reading_row(r, now) for r in rows),
        key=("station_id", "observed_at"),
        compared=(*POLLUTANTS, "flags"),
        now=now,
    )


async def get(session: AsyncSession, station_id: str, observed_at: dt.datetime) -> Reading | None:
    """The reading of a station for the hour ending at ``observed_at``."""
    statement = select(Reading).where(
        Reading.station_id == station_id, Reading.observed_at == observed_at
    )
    return (await session.execute(statement, execution_options=_FRESH)).scalar_one_or_none()


async def between(
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    station_ids: Collection[str] | None = None,
) -> list[Reading]:
    """Readings with ``since <= observed_at < until``, by station then hour."""
    statement = select(Reading).where(Reading.observed_at >= since, Reading.observed_at < until)
    if station_ids is not None:
        statement = statement.where(Reading.station_id.in_(list(station_ids)))
    statement = statement.order_by(Reading.station_id, Reading.observed_at)
    return list((await session.execute(statement, execution_options=_FRESH)).scalars())


def _aqi_row(row: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    if row["period"] not in PERIODS:
        raise ValueError(f"AQI period must be one of {PERIODS}, not {row['period']!r}")
    aqi = _number(row.get("aqi"))
    iaqi = {str(p): _number(v) for p, v in (row.get("iaqi") or {}).items()}
    return {
        "station_id": row["station_id"],
        "observed_at": row["observed_at"],
        "period": row["period"],
        "aqi": None if aqi is None else int(aqi),
        "category": int(row.get("category") or 0),
        "primary": row.get("primary") or "",
        "iaqi": iaqi,
        "edition": row.get("edition") or "",
        "means": row.get("means"),
        "computed_at": now,
    }


async def upsert_aqi_many(
    session: AsyncSession, rows: Iterable[Mapping[str, Any]], *, now: dt.datetime | None = None
) -> UpsertCounts:
    """Store AQI results, replacing a station-hour-period's result only when it changed.

    Parameters
    ----------
    rows
        Mappings with ``station_id``, ``observed_at``, ``period`` (``"1h"`` or ``"24h"``),
        ``aqi`` (None or NaN when no pollutant was measured), ``category`` (0 = none),
        ``primary`` (pollutants joined by ``;``), ``iaqi`` (pollutant -> IAQI, NaN = missing)
        ``edition`` (the HJ 633 edition used) and optional ``means`` (the concentrations
        a ``24h`` result was scored from).
    """
    now = now or utcnow()
    return await upsert_rows(
        session,
        AqiResult.__table__,
        (_aqi_row(r, now) for r in rows),
        key=("station_id", "observed_at", "period"),
        compared=_AQI_VALUES,
        now=now,
    )


async def latest_aqi(
    session: AsyncSession, station_id: str, period: str = "1h", *, valid_only: bool = False
) -> AqiResult | None:
    """A station's most recent AQI result of ``period`` (with an AQI, when ``valid_only``)."""
    statement = select(AqiResult).where(
        AqiResult.station_id == station_id, AqiResult.period == period
    )
    if valid_only:
        statement = statement.where(AqiResult.aqi.is_not(None))
    statement = statement.order_by(AqiResult.observed_at.desc()).limit(1)
    return (await session.execute(statement, execution_options=_FRESH)).scalar_one_or_none()


async def page(
    session: AsyncSession,
    station_id: str,
    since: dt.datetime,
    until: dt.datetime,
    *,
    after: dt.datetime | None = None,
    limit: int = 100,
) -> list[Reading]:
    """A station's readings with ``since <= observed_at < until`` (after ``after``) in time
    order, at most ``limit + 1`` (one more tells that a page follows)."""
    statement = select(Reading).where(
        Reading.station_id == station_id,
        Reading.observed_at >= since,
        Reading.observed_at < until,
    )
    if after is not None:
        statement = statement.where(Reading.observed_at > after)
    statement = statement.order_by(Reading.observed_at).limit(limit + 1)
    return list((await session.execute(statement, execution_options=_FRESH)).scalars())


async def aqi_page(
    session: AsyncSession,
    station_id: str,
    since: dt.datetime,
    until: dt.datetime,
    *,
    period: str = "1h",
    after: dt.datetime | None = None,
    limit: int = 100,
) -> list[AqiResult]:
    """A station's AQI results of ``period`` in a range, as :func:`page` reads readings."""
    statement = select(AqiResult).where(
        AqiResult.station_id == station_id,
        AqiResult.period == period,
        AqiResult.observed_at >= since,
        AqiResult.observed_at < until,
    )
    if after is not None:
        statement = statement.where(AqiResult.observed_at > after)
    statement = statement.order_by(AqiResult.observed_at).limit(limit + 1)
    return list((await session.execute(statement, execution_options=_FRESH)).scalars())


async def latest_aqi_of(
    session: AsyncSession, station_ids: Collection[str], since: dt.datetime, period: str = "1h"
) -> dict[str, AqiResult]:
    """The most recent AQI result of ``period`` at or after ``since`` of each of
    ``station_ids`` that has one, in one query."""
    if not station_ids:
        return {}
    where = (
        AqiResult.period == period,
        AqiResult.station_id.in_(list(station_ids)),
        AqiResult.observed_at >= since,
    )
    latest = (
        select(AqiResult.station_id, func.max(AqiResult.observed_at).label("at"))
        .where(*where)
        .group_by(AqiResult.station_id)
        .subquery()
    )
    statement = (
        select(AqiResult)
        .join(
            latest,
            (AqiResult.station_id == latest.c.station_id) & (AqiResult.observed_at == latest.c.at),
        )
        .where(AqiResult.period == period)
    )
    rows = (await session.execute(statement, execution_options=_FRESH)).scalars()
    return {row.station_id: row for row in rows}
