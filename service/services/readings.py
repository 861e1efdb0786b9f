"""Accepting posted readings: check every row, publish the good ones, report the bad by index.

The answer (202 ``{"accepted": n, "rejected": [...]}``) is given only after the bus made the
good rows durable: the in-process bus returns once the readings consumer committed them, the
Kafka bus once the broker acknowledged. If the bus cannot take them, nothing is acknowledged
and :class:`service.bus.BusUnavailableError` reaches the caller (503 with Retry-After).

The known stations are read on a connection returned to the pool *before* the publish: a
broker that is down makes a publish wait up to its timeout, and requests waiting on it must
not hold connections the rest of the API needs. A large post is checked and encoded a slice
at a time, yielding to the event loop in between, so polls are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api.schemas.readings import ReadingsAccepted
from service.bus import EventBus
from service.bus.records import encode_reading
from service.services.readings_check import ReadingsCheck
from service.storage.repositories import stations

READINGS_TOPIC = "haze.readings"
#: Rows checked and encoded between two yields to the event loop: it is pure Python (about
#: 0.13 ms a row), and 10,000 rows in one go held every poll of the process for 1.3 s.
SLICE_ROWS = 500


async def accept_readings(
    session_maker: async_sessionmaker[AsyncSession],
    bus: EventBus,
    rows: Sequence[object],
    now: dt.datetime,
    *,
    allowed_stations: Collection[str] | None = None,
    future_tolerance: dt.timedelta = dt.timedelta(minutes=10),
    language: str = "en",
    topic: str = READINGS_TOPIC,
) -> ReadingsAccepted:
    """Check ``rows`` and publish the good ones; ``allowed_stations`` None = any station."""
    # a station_id of the wrong type (an object, a list) is its row's error, reported by index
    named = {s for r in rows if isinstance(r, dict) and isinstance(s := r.get("station_id"), str)}
    async with session_maker() as session:  # released before the publish waits
        known = await stations.existing(session, named)

    check = ReadingsCheck(
        known,
        now,
        allowed_stations=allowed_stations,
        future_tolerance=future_tolerance,
        language=language,
    )
    for start in range(0, len(rows), SLICE_ROWS):  # the event loop serves others in between
        check.feed(rows[start : start + SLICE_ROWS], start)
        await asyncio.sleep(0)
    good, rejected = check.result()
    items: list[tuple[bytes | None, bytes]] = []
    for start in range(0, len(good), SLICE_ROWS):
        items += [encode_reading(r) for r in good[start : start + SLICE_ROWS]]
        await asyncio.sleep(0)
    await bus.publish(topic, items)
    return ReadingsAccepted(accepted=len(items), rejected=rejected)
