"""Coalesced windows: batches store readings with marks, the refresh computes the results.

Against the same scalar reference as the in-batch path (``test_readings_windows``): after the
refresh the stations' ``24h`` results and the regions' AQI equal it, whatever the order of
the batches; a refresh that fails leaves its marks for the next one (of any process); a
replayed batch marks nothing; a running refresher reflects a stored reading on its own.
"""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from test_readings_handler import records_of
from test_readings_windows import _results, after_episode, check_regions, check_station_windows

from consumers import readings_windows
from consumers.readings import ReadingsHandler
from consumers.readings_refresh import MARKS_PER_REFRESH, WindowsRefresher
from consumers.readings_windows import interval_spans
from emission_list.samples import (
    kundulun_episode,
    kundulun_region_tree,
    kundulun_regions,
    kundulun_stations,
)
from service.settings import Settings
from service.storage.engine import make_session_maker
from service.storage.models import AqiResult, RegionAqi
from service.storage.repositories import regions, stations, window_marks


async def _no_dead_letters(items):
    raise AssertionError(items)


@pytest.fixture
async def maker(engine: AsyncEngine):
    maker = make_session_maker(engine)
    async with maker() as session:
        await regions.put_many(session, kundulun_regions())
        await stations.put_many(session, kundulun_stations())
        await session.commit()
    return maker


def _marking(maker) -> ReadingsHandler:
    return ReadingsHandler(
        maker, _no_dead_letters, kundulun_region_tree, clock=after_episode, mark_windows=True
    )


def _refresher(maker, interval_s: float = 60.0) -> WindowsRefresher:
    return WindowsRefresher(maker, kundulun_region_tree, interval_s=interval_s)


def _shuffled_batches(size: int = 700):
    records = records_of(list(kundulun_episode().readings.rows()))
    random.Random(11).shuffle(records)
    return [records[start : start + size] for start in range(0, len(records), size)]


async def _counts(maker) -> tuple[int, int, int]:
    """Marks, station ``24h`` results, region results stored."""
    async with maker() as session:
        daily = select(func.count()).select_from(AqiResult).where(AqiResult.period == "24h")
        region = select(func.count()).select_from(RegionAqi)
        return (
            await window_marks.count(session),
            await session.scalar(daily),
            await session.scalar(region),
        )


async def test_the_refresh_after_shuffled_batches_stores_the_reference_results(maker):
    handler = _marking(maker)
    for batch in _shuffled_batches():
        await handler.handle(batch)
    marks, daily, region = await _counts(maker)
    assert marks > 0 and daily == 0 and region == 0  # left to the refresh

    refresher = _refresher(maker)
    assert await refresher.drain() == marks
    assert (await _counts(maker))[0] == 0
    check_all(await _results(maker))
    assert refresher.stats.marks == marks and refresher.stats.runs >= 1


async def test_a_refresh_that_fails_leaves_its_marks_and_the_next_one_stores_everything(
    maker, monkeypatch: pytest.MonkeyPatch
):
    """A crash between the readings' commit and the refresh's: nothing is lost."""
    handler = _marking(maker)
    for batch in _shuffled_batches():
        await handler.handle(batch)
    marks = (await _counts(maker))[0]
    real = readings_windows.windows.store_results
    calls = []

    async def store_then_fail(session, results, **kwargs):
        calls.append(len(results))
        if len(calls) == 3:  # some results written in the transaction, then the crash
            raise ConnectionError("the process died")
        return await real(session, results, **kwargs)

    monkeypatch.setattr(readings_windows.windows, "store_results", store_then_fail)
    with pytest.raises(ConnectionError):
        await _refresher(maker).drain()
    assert await _counts(maker) == (marks, 0, 0)  # rolled back whole, marks kept

    monkeypatch.setattr(readings_windows.windows, "store_results", real)
    await _refresher(maker).drain()  # another process's refresher
    check_all(await _results(maker))


async def test_a_replayed_batch_marks_nothing_and_changes_nothing(maker):
    handler = _marking(maker)
    batches = _shuffled_batches()
    for batch in batches:
        await handler.handle(batch)
    await _refresher(maker).drain()
    before = await _results(maker)
    for batch in batches[:3]:
        await handler.handle(batch)
    assert (await _counts(maker))[0] == 0
    after = await _results(maker)
    assert [(r.station_id, r.observed_at, r.updated_at) for r in after[0]] == [
        (r.station_id, r.observed_at, r.updated_at) for r in before[0]
    ]


async def test_a_running_refresher_reflects_a_stored_reading_on_its_own(maker):
    """The freshness bound: no call but the batch; wait for the condition."""
    handler = _marking(maker)
    refresher = _refresher(maker, interval_s=0.05)
    refresher.start()
    try:
        batches = _shuffled_batches()
        for batch in batches:
            await handler.handle(batch)
        async with asyncio.timeout(120):  # a hang fails, it is no speed limit
            while (await _counts(maker))[0] > 0:
                await asyncio.sleep(0.02)
    finally:
        await refresher.stop()
    check_all(await _results(maker))


async def test_two_consumers_and_two_refreshers_at_once_miss_no_station(maker):
    """Two processes: each a consumer of half the stations and a refresher, all concurrent."""
    rows = sorted(kundulun_episode().readings.rows(), key=lambda r: r["observed_at"])
    second = {s.station_id for s in kundulun_stations()[1::2]}
    partitions = [records_of([r for r in rows if (r["station_id"] in second) == k]) for k in (0, 1)]
    handlers = [_marking(maker), _marking(maker)]
    refreshers = [_refresher(maker), _refresher(maker)]
    for start in range(0, max(map(len, partitions)), 300):
        await asyncio.gather(
            *(h.handle(p[start : start + 300]) for h, p in zip(handlers, partitions, strict=True)),
            *(r.refresh_once() for r in refreshers),
        )
    while (await _counts(maker))[0] > 0:
        await asyncio.gather(*(r.drain() for r in refreshers))
    check_regions((await _results(maker))[1])


async def test_a_backlog_larger_than_one_refresh_is_drained(maker, monkeypatch):
    monkeypatch.setattr("consumers.readings_refresh.MARKS_PER_REFRESH", 2)
    handler = _marking(maker)
    for batch in _shuffled_batches(300):
        await handler.handle(batch)
    marks = (await _counts(maker))[0]
    assert marks > 2
    refresher = _refresher(maker)
    assert await refresher.drain() == marks
    assert refresher.stats.runs == -(-marks // 2)
    check_regions((await _results(maker))[1])


def check_all(stored) -> None:
    check_station_windows(stored[0])
    check_regions(stored[1])


def test_intervals_merge_when_no_more_than_two_windows_apart():
    h = np.datetime64("2026-12-01T00", "h")
    firsts = np.array([h + 100, h, h + 10, h + 57], dtype="datetime64[h]")
    lasts = np.array([h + 101, h + 5, h + 12, h + 60], dtype="datetime64[h]")
    got = interval_spans(firsts, lasts)
    # 12 -> 57 is 45 hours (<= 47: one span); 60 -> 100 is 40 hours: still one
    assert got == [(h.tolist(), (h + 101).tolist())]
    apart = interval_spans(firsts[:3], lasts[:3])
    assert apart == [(h.tolist(), (h + 12).tolist()), ((h + 100).tolist(), (h + 101).tolist())]


def test_only_a_kafka_consumer_on_postgresql_coalesces():
    pg = "postgresql+asyncpg://u@h/db"
    assert Settings(database_url=pg, kafka_bootstrap="k:9092").coalesces_windows
    assert not Settings(database_url=pg).coalesces_windows
    assert not Settings(
        database_url=pg, kafka_bootstrap="k:9092", readings_refresh_s=0
    ).coalesces_windows
    assert not Settings(
        database_url="sqlite+aiosqlite:///x.db", kafka_bootstrap="k:9092"
    ).coalesces_windows
    assert MARKS_PER_REFRESH > 0
