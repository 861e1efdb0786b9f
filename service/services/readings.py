"""Accepting posted readings: check every row, publish the good ones, report the bad by index.

The answer (202 ``{"accepted": n, "rejected": [...]}``) is given only after the bus made the
good rows durable: the in-process bus returns once the readings consumer committed them, the
Kafka bus once the broker acknowledged. If the bus cannot take them, nothing is acknowledged
and :class:`service.bus.BusUnavailableError` reaches the caller (503 with Retry-After).

The known stations are read on a connection returned to the pool *before* the publish: a
broker that is down makes a publish wait up to its timeout, and requests waiting on it must
not hold connections the rest of the API needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.codec import encode_reading
from service.bus import EventBus
from service.repositories import stations
from service.schemas.readings import ReadingsAccepted
from service.services.readings_check import check_readings

READINGS_TOPIC = "haze.readings"


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
    named = {r.get("station_id") for r in rows if isinstance(r, dict)}
    async with session_maker() as session:  # released before the publish waits
        known = await stations.existing(session, {s for s in named if isinstance(s, str)})
    good, rejected = check_readings(
        rows,
        known,
        now,
        allowed_stations=allowed_stations,
        future_tolerance=future_tolerance,
        language=language,
    )
    await bus.publish(topic, [encode_reading(r) for r in good])
    return ReadingsAccepted(accepted=len(good), rejected=rejected)
