"""Accepting posted readings: check every row, publish the good ones, report the bad by index.

The answer (202 ``{"accepted": n, "rejected": [...]}``) is given only after the bus made the
good rows durable: the in-process bus returns once the readings consumer committed them, the
Kafka bus once the broker acknowledged. If the bus cannot take them, nothing is acknowledged
and :class:`service.bus.BusUnavailableError` reaches the caller (503 with Retry-After).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from consumers.codec import encode_reading
from service.bus import EventBus
from service.repositories import stations
from service.schemas.readings import ReadingsAccepted
from service.services.readings_check import check_readings

READINGS_TOPIC = "haze.readings"


async def accept_readings(
    session: AsyncSession,
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
    known = await stations.existing(session, named)
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
