"""Daily AQI per local calendar day, computed when read from the stored hourly readings.

A day is a natural day in Asia/Shanghai: its 24 hour-ending readings are those ending 01:00
.. 24:00 local time (HJ 663). The stored ``24h`` results are rolling windows written only
where a window ends at a stored reading; a day whose 24:00 reading is missing has none. So
the daily AQI is computed here from the readings with the core's functions, exactly as the
readings consumer computes the window ending at local midnight (:mod:`emission_list.rolling`
uses the same :mod:`emission_list.averages`): 24-hour means of SO2, NO2, CO, PM10, PM2.5
(>= 20 valid hours) and the daily maximum 8-hour O3 (>= 14 valid means), scored with the
daily tables of the edition in force that day. A region's day is scored from the mean of its
stations' daily statistics (the stations placed on it or under it, each statistic over the
stations that have it). Readings posted in any order give the same days: only the stored
readings count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list import averages, rolling
from emission_list.aqi import POLLUTANTS as IAQI_ORDER
from emission_list.aqi import evaluate_columns, pollutant_names
from emission_list.breakpoints import edition_for
from service.storage.repositories import windows
from service.storage.repositories.readings import POLLUTANTS

LOCAL = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai: no daylight saving since 1991
#: The daily statistics, named as the stored window statistics (o3_8h_max: the day's maximum
#: 8-hour O3 mean).
DAILY_MEANS = (*(f"{p}_24h" for p in rolling.MEAN_24H), "o3_8h_max")
_SCORED = {**{f"{p}_24h": f"{p}_24h" for p in rolling.MEAN_24H}, "o3_8h": "o3_8h_max"}
_HOUR = np.timedelta64(1, "h")
#: At most this many station-days are read at once (about 23 MB of hourly grids): a region
#: of many stations gets fewer days per page.
MAX_STATION_DAYS = 20_000


@dataclass(frozen=True)
class Day:
    """One place's daily AQI on ``date`` (``aqi`` None when no pollutant had a value)."""

    date: dt.date
    aqi: int | None
    category: int
    primary: str
    iaqi: dict[str, float | None]
    edition: str
    means: dict[str, float | None]
    missing: list[str]
    count: int  # readings of the station, or stations with a value of the region


def day_start(day: dt.date) -> dt.datetime:
    """The local midnight starting ``day``, in UTC."""
    return dt.datetime.combine(day, dt.time(), LOCAL).astimezone(dt.UTC)


def first_day_from(at: dt.datetime) -> dt.date:
    """The first local day starting at or after ``at``."""
    local = at.astimezone(LOCAL)
    day = local.date()
    return day if local.timetz().replace(tzinfo=None) == dt.time() else day + dt.timedelta(days=1)


async def _day_grids(
    session: AsyncSession, stations: Sequence[str], first: dt.date, days: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each pollutant's readings as ``(stations, days, 24)`` and readings per station-day."""
    start = np.datetime64(day_start(first).replace(tzinfo=None), "h") + _HOUR
    size = days * 24
    grid = {p: np.full((len(stations), size), np.nan) for p in POLLUTANTS}
    stored = np.zeros((len(stations), size), dtype=bool)
    if stations:
        found, stamps, values = await windows.grid_readings(
            session, stations, start, start + (size - 1) * _HOUR
        )
        index = {s: i for i, s in enumerate(stations)}
        rows = np.array([index[s] for s in found], dtype=np.int64)
        slots = ((stamps.astype("datetime64[h]") - start) / _HOUR).astype(np.int64)
        for j, p in enumerate(POLLUTANTS):
            grid[p][rows, slots] = values[:, j]
        stored[rows, slots] = True
    shape = (len(stations), days, 24)
    return {p: g.reshape(shape) for p, g in grid.items()}, stored.reshape(shape).sum(axis=-1)


def _statistics(grid: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {f"{p}_24h": averages.daily_mean(grid[p]) for p in rolling.MEAN_24H}
    out["o3_8h_max"] = averages.o3_daily_max_8h(grid["o3"])
    return out


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _score(dates: list[dt.date], means: dict[str, np.ndarray], counts: np.ndarray) -> list[Day]:
    """Score one place's days (``means`` each ``(days,)``)."""
    out = []
    for i, day in enumerate(dates):
        edition = edition_for(day)
        columns = {k: means[v][i : i + 1] for k, v in _SCORED.items()}
        table = evaluate_columns(columns, edition)
        aqi = table.aqi[0]
        out.append(
            Day(
                date=day,
                aqi=None if np.isnan(aqi) else int(aqi),
                category=int(table.category[0]),
                primary=str(pollutant_names(table.primary)[0]),
                iaqi=dict(zip(IAQI_ORDER, map(_number, table.iaqi_by_pollutant[0]), strict=True)),
                edition=edition,
                means={n: _number(means[n][i]) for n in DAILY_MEANS},
                missing=[p for p, m in zip(IAQI_ORDER, table.missing[0], strict=True) if m],
                count=int(counts[i]),
            )
        )
    return out


def _dates(first: dt.date, days: int) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range(days)]


async def station_days(
    session: AsyncSession, station_id: str, first: dt.date, days: int
) -> list[Day]:
    """A station's daily AQI on ``days`` local days from ``first`` (count: its readings)."""
    grid, counts = await _day_grids(session, [station_id], first, days)
    stats = {n: v[0] for n, v in _statistics(grid).items()}
    return _score(_dates(first, days), stats, counts[0])


async def region_days(
    session: AsyncSession, region_ids: Sequence[str], first: dt.date, days: int
) -> list[Day]:
    """The daily AQI of the region whose subtree is ``region_ids`` (the region itself
    first), from its stations' daily statistics (count: stations with a value); fewer than
    ``days`` days when the region has so many stations that they would pass
    :data:`MAX_STATION_DAYS` (at least one day)."""
    stations = sorted(await windows.station_regions(session, region_ids))
    days = max(1, min(days, MAX_STATION_DAYS // max(1, len(stations))))
    grid, _ = await _day_grids(session, stations, first, days)
    stats = _statistics(grid)
    members = np.ones((1, len(stations)), dtype=bool)
    means = {n: rolling.member_means(v, members)[0][0] for n, v in stats.items()}
    valid = np.logical_or.reduce([averages.valid_hours(v) for v in stats.values()])
    counts = valid.sum(axis=0) if stations else np.zeros(days, dtype=np.int64)
    return _score(_dates(first, days), means, counts)
