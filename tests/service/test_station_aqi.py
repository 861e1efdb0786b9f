"""A station's hourly and 24-hour AQI on SQLite and PostgreSQL, against the domain core."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from consumers.readings import ReadingsHandler
from emission_list import averages
from emission_list.aqi import daily_aqi
from service.api.schemas.readings import CheckedReading
from service.bus import Record
from service.bus.records import encode_reading
from service.services.seed import seed_sample
from service.services.station_aqi import station_aqi
from service.storage.engine import make_session_maker

END = dt.datetime(2026, 12, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # end of 5 Dec


async def store(maker, hours: int, pm25: float, skip: set[int] = frozenset()) -> None:
    records = []
    for h in range(hours):
        if h in skip:
            continue
        at = END - dt.timedelta(hours=h)
        values = {"pm25": pm25 + h, "pm10": 2 * pm25, "so2": 20, "no2": 40, "o3": 30, "co": 1.0}
        key, value = encode_reading(
            CheckedReading(station_id="1502A01", observed_at=at, values=values, flags=[])
        )
        records.append(Record("haze.readings", key, value))

    async def dead_letter(items):
        raise AssertionError(items)

    await ReadingsHandler(maker, dead_letter, clock=lambda: END).handle(records)


async def test_a_full_day_gives_the_24h_aqi_of_the_domain_core(engine: AsyncEngine) -> None:
    maker = make_session_maker(engine)
    async with maker() as session:
        await seed_sample(session)
        await session.commit()
    await store(maker, 24, 100.0)
    async with maker() as session:
        view = await station_aqi(session, "1502A01")
    pm25 = np.array([100.0 + h for h in range(24)])[::-1]
    expected = daily_aqi(
        so2=np.array([20.0]), no2=np.array([40.0]), co=np.array([1.0]), pm10=np.array([200.0]),
        pm25=np.array([averages.daily_mean(pm25)]), o3_8h=np.array([30.0]), edition="2026",
    )  # fmt: skip
    assert view.hourly.aqi is not None and view.daily_window_end == END
    assert view.daily_aqi == int(expected.aqi[0]) and view.daily_primary == "pm25"
    assert view.daily_missing == []


async def test_too_few_hours_give_no_24h_value_for_that_pollutant(engine: AsyncEngine) -> None:
    maker = make_session_maker(engine)
    async with maker() as session:
        await seed_sample(session)
        await session.commit()
    await store(maker, 24, 100.0, skip={3, 4, 5, 6, 7})  # 19 hours left
    async with maker() as session:
        view = await station_aqi(session, "1502A01")
    assert view.daily_aqi is None and set(view.daily_missing) == {
        "so2",
        "no2",
        "co",
        "pm10",
        "pm25",
        "o3",
    }
    async with maker() as session:
        nothing = await station_aqi(session, "1502A02")
    assert nothing.hourly is None and nothing.daily_aqi is None
