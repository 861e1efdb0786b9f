"""The columnar store of station-hours: one statement on PostgreSQL, the generic upserts
elsewhere, the same rows either way; a replay changes nothing, a correction is counted."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.samples import kundulun_regions, kundulun_stations
from service.storage.models import AqiResult, Reading
from service.storage.repositories import hourly, regions, stations
from service.storage.repositories.hourly import StationHours

STATIONS = [s.station_id for s in kundulun_stations()]
NOW = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)


def station_hours(rng: np.random.Generator, n: int) -> StationHours:
    hours, which = np.divmod(rng.choice(len(STATIONS) * 400, size=n, replace=False), len(STATIONS))
    station = [STATIONS[i] for i in which.tolist()]
    values = rng.uniform(0, 400, (n, 6)).round(1)
    values[rng.random((n, 6)) < 0.2] = np.nan
    iaqi = rng.uniform(0, 300, (n, 6)).round(0)
    iaqi[np.isnan(values[:, [2, 3, 5, 4, 1, 0]])] = np.nan
    aqi = np.nanmax(np.where(np.isnan(iaqi), -1, iaqi), axis=1)
    aqi[aqi < 0] = np.nan
    start = np.datetime64("2026-12-01T00:00:00", "s")
    return StationHours(
        station_id=station,
        observed_at=start + hours.astype("timedelta64[h]"),
        values=values,
        flags=[["H"] if i % 7 == 0 else [] for i in range(n)],
        aqi=aqi,
        category=rng.integers(0, 7, n),
        primary=["pm25" if i % 3 else "" for i in range(n)],
        iaqi=iaqi,
        edition=["HJ 633-2012"] * n,
    )


async def _prepared(session: AsyncSession) -> None:
    await regions.put_many(session, kundulun_regions())
    await stations.put_many(session, kundulun_stations())


async def _stored(session: AsyncSession) -> tuple[list, list]:
    readings = await session.execute(select(Reading).order_by("station_id", "observed_at"))
    results = await session.execute(select(AqiResult).order_by("station_id", "observed_at"))
    reading_rows = [
        (r.station_id, r.observed_at, r.pm25, r.pm10, r.so2, r.no2, r.o3, r.co, r.flags)
        for r in readings.scalars()
    ]
    result_rows = [
        (a.station_id, a.observed_at, a.period, a.aqi, a.category, a.primary, a.iaqi, a.edition)
        for a in results.scalars()
    ]
    return reading_rows, result_rows


async def test_both_paths_store_the_same_rows_and_a_replay_changes_nothing(
    session: AsyncSession,
) -> None:
    await _prepared(session)
    batch = station_hours(np.random.default_rng(5), 600)
    generic = await hourly._store_rows(session, batch, NOW)
    by_generic = await _stored(session)
    await session.rollback()

    await _prepared(session)
    counts = await hourly.store(session, batch, now=NOW)
    assert counts == generic
    assert counts[0].inserted == counts[1].inserted == 600
    assert await _stored(session) == by_generic
    readings = by_generic[0]
    first = batch.observed_at[0].astype(dt.datetime).replace(tzinfo=dt.UTC)
    mine = [r for r in readings if r[0] == batch.station_id[0] and r[1] == first]
    assert mine[0][2:8] == tuple(None if np.isnan(v) else v for v in batch.values[0])

    again = await hourly.store(session, batch, now=NOW)
    assert again[0].unchanged == again[1].unchanged == 600

    corrected = batch.values.copy()
    corrected[:10, 0] = 999.0
    changed = StationHours(**{**batch.__dict__, "values": corrected})
    after = await hourly.store(session, changed, now=NOW)
    assert after[0].updated == 10 and after[0].unchanged == 590
    assert after[1].unchanged == 600  # the caller recomputes the AQI of what changed


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
async def test_stored_values_are_the_given_ones(session: AsyncSession, seed: int, n: int) -> None:
    await _prepared(session)
    batch = station_hours(np.random.default_rng(seed), n)
    await hourly.store(session, batch, now=NOW)
    readings, results = await _stored(session)
    expected = sorted(
        (
            batch.station_id[i],
            batch.observed_at[i].astype(dt.datetime).replace(tzinfo=dt.UTC),
            batch.aqi[i],
        )
        for i in range(n)
    )
    got = [(a[0], a[1], a[3]) for a in results]
    assert [(s, t) for s, t, _ in expected] == [(s, t) for s, t, _ in got]
    assert [None if np.isnan(a) else int(a) for _, _, a in expected] == [a for _, _, a in got]
    assert len(readings) == n
    await session.rollback()
