"""Hourly (real-time) AQI of a decoded batch of readings, with the kernel, edition by date.

Each row is scored with the HJ 633 edition in force on its local (Asia/Shanghai) date, so a
batch that straddles 2026-03-01 is split in two kernel calls, never scored row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consumers.codec import ReadingBatch
from emission_list.aqi import POLLUTANTS, hourly_aqi, pollutant_names
from emission_list.breakpoints import EDITIONS, get_table

_LOCAL_OFFSET = np.timedelta64(8, "h")


@dataclass(frozen=True)
class HourlyAqi:
    """Per row: AQI (NaN when no pollutant), category (0 = none), primary pollutants joined
    by ``;`` (empty when AQI <= 50), the IAQI of each pollutant ``(n, 6)`` in
    :data:`emission_list.aqi.POLLUTANTS` order, and the edition used."""

    aqi: np.ndarray
    category: np.ndarray
    primary: list[str]
    iaqi: np.ndarray
    edition: np.ndarray  # (n,) str


def hourly_results(batch: ReadingBatch) -> HourlyAqi:
    n = len(batch)
    aqi = np.full(n, np.nan)
    category = np.zeros(n, dtype=np.int8)
    iaqi = np.full((n, len(POLLUTANTS)), np.nan)
    primary = np.full(n, "", dtype=object)
    edition = np.empty(n, dtype=object)
    # The hour ending at local midnight belongs to the day before: step back a second.
    local_day = (batch.observed_at + _LOCAL_OFFSET - np.timedelta64(1, "s")).astype("datetime64[D]")
    by_start = sorted(EDITIONS, key=lambda e: get_table(e).in_force_from)
    starts = np.array([get_table(e).in_force_from for e in by_start], dtype="datetime64[D]")
    which = np.clip(np.searchsorted(starts, local_day, side="right") - 1, 0, None)
    for i, name in enumerate(by_start):
        rows = which == i
        if not rows.any():
            continue
        table = hourly_aqi(
            **{p: batch.column(p)[rows] for p in ("so2", "no2", "co", "o3", "pm10", "pm25")},
            edition=name,
        )
        aqi[rows] = table.aqi
        category[rows] = table.category
        iaqi[rows] = table.iaqi_by_pollutant
        primary[rows] = pollutant_names(table.primary)
        edition[rows] = name
    return HourlyAqi(aqi, category, primary.tolist(), iaqi, edition.astype(str))
