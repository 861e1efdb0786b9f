"""The rules a reading must pass, in one place, vectorised over a batch's columns.

The API's row check (:mod:`service.services.readings_check`) and the readings consumer
(:mod:`consumers.readings`, for records produced straight to ``haze.readings``) both apply
:func:`check_columns`, so a reading the API answers 202 for is one the consumer stores, and a
reading the consumer would refuse is refused by the API first.

Rules (each a boolean mask): a value that is not finite, negative, or above the instrument
ceiling; PM2.5 far above PM10 (more than twice PM10 plus 20 µg/m³; above PM10 within that
margin is only flagged); a stamp not on the hour (UTC), more than the tolerance in the
future, or before :data:`EARLIEST_OBSERVED_AT`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from service.api.schemas.readings import POLLUTANT_FIELDS

#: Above these a value cannot come from a working analyser [µg/m³; mg/m³ for CO]. PM10 in a
#: Baotou dust storm reaches several thousand µg/m³, so its ceiling is high.
CEILINGS: dict[str, float] = {
    "pm25": 2000.0,
    "pm10": 10000.0,
    "so2": 10000.0,
    "no2": 4000.0,
    "o3": 2000.0,
    "co": 150.0,
}
#: No reading is older than this (the wire format carries a four-digit year) [UTC].
EARLIEST_OBSERVED_AT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: PM2.5 above ``PM25_FACTOR * PM10 + PM25_MARGIN`` is impossible [µg/m³].
PM25_FACTOR = 2.0
PM25_MARGIN = 20.0

_CEILING_ROW = np.array([CEILINGS[p] for p in POLLUTANT_FIELDS], dtype=np.float64)
_PM25, _PM10 = POLLUTANT_FIELDS.index("pm25"), POLLUTANT_FIELDS.index("pm10")
_HOUR_US = 3_600_000_000


def utc_micros(at: dt.datetime) -> np.datetime64:
    """An aware time as ``datetime64[us]`` in UTC (no time zone)."""
    return np.datetime64(at.astimezone(dt.UTC).replace(tzinfo=None), "us")


@dataclass(frozen=True)
class RuleHits:
    """Which rows (and fields) break which rule; ``(n, 6)`` masks are in POLLUTANT_FIELDS
    order. NaN values (missing) break no value rule."""

    not_finite: np.ndarray  # (n, 6)
    negative: np.ndarray  # (n, 6)
    impossible: np.ndarray  # (n, 6)
    pm25_impossible: np.ndarray  # (n,)
    pm25_above_pm10: np.ndarray  # (n,) a flag, not an error
    not_on_hour: np.ndarray  # (n,)
    future: np.ndarray  # (n,)
    too_early: np.ndarray  # (n,)

    def bad(self) -> np.ndarray:
        """(n,) rows breaking any rule."""
        per_field = (self.not_finite | self.negative | self.impossible).any(axis=1)
        return per_field | self.pm25_impossible | self.not_on_hour | self.future | self.too_early

    def reason(self, row: int) -> str:
        """The rules row ``row`` breaks, as codes (the API's codes), e.g.
        ``value.negative(pm25), observed_at.not_on_hour``."""
        parts = []
        for code, mask in (
            ("value.not_finite", self.not_finite),
            ("value.negative", self.negative),
            ("value.impossible", self.impossible),
        ):
            parts += [f"{code}({POLLUTANT_FIELDS[j]})" for j in np.flatnonzero(mask[row])]
        for code, mask in (
            ("pm25.above_pm10", self.pm25_impossible),
            ("observed_at.not_on_hour", self.not_on_hour),
            ("observed_at.future", self.future),
            ("observed_at.too_early", self.too_early),
        ):
            if mask[row]:
                parts.append(code)
        return ", ".join(parts)


def check_columns(
    observed_at: np.ndarray, values: np.ndarray, now: dt.datetime, tolerance: dt.timedelta
) -> RuleHits:
    """Apply every rule to a batch.

    Parameters
    ----------
    observed_at
        (n,) ``datetime64`` in UTC, any unit down to microseconds.
    values
        (n, 6) float64 in POLLUTANT_FIELDS order, NaN = missing [µg/m³; mg/m³ for CO].
    now, tolerance
        Stamps after ``now + tolerance`` are in the future.
    """
    stamps = observed_at.astype("datetime64[us]").astype(np.int64)
    present = ~np.isnan(values)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore", over="ignore"):
        negative = finite & (values < 0)
        impossible = finite & ~negative & (values > _CEILING_ROW)
        pm25, pm10 = values[:, _PM25], values[:, _PM10]
        above = np.isfinite(pm25) & np.isfinite(pm10) & (pm10 >= 0) & (pm25 > pm10)
        far = above & (pm25 > PM25_FACTOR * pm10 + PM25_MARGIN)
    latest = utc_micros(now + tolerance).astype(np.int64)
    earliest = utc_micros(EARLIEST_OBSERVED_AT).astype(np.int64)
    return RuleHits(
        not_finite=present & ~finite,
        negative=negative,
        impossible=impossible,
        pm25_impossible=far,
        pm25_above_pm10=above & ~far,
        not_on_hour=stamps % _HOUR_US != 0,
        future=stamps > latest,
        too_early=stamps < earliest,
    )
