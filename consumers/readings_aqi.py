"""AQI of columns of concentrations, each row scored with the edition of its local date.

Each row is scored with the HJ 633 edition in force on its local (Asia/Shanghai) date, the
date of the hour (or 24 hours) ending at its stamp: a batch that straddles 2026-03-01 is
split in one kernel call per edition, never scored row by row. Hourly rows use the real-time
tables (:func:`~emission_list.aqi.hourly_aqi`), 24-hour rows the daily ones
(:func:`~emission_list.aqi.evaluate_columns` on ``*_24h`` and ``o3_8h`` columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from emission_list.aqi import POLLUTANTS, evaluate_columns, hourly_aqi, pollutant_names
from emission_list.breakpoints import EDITIONS, get_table
from service.bus.records import ReadingBatch

_LOCAL_OFFSET = np.timedelta64(8, "h")


@dataclass(frozen=True)
class ScoredAqi:
    """Per row: AQI (NaN when no pollutant), category (0 = none), primary pollutants joined
    by ``;`` (empty when AQI <= 50), the IAQI of each pollutant ``(n, 6)`` in
    :data:`emission_list.aqi.POLLUTANTS` order, and the edition used."""

    aqi: np.ndarray
    category: np.ndarray
    primary: list[str]
    iaqi: np.ndarray
    edition: np.ndarray  # (n,) str


def editions(ends: np.ndarray) -> np.ndarray:
    """The edition of each stamp's local date (an hour ending at local midnight belongs to the
    day before: a second is taken off)."""
    local_day = (ends.astype("datetime64[s]") + _LOCAL_OFFSET - np.timedelta64(1, "s")).astype(
        "datetime64[D]"
    )
    by_start = sorted(EDITIONS, key=lambda e: get_table(e).in_force_from)
    starts = np.array([get_table(e).in_force_from for e in by_start], dtype="datetime64[D]")
    which = np.clip(np.searchsorted(starts, local_day, side="right") - 1, 0, None)
    return np.array(by_start, dtype=object)[which].astype(str)


def score(columns: Mapping[str, np.ndarray], ends: np.ndarray, *, daily: bool) -> ScoredAqi:
    """Hourly (``daily=False``: columns named by pollutant) or 24-hour AQI (``daily=True``:
    columns ``so2_24h .. pm25_24h, o3_8h``) of rows ending at ``ends``."""
    n = len(ends)
    aqi = np.full(n, np.nan)
    category = np.zeros(n, dtype=np.int8)
    iaqi = np.full((n, len(POLLUTANTS)), np.nan)
    primary = np.full(n, "", dtype=object)
    edition = editions(ends)
    for name in np.unique(edition).tolist():
        rows = edition == name
        picked = {column: values[rows] for column, values in columns.items()}
        table = evaluate_columns(picked, name) if daily else hourly_aqi(**picked, edition=name)
        aqi[rows] = table.aqi
        category[rows] = table.category
        iaqi[rows] = table.iaqi_by_pollutant
        primary[rows] = pollutant_names(table.primary)
    return ScoredAqi(aqi, category, primary.tolist(), iaqi, edition)


def hourly_results(batch: ReadingBatch) -> ScoredAqi:
    """The real-time AQI of every reading of a decoded batch."""
    columns = {p: batch.column(p) for p in ("so2", "no2", "co", "o3", "pm10", "pm25")}
    return score(columns, batch.observed_at, daily=False)
