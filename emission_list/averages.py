"""Daily statistics of hourly concentrations, with the data-validity rules of GB 3095 and HJ 663.

Hourly values are hour-ending: index 0 of a day is the hour ending 01:00 (00:00-01:00), index 23
the hour ending 24:00, and a day is a natural day in local time (Asia/Shanghai). Every function
takes arrays whose last axis is hours and is vectorised over any leading shape (stations, days).

A value counts as valid when it is a finite number >= 0; NaN (an empty cell, ``NA`` or ``/`` in a
feed), a negative or an infinite value does not count. A statistic with too few valid values is
NaN (no value, never a wrong value); :func:`missing_pollutants` says which pollutant lacked one.

Sums run hour by hour in time order, so a result is the same IEEE value a plain loop gives.

Validity thresholds (keyword arguments, defaults as below):

- 24h mean: at least 20 valid hours in the day (GB 3095-2012, data-validity rules);
- 8h moving O3 mean: at least 6 valid hours in its 8-hour window (GB 3095-2012);
- daily maximum 8h O3: at least 14 valid 8h means among the 17 windows ending 08:00..24:00
  (HJ 663-2013). HJ 663 also keeps a day with fewer valid means when its maximum exceeds the
  concentration limit; that is off by default (the domain brief asks for 14) and available as
  ``keep_if_above`` (e.g. 160 µg/m³, the grade II limit);
- daily maximum 1h O3: at least 20 valid hours, the same rule as any daily statistic (GB 3095
  sets none of its own for this value; our choice, adjustable with ``min_hours``).

References
----------
GB 3095-2012, Ambient air quality standards, data-validity rules (数据统计的有效性规定).
HJ 663-2013, Technical Regulation for Ambient Air Quality Assessment (on trial): definition of
the daily maximum 8-hour average (8h moving means ending 08:00 to 24:00) and its validity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emission_list.aqi import POLLUTANTS

#: Valid hours a 24h mean needs (GB 3095-2012).
MIN_HOURS_24H = 20
#: Valid hours an 8h moving mean needs in its window (GB 3095-2012).
MIN_HOURS_8H = 6
#: Valid 8h means the daily maximum 8h O3 needs (HJ 663-2013).
MIN_8H_MEANS = 14
#: Hour ending of the first 8h window counted in the daily maximum: 08:00 (HJ 663-2013).
FIRST_WINDOW_END = 8
#: Valid hours the daily maximum 1h value needs (our choice: as for a 24h mean).
MIN_HOURS_1H_MAX = 20

#: The daily statistic of each pollutant that enters the daily AQI.
DAILY_STATISTIC: Mapping[str, str] = {
    "so2": "so2_24h",
    "no2": "no2_24h",
    "co": "co_24h",
    "o3": "o3_8h",
    "pm10": "pm10_24h",
    "pm25": "pm25_24h",
}


def _hours(hourly: np.ndarray, length: int | None = None) -> np.ndarray:
    h = np.asarray(hourly, dtype=np.float64)
    if h.ndim == 0 or (length is not None and h.shape[-1] != length):
        want = f"(..., {length})" if length else "(..., hours)"
        raise ValueError(f"hourly values must have shape {want}, got {h.shape}")
    return h


def valid_hours(hourly: np.ndarray) -> np.ndarray:
    """Where an hourly value counts: finite and >= 0 (bool, same shape)."""
    h = np.asarray(hourly, dtype=np.float64)
    return (h >= 0) & (h < np.inf)


def _sequential_sum(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Sum over the last axis in time order, invalid values left out."""
    return np.cumsum(np.where(valid, values, 0.0), axis=-1)[..., -1]


def daily_mean(hourly: np.ndarray, *, min_hours: int = MIN_HOURS_24H) -> np.ndarray:
    """24h mean of a day's hourly values; NaN with fewer than ``min_hours`` valid hours.

    Parameters
    ----------
    hourly : array_like, shape (..., 24)
        Hour-ending values of one local day [µg/m³; mg/m³ for CO].
    min_hours : int
        Valid hours needed (20: GB 3095-2012).

    Returns
    -------
    numpy.ndarray, shape (...)
        Mean of the valid hours [same unit], NaN where too few.
    """
    h = _hours(hourly, 24)
    valid = valid_hours(h)
    count = valid.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = _sequential_sum(h, valid) / count
    return np.where(count >= min_hours, mean, np.nan)


def o3_8h_moving(
    hourly: np.ndarray,
    previous: np.ndarray | None = None,
    *,
    min_hours: int = MIN_HOURS_8H,
) -> np.ndarray:
    """8h moving mean of O3 ending at each hour; NaN with fewer than ``min_hours`` valid hours.

    The mean stamped at hour ``t`` (hour-ending) covers the hours ``t-7 .. t``.

    Parameters
    ----------
    hourly : array_like, shape (..., T)
        Hour-ending O3 values [µg/m³].
    previous : array_like, shape (..., k), k >= 7, optional
        The hours just before ``hourly`` (the last 7 are used). Without them the first 7 means
        are NaN: their windows reach back to hours not given.
    min_hours : int
        Valid hours needed in a window (6: GB 3095-2012).

    Returns
    -------
    numpy.ndarray, shape (..., T)
        The 8h moving means [µg/m³].
    """
    h = _hours(hourly)
    t = h.shape[-1]
    if previous is None:
        before = np.full((*h.shape[:-1], 7), np.nan)
    else:
        before = _hours(previous)
        if before.shape[-1] < 7:
            raise ValueError(f"previous must hold at least 7 hours, got {before.shape[-1]}")
        before = np.broadcast_to(before[..., -7:], (*h.shape[:-1], 7))
    series = np.concatenate([before, h], axis=-1)
    valid = valid_hours(series)
    values = np.where(valid, series, 0.0)
    total = values[..., 0:t].copy()
    count = valid[..., 0:t].astype(np.int64)
    for k in range(1, 8):  # a loop over the 8 offsets of a window, vectorised over hours
        total += values[..., k : k + t]
        count += valid[..., k : k + t]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count >= min_hours, total / count, np.nan)
    if previous is None:
        mean[..., :7] = np.nan
    return mean


def o3_daily_max_8h(
    hourly: np.ndarray,
    previous_day: np.ndarray | None = None,
    *,
    first_window_end: int = FIRST_WINDOW_END,
    min_means: int = MIN_8H_MEANS,
    min_hours: int = MIN_HOURS_8H,
    keep_if_above: float | None = None,
) -> np.ndarray:
    """Daily maximum 8h moving mean of O3 (HJ 663-2013); NaN with too few valid 8h means.

    The maximum is taken over the 8h means of the windows ending 08:00 .. 24:00 of the day
    (17 windows; the first covers 00:00-08:00), so under HJ 663-2013 the day's own 24 hours
    suffice and ``previous_day`` does not change the result. It matters only with an earlier
    ``first_window_end`` (a local convention counting windows that reach into the day before).

    Parameters
    ----------
    hourly : array_like, shape (..., 24)
        Hour-ending O3 values of one local day [µg/m³].
    previous_day : array_like, shape (..., k), k >= 7, optional
        The hours before the day (e.g. the previous day's 24).
    first_window_end : int
        Hour ending (1..24) of the first window counted (8: HJ 663-2013).
    min_means : int
        Valid 8h means needed (14: HJ 663-2013).
    min_hours : int
        Valid hours an 8h mean needs (6: GB 3095-2012).
    keep_if_above : float, optional
        Keep a maximum above this value [µg/m³] even with fewer valid means (HJ 663-2013 keeps
        a day exceeding the limit); None (default) applies ``min_means`` strictly.

    Returns
    -------
    numpy.ndarray, shape (...)
        Daily maximum 8h mean [µg/m³].
    """
    if not 1 <= first_window_end <= 24:
        raise ValueError(f"first_window_end must be 1..24, got {first_window_end}")
    means = o3_8h_moving(_hours(hourly, 24), previous_day, min_hours=min_hours)
    windows = means[..., first_window_end - 1 :]
    count = np.sum(~np.isnan(windows), axis=-1)
    peak = np.fmax.reduce(windows, axis=-1)
    keep = count >= min_means
    if keep_if_above is not None:
        keep |= peak > keep_if_above
    return np.where(keep, peak, np.nan)


def daily_max(hourly: np.ndarray, *, min_hours: int = MIN_HOURS_1H_MAX) -> np.ndarray:
    """Daily maximum 1h value (the 1h O3 maximum); NaN with fewer than ``min_hours`` valid hours.

    Parameters
    ----------
    hourly : array_like, shape (..., 24)
        Hour-ending values of one local day [µg/m³].
    min_hours : int
        Valid hours needed (20, our choice: as for a 24h mean).

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    h = _hours(hourly, 24)
    valid = valid_hours(h)
    peak = np.max(np.where(valid, h, -np.inf), axis=-1)
    return np.where(valid.sum(axis=-1) >= min_hours, peak, np.nan)


def daily_columns(
    hourly: Mapping[str, np.ndarray],
    previous_day: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """A day's statistics, named as :func:`emission_list.aqi.evaluate_columns` names columns.

    Parameters
    ----------
    hourly : Mapping[str, array_like]
        Hour-ending values by pollutant (``so2``, ``no2``, ``co``, ``o3``, ``pm10``, ``pm25``;
        any subset), each of shape (..., 24) [µg/m³; mg/m³ for CO].
    previous_day : Mapping[str, array_like], optional
        The day before, by pollutant (only O3 is used, see :func:`o3_daily_max_8h`).

    Returns
    -------
    dict[str, numpy.ndarray]
        ``<pollutant>_24h`` means, and for O3 ``o3_8h`` (daily maximum 8h mean) and ``o3_1h``
        (daily maximum 1h value): pass them to :func:`emission_list.aqi.daily_aqi`.
    """
    unknown = sorted(set(hourly) - set(POLLUTANTS))
    if unknown:
        raise ValueError(f"unknown pollutants {unknown}; known: {', '.join(POLLUTANTS)}")
    out: dict[str, np.ndarray] = {}
    for pollutant, values in hourly.items():
        if pollutant == "o3":
            before = (previous_day or {}).get("o3")
            out["o3_8h"] = o3_daily_max_8h(values, before)
            out["o3_1h"] = daily_max(values)
        else:
            out[f"{pollutant}_24h"] = daily_mean(values)
    return out


def missing_pollutants(daily: Mapping[str, np.ndarray]) -> np.ndarray:
    """Which pollutants have no valid daily statistic, as a ``(..., 6)`` mask.

    Parameters
    ----------
    daily : Mapping[str, array_like]
        Daily statistics as :func:`daily_columns` returns them; a pollutant absent from the
        mapping counts as missing.

    Returns
    -------
    numpy.ndarray, shape (..., 6)
        bool in the order of :data:`emission_list.aqi.POLLUTANTS`;
        :func:`emission_list.aqi.pollutant_names` turns a row into ``"o3;pm25"``.
    """
    shapes = {np.shape(v) for v in daily.values()}
    if len(shapes) > 1:
        raise ValueError(f"daily statistics differ in shape: {sorted(shapes)}")
    shape = shapes.pop() if shapes else ()
    columns = [
        np.isnan(np.asarray(daily[c], dtype=np.float64)) if c in daily else np.ones(shape, bool)
        for c in (DAILY_STATISTIC[p] for p in POLLUTANTS)
    ]
    return np.stack(columns, axis=-1)
