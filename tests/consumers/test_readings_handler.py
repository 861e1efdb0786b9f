"""The readings handler on SQLite and PostgreSQL: stored once, AQI computed, poison set aside."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from consumers.readings import ReadingsHandler
from emission_list.samples import kundulun_episode, kundulun_regions, kundulun_stations
from service.api.schemas.readings import CheckedReading
from service.bus import Record
from service.bus.records import encode_reading
from service.storage.engine import make_session_maker
from service.storage.models import AqiResult, Reading
from service.storage.repositories import regions, stations


def after_episode() -> dt.datetime:
    """A clock after the sample episode (its readings are in December 2026)."""
    return dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def records_of(rows) -> list[Record]:
    out = []
    for i, row in enumerate(rows):
        at = dt.datetime.fromisoformat(row["observed_at"])
        values = {p: row[p] for p in ("pm25", "pm10", "so2", "no2", "o3", "co")}
        reading = CheckedReading(
            station_id=row["station_id"], observed_at=at, values=values, flags=[]
        )
        key, value = encode_reading(reading)
        out.append(Record("haze.readings", key, value, offset=i))
    return out


async def test_a_day_of_sample_readings_is_stored_once_with_its_hourly_aqi(engine: AsyncEngine):
    maker = make_session_maker(engine)
    async with maker() as session:
        await regions.put_many(session, kundulun_regions())
        await stations.put_many(session, kundulun_stations())
        await session.commit()
    dead: list = []

    async def dead_letter(items):
        dead.extend(items)

    handler = ReadingsHandler(maker, dead_letter, clock=after_episode)
    rows = [
        r for r in kundulun_episode().readings.rows() if r["observed_at"].startswith("2026-12-06")
    ]
    records = records_of(rows)
    poison = [Record("haze.readings", None, b"{oops", offset=10_000)]
    unknown = records_of([rows[0] | {"station_id": "NOPE"}])
    result = await handler.handle(records + poison + unknown)
    assert result.stored == len(rows) and result.dead_lettered == 2
    assert [reason.split(":")[0] for _, reason in dead] == [
        "undecodable reading",
        "unknown station 'NOPE'",
    ]

    again = await handler.handle(records)  # a replay stores nothing twice
    assert again.stored == len(rows)
    async with maker() as session:
        assert await session.scalar(select(func.count()).select_from(Reading)) == len(rows)
        per_period = select(AqiResult.period, func.count()).group_by(AqiResult.period)
        counts = dict((await session.execute(per_period)).all())
        assert counts == {"1h": len(rows), "24h": len(rows)}  # every reading ends a window
        worst = await session.scalar(
            select(func.max(AqiResult.aqi)).where(AqiResult.period == "1h")
        )
    assert worst > 200  # 6 December is a heavily polluted day in the sample episode


async def test_records_breaking_the_api_rules_are_dead_lettered_not_stored(engine: AsyncEngine):
    """Produced straight to the topic, past the API: every API rule holds in the consumer."""
    maker = make_session_maker(engine)
    async with maker() as session:
        await regions.put_many(session, kundulun_regions())
        await stations.put_many(session, kundulun_stations())
        await session.commit()
    dead: list = []

    async def dead_letter(items):
        dead.extend(items)

    def raw(t: str, pm25: float, pm10: float = 100.0) -> bytes:
        return json.dumps({"s": "1502A01", "t": t, "v": [pm25, pm10, 1, 1, 1, 1]}).encode()

    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    values = {
        "negative": raw("2026-12-05T01:00:00Z", -50),
        "half past": raw("2026-12-05T00:30:00Z", 50),
        "year 9999": raw("9999-12-05T02:00:00Z", 50),
        "1e300": raw("2026-12-05T03:00:00Z", 1e300, 1e300),
        "pm25 far above pm10": raw("2026-12-05T04:00:00Z", 300, 100),
        "year 0999": raw("0999-12-05T05:00:00Z", 50),
        "good": raw("2026-12-05T06:00:00Z", 50),
    }
    records = [
        Record("haze.readings", b"1502A01", v, offset=i) for i, v in enumerate(values.values())
    ]
    records.insert(0, Record("haze.readings", b"1502A01", None, offset=99))  # a tombstone
    handler = ReadingsHandler(maker, dead_letter, clock=lambda: now)
    result = await handler.handle(records)
    assert result.stored == 1 and result.dead_lettered == len(values)
    reasons = {record.offset: reason for record, reason in dead}
    assert reasons == {
        99: "tombstone: a record without a value",
        0: "invalid reading: value.negative(pm25)",
        1: "invalid reading: observed_at.not_on_hour",
        2: "invalid reading: observed_at.future",
        3: "invalid reading: value.impossible(pm25), value.impossible(pm10)",
        4: "invalid reading: pm25.above_pm10",
        5: "invalid reading: observed_at.too_early",
    }
    async with maker() as session:
        stored = (await session.execute(select(Reading.observed_at))).scalars().all()
    assert [at.replace(tzinfo=None) for at in stored] == [dt.datetime(2026, 12, 5, 6)]
