"""A readings consumer on the real broker and PostgreSQL coalesces: readings stored by its
batches reach the station's 24-hour results and every region above it through the refresh
task of the same process (``haze consume readings`` as built by ``build_runtime``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from stream_helpers import eventually, produce, reading, stream_settings

from consumers.readings_refresh import WindowsRefresher
from emission_list.samples import kundulun_region_tree, kundulun_stations
from service.bootstrap import prepare
from service.commands.process import build_runtime
from service.commands.stream import create_topics
from service.storage.models import AqiResult, RegionAqi

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


async def test_the_consumer_process_refreshes_the_regions_of_what_it_stored(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap, readings_refresh_s=0.2)
    await create_topics(settings)
    await prepare(settings)
    station = kundulun_stations()[0]
    hours = [HOUR - dt.timedelta(hours=h) for h in range(1, 6)]
    await produce(
        settings, settings.kafka_topic_readings, [reading(station.station_id, at) for at in hours]
    )
    runtime = build_runtime(settings, consumers=["readings"])
    assert any(isinstance(w, WindowsRefresher) for w in runtime.workers)
    tree = kundulun_region_tree()
    regions = {station.region, *tree.ancestors(station.region)}
    await runtime.start()
    try:

        async def region_rows() -> list[RegionAqi]:
            async with runtime.session_maker() as session:
                statement = select(RegionAqi).where(RegionAqi.period == "1h")
                return list((await session.execute(statement)).scalars())

        async def reflected() -> bool:
            return len(await region_rows()) == len(regions) * len(hours)

        await eventually(reflected, "every region's hourly AQI of the five readings")
        async with runtime.session_maker() as session:
            daily = select(AqiResult.observed_at).where(
                AqiResult.station_id == station.station_id, AqiResult.period == "24h"
            )
            daily_hours = set((await session.execute(daily)).scalars())
        rows = await region_rows()
    finally:
        await runtime.stop()
    assert {(r.region, r.observed_at) for r in rows} == {(g, at) for g in regions for at in hours}
    assert all(r.means["pm25"] == 80.0 and r.stations == 1 for r in rows)  # the one station
    assert daily_hours == set(hours)
