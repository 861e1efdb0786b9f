"""Coalesced windows: a batch marks its region-hours, a refresh recomputes them now and then.

A readings consumer on Kafka and PostgreSQL stores each batch's readings and hourly AQI with
*marks* (:class:`~service.storage.models.WindowMark`: per region of its stations, the spans of
their hours) in one transaction, and leaves the stations' ``24h`` results and the regions'
AQI to :class:`WindowsRefresher`: every ``interval_s`` it takes the marks (deleting them),
recomputes what they cover (:func:`consumers.readings_windows.update_marked`, the results the
batches would have written, once per region-hour however many batches touched it) and
commits both together. A crash before that commit leaves the marks for the next refresh of
any process; one refresh runs at a time over all processes (a transaction lock), and a batch
committed while a refresh reads leaves a mark it does not take. So a committed reading is
reflected within ``interval_s`` plus the duration of a refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.readings_windows import Mark, WindowCounts, spans, update_marked
from emission_list.regions import RegionTree
from service.storage.repositories import UpsertCounts, regions, utcnow, window_marks
from service.storage.repositories.hourly import StationHours

log = logging.getLogger("haze.readings.refresh")

#: Marks one refresh transaction takes at most (the rest go to the next, at once).
MARKS_PER_REFRESH = 500
#: ``stop()`` tries a last refresh for this long [s].
STOP_REFRESH_S = 5.0


def marks_of(hours: StationHours, placed: dict[str, str]) -> list[window_marks.Marked]:
    """Per region of the batch's stations, the spans of their hours."""
    regions_of = np.array([placed[s] for s in hours.station_id], dtype=object)
    out = []
    for region in sorted(set(regions_of.tolist())):
        for first, last in spans(hours.observed_at[regions_of == region]):
            out.append((region, _utc(first), _utc(last)))
    return out


def _utc(hour: dt.datetime) -> dt.datetime:
    return hour.replace(tzinfo=dt.UTC)


@dataclass
class RefreshStats:
    """What this process's refreshes did: marks taken, results written, the largest lag
    (from a mark's batch commit to its refresh's) in seconds."""

    runs: int = 0
    marks: int = 0
    station_daily: UpsertCounts = field(default_factory=UpsertCounts)
    regions: UpsertCounts = field(default_factory=UpsertCounts)
    max_lag_s: float = 0.0
    seconds: float = 0.0


class WindowsRefresher:
    """The refresh task of a readings consumer process (a :class:`service.runtime.Worker`)."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        tree: Callable[[], RegionTree] | None = None,
        *,
        interval_s: float = 1.0,
    ) -> None:
        self._session_maker = session_maker
        self._tree = tree
        self.interval_s = interval_s
        self.stats = RefreshStats()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="haze-windows-refresh")

    def kick(self) -> None:
        """Nothing: the marks are taken every interval, not when something is stored."""

    def refresh_now(self) -> None:
        """Refresh now, not at the end of the interval (the end of a benchmark's stream)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop the task; what is marked then waits in the database for any process's next
        refresh (a last one is tried here, briefly)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            try:
                async with asyncio.timeout(STOP_REFRESH_S):
                    await self.drain()
            except Exception:  # the database or the timeout: the marks stay
                log.warning("the last refresh did not finish; its marks wait for the next")

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except Exception:  # the database: the marks stay, the next round retries
                log.exception("refreshing the marked windows failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()

    async def drain(self) -> int:
        """Refresh until no mark is left or another process holds the refresh; marks taken."""
        taken = 0
        while True:
            count = await self.refresh_once()
            taken += max(count, 0)
            if count < MARKS_PER_REFRESH:
                return taken

    async def refresh_once(self) -> int:
        """One refresh transaction: the marks it took (-1: another process refreshes)."""
        started = time.perf_counter()
        async with self._session_maker() as session:
            if not await window_marks.lock_refresh(session):
                return -1
            marked, oldest = await window_marks.take(session, MARKS_PER_REFRESH)
            if not marked:
                return 0
            tree = self._tree() if self._tree else await regions.tree(session)
            marks = [Mark(region, _hour(first), _hour(last)) for region, first, last in marked]
            counts = await update_marked(session, marks, tree)
            await session.commit()
        self._record(len(marked), counts, oldest, time.perf_counter() - started)
        return len(marked)

    def _record(
        self, taken: int, counts: WindowCounts, oldest: dt.datetime | None, seconds: float
    ) -> None:
        stats = self.stats
        stats.runs += 1
        stats.marks += taken
        stats.station_daily += counts.station_daily
        stats.regions += counts.regions
        stats.seconds += seconds
        if oldest is not None:
            lag = (utcnow() - oldest).total_seconds()
            stats.max_lag_s = max(stats.max_lag_s, lag)


def _hour(at: dt.datetime) -> np.datetime64:
    return np.datetime64(at.astimezone(dt.UTC).replace(tzinfo=None), "h")
