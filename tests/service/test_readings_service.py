"""Posted readings through the checks and the in-process bus into the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from consumers.readings import ReadingsHandler
from service.bus import BusUnavailableError, InProcessBus
from service.services.readings import READINGS_TOPIC, accept_readings
from service.services.seed import seed_sample
from service.storage.engine import make_session_maker
from service.storage.models import Reading

NOW = dt.datetime(2026, 12, 5, 7, 0, tzinfo=dt.UTC)


async def make_bus(maker, dead):
    bus = InProcessBus()

    async def dead_letter(items):
        dead.extend(items)

    bus.subscribe(READINGS_TOPIC, ReadingsHandler(maker, dead_letter, clock=lambda: NOW))
    await bus.start()
    return bus


async def test_good_rows_are_stored_before_the_answer_and_bad_rows_reported(engine: AsyncEngine):
    maker = make_session_maker(engine)
    async with maker() as session:
        await seed_sample(session)
        await session.commit()
    dead: list = []
    bus = await make_bus(maker, dead)
    rows = [
        {"station_id": "1502A01", "observed_at": "2026-12-05T14:00:00+08:00", "pm25": 160},
        {"station_id": "1502A01", "observed_at": "2026-12-05T15:00:00+08:00", "pm25": -5},
        {"station_id": "ghost", "observed_at": "2026-12-05T14:00:00+08:00", "pm25": 10},
        {"station_id": "1502A02", "observed_at": "2026-12-05T14:00:00+08:00", "co": 1.1},
    ]
    answer = await accept_readings(maker, bus, rows, NOW)
    assert answer.accepted == 2
    assert [(r.index, r.errors[0]["code"]) for r in answer.rejected] == [
        (1, "value.negative"),
        (2, "station.unknown"),
    ]
    async with maker() as session:
        assert await session.scalar(select(func.count()).select_from(Reading)) == 2
    assert dead == []


async def test_without_a_consumer_nothing_is_acknowledged(engine: AsyncEngine):
    maker = make_session_maker(engine)
    async with maker() as session:
        await seed_sample(session)
        await session.commit()
    bus = InProcessBus()
    await bus.start()
    row = {"station_id": "1502A01", "observed_at": "2026-12-05T14:00:00+08:00", "pm25": 1}
    with pytest.raises(BusUnavailableError):
        await accept_readings(maker, bus, [row], NOW)
