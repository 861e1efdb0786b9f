"""What the 24-hour windows and region AQI of a batch read and write.

Reads: the stations of some regions, and the stored readings of some stations over a span
of hours, as columns (PostgreSQL through the driver, stamps as epoch seconds; elsewhere
through SQLAlchemy). Writes: stations' ``24h`` AQI results with the means behind them, and
regions' AQI, both upserted so that a recomputation that finds the same values writes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.aqi import POLLUTANTS as IAQI_ORDER
from service.storage.models import MEAN_VALUES, AqiResult, Reading, RegionAqi
from service.storage.models import Station as StationRow
from service.storage.repositories import (
    UpsertCounts,
    columnar,
    driver_connection,
    upsert_rows,
    utcnow,
)
from service.storage.repositories.columnar import Staging, float_array, not_nan, upsert_sql
from service.storage.repositories.readings import PERIODS, POLLUTANTS, upsert_aqi_many

_GRID_SQL = f"""
SELECT station_id, extract(epoch FROM observed_at)::float8, {", ".join(POLLUTANTS)}
FROM readings
WHERE station_id = ANY($1::text[]) AND observed_at BETWEEN to_timestamp($2) AND to_timestamp($3)
"""
_LOCK_SQL = """
SELECT pg_advisory_xact_lock(hashtextextended('haze.region_aqi:' || r, 0))
FROM unnest($1::text[]) AS r ORDER BY r
"""
#: Results upserted per statement: a refresh's many stay within the staging table's memory
#: (``temp_buffers``, 8 MB by default); larger statements were slower per row.
RESULTS_PER_STATEMENT = 5000
_STATION_VALUES = ("aqi", "category", "primary", "iaqi", "means", "edition")
_REGION_VALUES = (*_STATION_VALUES, "stations")


async def lock_regions(session: AsyncSession, region_ids: Sequence[str]) -> None:
    """Hold a transaction lock on each region's results (PostgreSQL; elsewhere there is one
    writer). Taken in one sorted order, so two consumers cannot deadlock on them."""
    if not region_ids or session.get_bind().dialect.name != "postgresql":
        return
    raw = await driver_connection(session)
    await raw.execute(_LOCK_SQL, sorted(set(region_ids)))


async def station_regions(session: AsyncSession, region_ids: Collection[str]) -> dict[str, str]:
    """Station id -> region of the stations placed on ``region_ids``."""
    if not region_ids:
        return {}
    statement = select(StationRow.station_id, StationRow.region).where(
        StationRow.region.in_(list(region_ids))
    )
    return {row[0]: row[1] for row in await session.execute(statement)}


async def grid_readings(
    session: AsyncSession, station_ids: Sequence[str], since: np.datetime64, until: np.datetime64
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Stored readings of ``station_ids`` with ``since <= observed_at <= until``: the station
    of each, its hour (datetime64[s], UTC) and its values ``(n, 6)`` in POLLUTANTS order."""
    bounds = [since.astype("datetime64[s]"), until.astype("datetime64[s]")]
    if session.get_bind().dialect.name == "postgresql":
        raw = await driver_connection(session)
        epochs = [float(b.astype(np.int64)) for b in bounds]
        rows = await raw.fetch(_GRID_SQL, list(station_ids), *epochs)
        stations = [row[0] for row in rows]
        table = np.array([tuple(row)[1:] for row in rows], dtype=np.float64).reshape(-1, 7)
        return stations, table[:, 0].astype(np.int64).astype("datetime64[s]"), table[:, 1:]
    since_at, until_at = (b.astype(dt.datetime).replace(tzinfo=dt.UTC) for b in bounds)
    columns = [getattr(Reading, p) for p in POLLUTANTS]
    statement = select(Reading.station_id, Reading.observed_at, *columns).where(
        Reading.station_id.in_(list(station_ids)),
        Reading.observed_at >= since_at,
        Reading.observed_at <= until_at,
    )
    rows = (await session.execute(statement)).all()
    stations = [row[0] for row in rows]
    times = np.array([row[1].replace(tzinfo=None) for row in rows], dtype="datetime64[s]")
    values = np.array([row[2:] for row in rows], dtype=np.float64).reshape(-1, len(POLLUTANTS))
    return stations, times, values


@dataclass(frozen=True)
class Results:
    """AQI results of one period as columns: stations' (``stations`` None) or regions'."""

    place: list[str]  # station or region id
    ends: np.ndarray  # (n,) datetime64[s], UTC
    period: str
    aqi: np.ndarray  # NaN = none
    category: np.ndarray
    primary: list[str]
    iaqi: np.ndarray  # (n, 6) in emission_list.aqi.POLLUTANTS order
    edition: np.ndarray
    means: dict[str, np.ndarray]
    stations: np.ndarray | None = None  # stations counted, for regions

    def __len__(self) -> int:
        return len(self.place)

    def rows(self) -> list[dict[str, Any]]:
        """One mapping per result (for the generic upserts)."""
        names = list(self.means)
        means = np.column_stack([self.means[n] for n in names]).tolist() if names else []
        stamps = self.ends.astype("datetime64[s]").astype(dt.datetime).tolist()
        place = "region" if self.stations is not None else "station_id"
        out = []
        for i, at in enumerate(stamps):
            row = {
                place: self.place[i],
                "observed_at": at.replace(tzinfo=dt.UTC),
                "period": self.period,
                "aqi": _number(self.aqi[i]),
                "category": int(self.category[i]),
                "primary": self.primary[i],
                "iaqi": dict(zip(IAQI_ORDER, map(_number, self.iaqi[i]), strict=True)),
                "edition": str(self.edition[i]),
                "means": dict(zip(names, map(_number, means[i]), strict=True)),
            }
            if self.stations is not None:
                row["stations"] = int(self.stations[i])
            out.append(row)
        return out


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


@functools.cache
def _results_statement(regions: bool, period: str, means: tuple[str, ...]) -> tuple[Staging, str]:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    place = "region" if regions else "station_id"
    staging = Staging(
        (
            ("place", "text"),
            ("t", "float8"),
            ("aqi", "float8"),
            ("category", "int4"),
            ("primary", "text"),
            *((f"i_{p}", "float8") for p in IAQI_ORDER),
            ("edition", "text"),
            *((f"m_{name}", "float8") for name in means),
            *([("stations", "int4")] if regions else []),
        )
    )
    targets = {
        place: "place",
        "observed_at": "to_timestamp(t)",
        "period": f"'{period}'",
        "aqi": f"{not_nan('aqi')}::int4",
        "category": "category",
        "primary": '"primary"',
        "iaqi": float_array(f"i_{p}" for p in IAQI_ORDER),
        "edition": "edition",
        "means": float_array(
            f"m_{name}" if name in means else None for name in MEAN_VALUES.layout_of(means)
        ),
        "computed_at": f"${staging.parameters + 1}",
        **({"stations": "stations"} if regions else {}),
    }
    compared = _REGION_VALUES if regions else _STATION_VALUES
    table = "region_aqi" if regions else "aqi_results"
    return staging, upsert_sql(table, staging, targets, (place, "observed_at", "period"), compared)


async def store_results(
    session: AsyncSession, results: Results, *, now: dt.datetime | None = None
) -> UpsertCounts:
    """Upsert stations' (into ``aqi_results``) or regions' results (into ``region_aqi``)."""
    now = now or utcnow()
    regions = results.stations is not None
    if len(results) == 0:
        return UpsertCounts()
    if session.get_bind().dialect.name != "postgresql":
        rows = results.rows()
        if regions:
            return await upsert_rows(
                session,
                RegionAqi.__table__,
                ({**row, "computed_at": now} for row in rows),
                key=("region", "observed_at", "period"),
                compared=_REGION_VALUES,
                now=now,
            )
        return await upsert_aqi_many(session, rows, now=now)
    columns = [
        results.place,
        results.ends.astype("datetime64[s]").astype(np.int64),
        results.aqi,
        results.category,
        results.primary,
        *(results.iaqi[:, j] for j in range(len(IAQI_ORDER))),
        [str(e) for e in results.edition],
        *(results.means[name] for name in results.means),
        *([results.stations] if regions else []),
    ]
    staging, sql = _results_statement(regions, results.period, tuple(results.means))
    counts = UpsertCounts()
    for start in range(0, len(results), RESULTS_PER_STATEMENT):
        part = [column[start : start + RESULTS_PER_STATEMENT] for column in columns]
        counts += await columnar.upsert(session, sql, staging, part, now)
    return counts


async def latest_region_aqi(session: AsyncSession, region: str, period: str) -> RegionAqi | None:
    """A region's most recent AQI of ``period``."""
    statement = (
        select(RegionAqi)
        .where(RegionAqi.region == region, RegionAqi.period == period)
        .order_by(RegionAqi.observed_at.desc())
        .limit(1)
    )
    return (
        await session.execute(statement, execution_options={"populate_existing": True})
    ).scalar_one_or_none()


async def latest_station_daily(session: AsyncSession, station_id: str) -> AqiResult | None:
    """A station's most recent ``24h`` result."""
    statement = (
        select(AqiResult)
        .where(AqiResult.station_id == station_id, AqiResult.period == "24h")
        .order_by(AqiResult.observed_at.desc())
        .limit(1)
    )
    return (
        await session.execute(statement, execution_options={"populate_existing": True})
    ).scalar_one_or_none()


async def region_aqi_page(
    session: AsyncSession,
    region: str,
    since: dt.datetime,
    until: dt.datetime,
    *,
    period: str = "1h",
    after: dt.datetime | None = None,
    limit: int = 100,
) -> list[RegionAqi]:
    """A region's AQI of ``period`` with ``since <= observed_at < until`` (after ``after``)
    in time order, at most ``limit + 1`` (one more tells that a page follows)."""
    statement = select(RegionAqi).where(
        RegionAqi.region == region,
        RegionAqi.period == period,
        RegionAqi.observed_at >= since,
        RegionAqi.observed_at < until,
    )
    if after is not None:
        statement = statement.where(RegionAqi.observed_at > after)
    statement = statement.order_by(RegionAqi.observed_at).limit(limit + 1)
    return list(
        (await session.execute(statement, execution_options={"populate_existing": True})).scalars()
    )
