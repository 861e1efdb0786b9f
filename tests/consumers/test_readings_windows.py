"""The 24-hour windows and region AQI the readings consumer keeps, against a scalar reference.

The sample episode's readings arrive in shuffled batches (late readings in every batch); the
stored ``24h`` station results and the regions' ``1h`` and ``24h`` AQI must then equal what
plain loops over the reference functions give for the whole episode at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
from collections import defaultdict

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from test_readings_handler import records_of

from consumers.readings import ReadingsHandler
from consumers.readings_windows import spans
from emission_list.breakpoints import edition_for
from emission_list.reference import aqi as reference
from emission_list.samples import (
    kundulun_episode,
    kundulun_region_tree,
    kundulun_regions,
    kundulun_stations,
)
from service.storage.engine import make_session_maker
from service.storage.models import AqiResult, RegionAqi
from service.storage.repositories import regions, stations

HOUR = dt.timedelta(hours=1)
POLLUTANTS = ("pm25", "pm10", "so2", "no2", "o3", "co")
NAN = math.nan


def after_episode() -> dt.datetime:
    """A clock after the sample episode (its readings are in December 2026)."""
    return dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def _value(v):
    return NAN if v is None else float(v)


def hourly_series() -> dict[str, dict[dt.datetime, dict[str, float]]]:
    by_station: dict[str, dict[dt.datetime, dict[str, float]]] = defaultdict(dict)
    for row in kundulun_episode().readings.rows():
        at = dt.datetime.fromisoformat(row["observed_at"]).astimezone(dt.UTC)
        by_station[row["station_id"]][at] = {p: _value(row[p]) for p in POLLUTANTS}
    return by_station


def window_stats(series: dict[dt.datetime, dict[str, float]], end: dt.datetime) -> dict:
    def hours(p: str, n: int) -> list[float]:
        return [series.get(end - k * HOUR, {}).get(p, NAN) for k in range(n - 1, -1, -1)]

    stats = {f"{p}_24h": reference.daily_mean(hours(p, 24)) for p in ("so2", "no2", "co")}
    stats |= {f"{p}_24h": reference.daily_mean(hours(p, 24)) for p in ("pm10", "pm25")}
    stats["o3_8h"] = reference.o3_8h_moving(hours("o3", 8), hours("o3", 15)[:7])[-1]
    stats["o3_8h_max"] = reference.o3_daily_max_8h(hours("o3", 24))
    return stats


def edition(end: dt.datetime) -> str:
    return edition_for(end - dt.timedelta(seconds=1))


def daily_aqi(stats: dict, end: dt.datetime) -> float:
    scored = {k: v for k, v in stats.items() if k not in ("o3_8h", "o3_8h_max")}
    scored["o3_8h"] = stats["o3_8h_max"]
    return reference.aqi_row(scored, edition(end))["aqi"]


def mean(values: list[float]) -> float:
    good = [v for v in values if 0 <= v < math.inf]
    total = 0.0
    for v in good:
        total += v
    return total / len(good) if good else NAN


def same(a, b) -> bool:
    a = NAN if a is None else a
    b = NAN if b is None else b
    return (math.isnan(a) and math.isnan(b)) or a == b


async def _prepared(engine: AsyncEngine):
    maker = make_session_maker(engine)
    async with maker() as session:
        await regions.put_many(session, kundulun_regions())
        await stations.put_many(session, kundulun_stations())
        await session.commit()

    async def no_dead_letters(items):
        raise AssertionError(items)

    return maker, lambda: ReadingsHandler(
        maker, no_dead_letters, kundulun_region_tree, clock=after_episode
    )


async def _results(maker) -> tuple[list[AqiResult], list[RegionAqi]]:
    async with maker() as session:
        daily = (await session.execute(select(AqiResult).where(AqiResult.period == "24h"))).all()
        region = (await session.execute(select(RegionAqi))).all()
    return [r[0] for r in daily], [r[0] for r in region]


@pytest.fixture
async def stored(engine: AsyncEngine):
    maker, handler = await _prepared(engine)
    consumer = handler()
    records = records_of(list(kundulun_episode().readings.rows()))
    random.Random(7).shuffle(records)
    for start in range(0, len(records), 700):
        await consumer.handle(records[start : start + 700])
    return await _results(maker)


async def test_station_windows_equal_the_reference_whatever_the_arrival_order(stored):
    check_station_windows(stored[0])


def check_station_windows(daily: list[AqiResult]) -> None:
    series = hourly_series()
    expected = {(s, at) for s, hours in series.items() for at in hours}
    assert {(r.station_id, r.observed_at) for r in daily} == expected
    for row in daily:
        stats = window_stats(series[row.station_id], row.observed_at)
        for name, want in stats.items():
            assert same(row.means[name], want), (row.station_id, row.observed_at, name)
        assert same(row.aqi, daily_aqi(stats, row.observed_at)), (row.station_id, row.observed_at)
        assert row.edition == edition(row.observed_at)


async def test_region_aqi_is_the_aqi_of_its_stations_mean_concentrations(stored):
    check_regions(stored[1])


async def test_two_consumers_at_once_on_the_stations_of_one_region_miss_no_station(
    engine: AsyncEngine,
):
    """Two partitions' consumers store readings of the same regions and hours concurrently."""
    maker, handler = await _prepared(engine)
    rows = sorted(kundulun_episode().readings.rows(), key=lambda r: r["observed_at"])
    second = {s.station_id for s in kundulun_stations()[1::2]}
    partitions = [records_of([r for r in rows if (r["station_id"] in second) == k]) for k in (0, 1)]
    consumers = [handler(), handler()]
    for start in range(0, max(map(len, partitions)), 300):
        await asyncio.gather(
            *(c.handle(p[start : start + 300]) for c, p in zip(consumers, partitions, strict=True))
        )
    check_regions((await _results(maker))[1])


def check_regions(region_rows: list[RegionAqi]) -> None:
    series = hourly_series()
    tree = kundulun_region_tree()
    placed = {s.station_id: s.region for s in kundulun_stations()}
    members = {
        r: sorted(s for s, home in placed.items() if home in set(tree.subtree(r))) for r in tree.ids
    }
    members = {r: ss for r, ss in members.items() if ss}
    expected = {
        (r, at, period)
        for r, ss in members.items()
        for s in ss
        for at in series[s]
        for period in ("1h", "24h")
    }
    assert {(r.region, r.observed_at, r.period) for r in region_rows} == expected
    for row in region_rows:
        ss = members[row.region]
        if row.period == "1h":
            means = {p: mean([series[s].get(row.observed_at, {}).get(p, NAN) for s in ss])
                     for p in POLLUTANTS}  # fmt: skip
            want = reference.aqi_row(
                {f"{p}_1h": v for p, v in means.items()}, edition(row.observed_at)
            )
        else:
            windows = [window_stats(series[s], row.observed_at) for s in ss]
            means = {k: mean([w[k] for w in windows]) for k in windows[0]}
            want = {"aqi": daily_aqi(means, row.observed_at)}
        for name, value in means.items():
            assert same(row.means[name], value), (row.region, row.observed_at, name)
        assert same(row.aqi, want["aqi"]), (row.region, row.observed_at, row.period)


def test_spans_split_hours_more_than_two_windows_apart():
    hours = np.array(["2026-12-01T00", "2026-12-01T05", "2026-12-03T05", "2026-12-03T06"],
                     dtype="datetime64[h]")  # fmt: skip
    got = [(str(a), str(b)) for a, b in spans(hours)]
    assert got == [
        ("2026-12-01 00:00:00", "2026-12-01 05:00:00"),
        ("2026-12-03 05:00:00", "2026-12-03 06:00:00"),
    ]
    closer = hours.copy()
    closer[2] = np.datetime64("2026-12-03T04", "h")  # 47 hours on: the grids would touch
    assert len(spans(closer)) == 1
