"""The readings consumer: a batch of reading records into stored readings and hourly AQI.

One order per batch (STYLE 11): decode to columns; undecodable records, records breaking the
rules the API applies (:mod:`service.services.reading_rules`, vectorised over the columns: the
topic takes records from other producers too) and records of unknown stations go to the
dead-letter sink with the reason; the hourly AQI of the whole batch comes
from the vectorised kernel; readings and results are upserted (unique per station and hour,
so a replayed batch changes nothing) in one session, committed before the handler returns.
The same handler serves the in-process bus and (next issue) the Kafka runner, which commits
offsets only after it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.readings_aqi import hourly_results
from consumers.readings_refresh import marks_of
from consumers.readings_windows import update_windows
from emission_list.regions import RegionTree
from service.bus import Record
from service.bus.records import ReadingBatch, decode_readings
from service.services.reading_rules import check_columns
from service.storage.repositories import hourly, regions, stations, utcnow, window_marks
from service.storage.repositories.hourly import StationHours

DeadLetter = Callable[[Sequence[tuple[Record, str]]], Awaitable[None]]


@dataclass(frozen=True)
class BatchResult:
    stored: int
    dead_lettered: int


def _last_per_station_hour(batch: ReadingBatch, keep: np.ndarray) -> np.ndarray:
    """Rows to store: of the kept rows, the last of each station-hour (a later message wins)."""
    hours = batch.observed_at.astype(np.int64).tolist()
    last = {(batch.station_id[i], hours[i]): i for i in np.flatnonzero(keep).tolist()}
    return np.array(sorted(last.values()), dtype=np.int64)


def _station_hours(batch: ReadingBatch) -> StationHours:
    results = hourly_results(batch)
    return StationHours(
        station_id=batch.station_id,
        observed_at=batch.observed_at,
        values=batch.values,
        flags=batch.flags,
        aqi=results.aqi,
        category=results.category,
        primary=results.primary,
        iaqi=results.iaqi,
        edition=results.edition.tolist(),
    )


class ReadingsHandler:
    """Handles batches of ``haze.readings`` records."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        dead_letter: DeadLetter,
        tree: Callable[[], RegionTree] | None = None,
        *,
        future_tolerance: dt.timedelta = dt.timedelta(minutes=10),
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        mark_windows: bool = False,
    ) -> None:
        """``tree`` gives the region tree the process keeps current; without it the tree is
        read from the database for every batch. ``future_tolerance`` and ``clock`` are the
        API's (``HAZE_READINGS_FUTURE_TOLERANCE_S``, now). ``mark_windows``: leave the
        24-hour windows and region AQI to a :class:`~consumers.readings_refresh.WindowsRefresher`
        (marks stored with the readings) instead of computing them in the batch."""
        self._session_maker = session_maker
        self._dead_letter = dead_letter
        self._tree = tree
        self._tolerance = future_tolerance
        self._clock = clock
        self._mark_windows = mark_windows

    async def __call__(self, records: Sequence[Record]) -> None:
        await self.handle(records)

    async def handle(self, records: Sequence[Record]) -> BatchResult:
        batch, bad = decode_readings(records)
        hits = check_columns(batch.observed_at, batch.values, self._clock(), self._tolerance)
        broken = hits.bad()
        bad += [
            (batch.records[i], f"invalid reading: {hits.reason(i)}")
            for i in np.flatnonzero(broken).tolist()
        ]
        async with self._session_maker() as session:
            placed = await stations.regions_of(session, set(batch.station_id))
            known = np.array([s in placed for s in batch.station_id], dtype=bool)
            bad += [
                (batch.records[i], f"unknown station {batch.station_id[i]!r}")
                for i in np.flatnonzero(~known & ~broken).tolist()
            ]
            keep = known & ~broken
            hours = _station_hours(batch.take(_last_per_station_hour(batch, keep)))
            stored, _ = await hourly.store(session, hours)
            if self._mark_windows:
                if stored.inserted or stored.updated:  # a replay marks nothing
                    await window_marks.add(session, marks_of(hours, placed), utcnow())
            else:
                tree = self._tree() if self._tree else await regions.tree(session)
                await update_windows(session, hours, placed, tree)
            await session.commit()
        if bad:
            await self._dead_letter(bad)
        return BatchResult(stored=len(hours), dead_lettered=len(bad))
