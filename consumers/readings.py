"""The readings consumer: a batch of reading records into stored readings and hourly AQI.

One order per batch (STYLE 11): decode to columns; undecodable records and records of unknown
stations go to the dead-letter sink with the reason; the hourly AQI of the whole batch comes
from the vectorised kernel; readings and results are upserted (unique per station and hour,
so a replayed batch changes nothing) in one session, committed before the handler returns.
The same handler serves the in-process bus and (next issue) the Kafka runner, which commits
offsets only after it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.codec import ReadingBatch, decode_readings
from consumers.readings_aqi import hourly_results
from emission_list.aqi import POLLUTANTS
from service.bus import Record
from service.repositories import readings, stations
from service.schemas.readings import POLLUTANT_FIELDS

DeadLetter = Callable[[Sequence[tuple[Record, str]]], Awaitable[None]]


@dataclass(frozen=True)
class BatchResult:
    stored: int
    dead_lettered: int


def _rows(batch: ReadingBatch, keep: np.ndarray) -> tuple[list[dict], list[dict]]:
    results = hourly_results(batch)
    times = batch.observed_at.astype("datetime64[s]").astype(dt.datetime).tolist()
    reading_rows, aqi_rows = [], []
    for i in np.flatnonzero(keep).tolist():
        at = times[i].replace(tzinfo=dt.UTC)
        values = dict(zip(POLLUTANT_FIELDS, batch.values[i].tolist(), strict=True))
        reading_rows.append(
            {"station_id": batch.station_id[i], "observed_at": at, "flags": batch.flags[i]} | values
        )
        aqi_rows.append(
            {
                "station_id": batch.station_id[i],
                "observed_at": at,
                "period": "1h",
                "aqi": results.aqi[i],
                "category": int(results.category[i]),
                "primary": results.primary[i],
                "iaqi": dict(zip(POLLUTANTS, results.iaqi[i].tolist(), strict=True)),
                "edition": str(results.edition[i]),
            }
        )
    return reading_rows, aqi_rows


class ReadingsHandler:
    """Handles batches of ``haze.readings`` records."""

    def __init__(
        self, session_maker: async_sessionmaker[AsyncSession], dead_letter: DeadLetter
    ) -> None:
        self._session_maker = session_maker
        self._dead_letter = dead_letter

    async def __call__(self, records: Sequence[Record]) -> None:
        await self.handle(records)

    async def handle(self, records: Sequence[Record]) -> BatchResult:
        batch, bad = decode_readings(records)
        async with self._session_maker() as session:
            known = await stations.existing(session, set(batch.station_id))
            keep = np.array([s in known for s in batch.station_id], dtype=bool)
            bad += [
                (batch.records[i], f"unknown station {batch.station_id[i]!r}")
                for i in np.flatnonzero(~keep).tolist()
            ]
            reading_rows, aqi_rows = _rows(batch, keep)
            await readings.upsert_many(session, reading_rows)
            await readings.upsert_aqi_many(session, aqi_rows)
            await session.commit()
        if bad:
            await self._dead_letter(bad)
        return BatchResult(stored=len(reading_rows), dead_lettered=len(bad))
