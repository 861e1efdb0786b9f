"""A batch of station-hours stored in one go: the readings and their hourly AQI, as columns.

The readings consumer hands over numpy columns, never a dict per row. On PostgreSQL both
tables are upserted by one statement over the columns staged by binary COPY
(:mod:`service.storage.repositories.columnar`), missing values as NaN turned into NULL by the
database, the IAQI array built there (``ARRAY[...]``); each upsert writes only rows whose
values differ, so a replay changes nothing. On SQLite (the embedded default, low volume)
the rows go through the generic upserts of :mod:`service.storage.repositories.readings`; both paths
store the same values.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.aqi import POLLUTANTS as IAQI_ORDER
from service.storage.repositories import UpsertCounts, driver_connection, utcnow
from service.storage.repositories.columnar import (
    Staging,
    assignments,
    changed,
    float_array,
    not_nan,
    stage,
)
from service.storage.repositories.readings import POLLUTANTS, upsert_aqi_many, upsert_many


@dataclass(frozen=True)
class StationHours:
    """Checked readings of distinct station-hours and their hourly AQI, as columns."""

    station_id: list[str]
    observed_at: np.ndarray  # (n,) datetime64[s], UTC, the hour's end
    values: np.ndarray  # (n, 6) float64 in readings.POLLUTANTS order, NaN = not measured
    flags: list[list[str]]
    aqi: np.ndarray  # (n,) float64, NaN = no AQI
    category: np.ndarray  # (n,) int, 0 = none
    primary: list[str]  # pollutants joined by ";"
    iaqi: np.ndarray  # (n, 6) float64 in emission_list.aqi.POLLUTANTS order
    edition: list[str]

    def __len__(self) -> int:
        return len(self.station_id)


def _flags_json(flags: list[str]) -> str:
    return json.dumps(sorted(flags)) if flags else "[]"


_IAQI = float_array(f"i_{p}" for p in IAQI_ORDER)
_AQI_VALUES = ("aqi", "category", "primary", "iaqi", "edition")


_STAGING = Staging(
    (
        ("station_id", "text"),
        ("t", "float8"),
        *((p, "float8") for p in POLLUTANTS),
        ("flags", "text"),
        ("aqi", "float8"),
        ("category", "int4"),
        ("primary", "text"),
        *((f"i_{p}", "float8") for p in IAQI_ORDER),
        ("edition", "text"),
    )
)
_NOW = f"${_STAGING.parameters + 1}"

STORE_SQL = f"""
WITH {_STAGING.given()},
r AS (
  INSERT INTO readings (station_id, observed_at, {", ".join(POLLUTANTS)}, flags, received_at)
  SELECT station_id, to_timestamp(t), {", ".join(not_nan(p) for p in POLLUTANTS)},
         flags::jsonb, {_NOW}
  FROM given
  ON CONFLICT (station_id, observed_at) DO UPDATE
  SET {assignments((*POLLUTANTS, "flags"))}, updated_at = {_NOW}
  WHERE {changed("readings", (*POLLUTANTS, "flags"))}
  RETURNING updated_at
),
a AS (
  INSERT INTO aqi_results
    (station_id, observed_at, period, aqi, category, "primary", iaqi, edition, computed_at)
  SELECT station_id, to_timestamp(t), '1h', {not_nan("aqi")}::int4, category, "primary",
         {_IAQI}, edition, {_NOW}
  FROM given
  ON CONFLICT (station_id, observed_at, period) DO UPDATE
  SET {assignments(_AQI_VALUES)}, updated_at = {_NOW}
  WHERE {changed("aqi_results", _AQI_VALUES)}
  RETURNING updated_at
)
SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM r WHERE updated_at IS NULL),
       (SELECT count(*) FROM a), (SELECT count(*) FROM a WHERE updated_at IS NULL)
"""


def _counts(given: int, written: int, inserted: int) -> UpsertCounts:
    return UpsertCounts(inserted, written - inserted, given - written)


async def store(
    session: AsyncSession, hours: StationHours, *, now: dt.datetime | None = None
) -> tuple[UpsertCounts, UpsertCounts]:
    """Upsert the readings and their hourly AQI results; the counts of each.

    The station-hours must be distinct and their stations exist (the caller checked)."""
    now = now or utcnow()
    n = len(hours)
    if n == 0:
        return UpsertCounts(), UpsertCounts()
    if session.get_bind().dialect.name != "postgresql":
        return await _store_rows(session, hours, now)
    columns = [
        hours.station_id,
        hours.observed_at.astype("datetime64[s]").astype(np.int64),
        *(hours.values[:, j] for j in range(len(POLLUTANTS))),
        [_flags_json(f) for f in hours.flags],
        hours.aqi,
        hours.category,
        hours.primary,
        *(hours.iaqi[:, j] for j in range(len(IAQI_ORDER))),
        hours.edition,
    ]
    dictionaries = await stage(session, _STAGING, columns)
    raw = await driver_connection(session)
    written, inserted, aqi_written, aqi_inserted = await raw.fetchrow(STORE_SQL, *dictionaries, now)
    return _counts(n, written, inserted), _counts(n, aqi_written, aqi_inserted)


async def _store_rows(
    session: AsyncSession, hours: StationHours, now: dt.datetime
) -> tuple[UpsertCounts, UpsertCounts]:
    times = hours.observed_at.astype("datetime64[s]").astype(dt.datetime).tolist()
    reading_rows, aqi_rows = [], []
    for i, naive in enumerate(times):
        at = naive.replace(tzinfo=dt.UTC)
        station = hours.station_id[i]
        values = dict(zip(POLLUTANTS, hours.values[i].tolist(), strict=True))
        reading_rows.append({"station_id": station, "observed_at": at, "flags": hours.flags[i]})
        reading_rows[-1].update(values)
        aqi_rows.append(
            {
                "station_id": station,
                "observed_at": at,
                "period": "1h",
                "aqi": float(hours.aqi[i]),
                "category": int(hours.category[i]),
                "primary": hours.primary[i],
                "iaqi": dict(zip(IAQI_ORDER, hours.iaqi[i].tolist(), strict=True)),
                "edition": hours.edition[i],
            }
        )
    stored = await upsert_many(session, reading_rows, now=now)
    return stored, await upsert_aqi_many(session, aqi_rows, now=now)
