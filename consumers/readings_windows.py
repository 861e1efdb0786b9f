"""After a batch of readings is stored: the 24-hour windows it touched and its regions' AQI.

In the batch's transaction, for each *span* of its hours (hours more than two windows apart
fall in separate spans, so a late reading does not widen the grid to the hours between):

1. the stored readings of every station of the affected regions (the regions of the batch's
   stations and all above them) are read as grids from 23 hours before the span to 23 hours
   after it: a reading changes the 24 windows ending at its hour and the 23 hours after;
2. :mod:`emission_list.rolling` gives every window's 24-hour means, 8-hour O3 mean and
   maximum 8-hour O3; each station window that holds a reading of the batch and ends at a
   stored reading gets a ``24h`` result with those means (the rolling real-time daily AQI);
3. each affected region gets an ``1h`` result for the batch's hours and a ``24h`` result for
   the touched windows, from the mean concentrations of its stations (its own and those of
   the regions under it) that had a value.

Results equal to the stored ones are not rewritten (upserts compare values). Consumers in
other processes may store readings of the same regions at the same time (the stations of a
region spread over partitions): each takes the affected regions' locks (PostgreSQL advisory
locks, in one order, held to its commit) before reading the grids, so the last to commit
reads every reading committed before it and no region result misses a station.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from consumers.readings_aqi import ScoredAqi, score
from emission_list import averages, rolling
from emission_list.regions import RegionTree
from service.storage.repositories import UpsertCounts, windows
from service.storage.repositories.hourly import StationHours
from service.storage.repositories.readings import POLLUTANTS

_HOUR = np.timedelta64(1, "h")
_REACH = (rolling.WINDOW_HOURS - 1) * _HOUR
_DAILY_SCORED = {**{f"{p}_24h": f"{p}_24h" for p in rolling.MEAN_24H}, "o3_8h": "o3_8h_max"}


@dataclass(frozen=True)
class WindowCounts:
    station_daily: UpsertCounts
    regions: UpsertCounts


def spans(hours: np.ndarray) -> list[tuple[np.datetime64, np.datetime64]]:
    """First and last hour of each run of hours no more than two windows apart."""
    unique = np.unique(hours.astype("datetime64[h]"))
    return interval_spans(unique, unique)


def interval_spans(
    firsts: np.ndarray, lasts: np.ndarray
) -> list[tuple[np.datetime64, np.datetime64]]:
    """The intervals ``firsts[i] .. lasts[i]`` (hours) merged where no more than two windows
    apart: first and last hour of each merged run."""
    if len(firsts) == 0:
        return []
    order = np.argsort(firsts, kind="stable")
    firsts, lasts = firsts[order], np.maximum.accumulate(lasts[order])
    cut = np.flatnonzero(firsts[1:] - lasts[:-1] > 2 * _REACH + _HOUR)
    starts = firsts[np.r_[0, cut + 1]]
    ends = lasts[np.r_[cut, len(firsts) - 1]]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


@dataclass(frozen=True)
class _Places:
    """The stations of the affected regions and which of them each region counts."""

    stations: list[str]
    regions: list[str]
    members: np.ndarray  # (regions, stations) bool

    @classmethod
    async def load(cls, session: AsyncSession, placed: dict[str, str], tree: RegionTree) -> _Places:
        """``placed``: the region of each station the batch touched."""
        affected = sorted(
            {a for r in placed.values() if r in tree for a in (r, *tree.ancestors(r))}
        )
        under = {region: set(tree.subtree(region)) for region in affected}
        everywhere = set().union(*under.values()) if under else set()
        region_of = await windows.station_regions(session, everywhere)
        region_of.update(placed)  # touched stations count even where the tree lags
        stations = sorted(region_of)
        members = np.array(
            [[region_of[s] in under[r] for s in stations] for r in affected], dtype=bool
        ).reshape(len(affected), len(stations))
        return cls(stations, affected, members)


def _results(
    scored: ScoredAqi,
    place: list[str],
    ends: np.ndarray,
    period: str,
    means: dict[str, np.ndarray],
    stations: np.ndarray | None = None,
) -> windows.Results:
    return windows.Results(
        place=place,
        ends=ends,
        period=period,
        aqi=scored.aqi,
        category=scored.category,
        primary=scored.primary,
        iaqi=scored.iaqi,
        edition=scored.edition,
        means=means,
        stations=stations,
    )


def _any_valid(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.logical_or.reduce([averages.valid_hours(v) for v in columns.values()])


ChangedIn = Callable[[np.datetime64, int, np.ndarray], np.ndarray]


async def update_windows(
    session: AsyncSession, hours: StationHours, placed: dict[str, str], tree: RegionTree
) -> WindowCounts:
    """Recompute and store the stations' 24-hour results and the regions' AQI that the stored
    batch ``hours`` changed; ``placed`` gives the region of each of its stations."""
    places = await _Places.load(session, placed, tree)
    await windows.lock_regions(session, places.regions)
    index = {s: i for i, s in enumerate(places.stations)}
    batch_rows = np.array([index[s] for s in hours.station_id], dtype=np.int64)
    batch_hours = hours.observed_at.astype("datetime64[h]")

    def changed_in(start: np.datetime64, size: int, stored: np.ndarray) -> np.ndarray:
        changed = np.zeros_like(stored)
        mine = (batch_hours >= start) & (batch_hours < start + size * _HOUR)
        changed[batch_rows[mine], ((batch_hours[mine] - start) / _HOUR).astype(np.int64)] = True
        return changed

    return await _recompute(session, places, spans(hours.observed_at), changed_in)


@dataclass(frozen=True)
class Mark:
    """Hours ``first .. last`` (datetime64[h]) of the stations of ``region`` changed."""

    region: str
    first: np.datetime64
    last: np.datetime64


async def update_marked(
    session: AsyncSession, marks: Sequence[Mark], tree: RegionTree
) -> WindowCounts:
    """Recompute and store what the readings of the marked region-hours changed: the same
    results :func:`update_windows` stores for the batches that made the marks, each computed
    once however many batches marked it."""
    if not marks:
        return WindowCounts(UpsertCounts(), UpsertCounts())
    placed = await windows.station_regions(session, {m.region for m in marks})
    places = await _Places.load(session, placed, tree)
    index = {s: i for i, s in enumerate(places.stations)}
    rows_of = {r: [index[s] for s, at in placed.items() if at == r] for r in set(placed.values())}
    firsts = np.array([m.first for m in marks], dtype="datetime64[h]")
    lasts = np.array([m.last for m in marks], dtype="datetime64[h]")

    def changed_in(start: np.datetime64, size: int, stored: np.ndarray) -> np.ndarray:
        changed = np.zeros_like(stored)
        for mark in marks:
            rows = rows_of.get(mark.region, [])
            lo = max(int((np.datetime64(mark.first, "h") - start) / _HOUR), 0)
            hi = min(int((np.datetime64(mark.last, "h") - start) / _HOUR) + 1, size)
            if rows and lo < hi:
                changed[np.ix_(rows, np.arange(lo, hi))] = True
        return changed & stored

    return await _recompute(session, places, interval_spans(firsts, lasts), changed_in)


async def _recompute(
    session: AsyncSession,
    places: _Places,
    hour_spans: list[tuple[np.datetime64, np.datetime64]],
    changed_in: ChangedIn,
) -> WindowCounts:
    """For each span: read the grids, then store the station windows and region results
    that ``changed_in(start, size, stored)`` (the changed station-hours of the grid) touch.
    The arithmetic runs in a thread (numpy releases the GIL): the process's other batches and
    its refresh go on meanwhile."""
    station_counts = region_counts = UpsertCounts()
    for first, last in hour_spans:
        start = np.datetime64(first, "h") - _REACH
        size = int((np.datetime64(last, "h") + _REACH - start) / _HOUR) + 1
        read = await windows.grid_readings(
            session, places.stations, start, start + (size - 1) * _HOUR
        )
        daily, *regional = await asyncio.to_thread(
            _span_results, places, start, size, read, changed_in
        )
        station_counts += await windows.store_results(session, daily)
        for results in regional:
            region_counts += await windows.store_results(session, results)
    return WindowCounts(station_counts, region_counts)


def _span_results(
    places: _Places,
    start: np.datetime64,
    size: int,
    read: tuple[list[str], np.ndarray, np.ndarray],
    changed_in: ChangedIn,
) -> tuple[windows.Results, windows.Results, windows.Results]:
    """The stations' ``24h`` results and the regions' ``1h`` and ``24h`` of one span's grid
    (``read``: the stored readings from ``start`` over ``size`` hours)."""
    found, stamps, values = read
    index = {s: i for i, s in enumerate(places.stations)}
    weights = places.members.astype(np.int64)
    rows = np.array([index[s] for s in found], dtype=np.int64)
    slots = ((stamps.astype("datetime64[h]") - start) / _HOUR).astype(np.int64)
    grid = {p: np.full((len(index), size), np.nan) for p in POLLUTANTS}
    for j, p in enumerate(POLLUTANTS):
        grid[p][rows, slots] = values[:, j]
    stored = np.zeros((len(index), size), dtype=bool)
    stored[rows, slots] = True
    changed = changed_in(start, size, stored)

    ends = start + (np.arange(rolling.WINDOW_HOURS - 1, size)) * _HOUR
    columns = rolling.window_columns(grid)
    touched = rolling.windows_touched(changed)
    at_reading = stored[:, rolling.WINDOW_HOURS - 1 :]
    s_idx, e_idx = np.nonzero(touched & at_reading)
    daily = {n: c[s_idx, e_idx] for n, c in columns.items()}
    scored = score({k: daily[v] for k, v in _DAILY_SCORED.items()}, ends[e_idx], daily=True)
    ids = [places.stations[i] for i in s_idx.tolist()]
    hourly_ends = start + np.arange(size) * _HOUR
    return (
        _results(scored, ids, ends[e_idx], "24h", daily),
        _region_results(places, weights, grid, changed, stored, hourly_ends, "1h"),
        _region_results(places, weights, columns, touched, at_reading, ends, "24h"),
    )


def _region_results(
    places: _Places,
    weights: np.ndarray,
    columns: Mapping[str, np.ndarray],
    changed: np.ndarray,
    stored: np.ndarray,
    ends: np.ndarray,
    period: str,
) -> windows.Results:
    """A region's result where one of its stations changed and one has a reading."""
    wanted = ((weights @ changed.astype(np.int64)) > 0) & ((weights @ stored.astype(np.int64)) > 0)
    r_idx, e_idx = np.nonzero(wanted)
    means = {
        n: rolling.member_means(c, places.members)[0][r_idx, e_idx] for n, c in columns.items()
    }
    counted = (weights @ _any_valid(columns).astype(np.int64))[r_idx, e_idx]
    if period == "1h":
        scored = score(means, ends[e_idx], daily=False)
    else:
        scored = score({k: means[v] for k, v in _DAILY_SCORED.items()}, ends[e_idx], daily=True)
    regions = [places.regions[i] for i in r_idx.tolist()]
    return _results(scored, regions, ends[e_idx], period, means, counted)
