"""Moving 24-hour statistics of hourly series, and their means over the stations of a region.

A *grid* holds hour-ending values of consecutive hours, one row per station: shape
``(stations, hours)``, NaN where a station has no value. A *window* is the 24 hours ending at
an hour ``e`` (``e-23 .. e``), so a grid of ``H`` hours has windows ending at its hours
``23 .. H-1``. For each window the statistics are those of a day in :mod:`averages`, with the
same validity rules and the same IEEE results: the 24-hour means of SO2, NO2, CO, PM10 and
PM2.5, the 8-hour moving O3 mean ending at ``e``, and the maximum 8-hour O3 of the window
(windows ending at its hours 8..24, at least 14 valid). This is the rolling "24 hours up to
now" the real-time release shows; a natural day is the window ending at local midnight.

A region's value is the arithmetic mean of the valid values of its stations (HJ 663-2013:
a city's concentration is the mean over its assessment stations), summed in station order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from emission_list import averages

WINDOW_HOURS = 24
#: Pollutants whose 24-hour mean enters the 24-hour AQI (O3 enters by its maximum 8h mean).
MEAN_24H = ("so2", "no2", "co", "pm10", "pm25")
#: The columns :func:`window_columns` returns.
WINDOW_COLUMNS = (*(f"{p}_24h" for p in MEAN_24H), "o3_8h", "o3_8h_max")


def _grid(values: np.ndarray) -> np.ndarray:
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 2 or grid.shape[1] < WINDOW_HOURS:
        raise ValueError(f"a grid is (stations, hours >= {WINDOW_HOURS}), got {grid.shape}")
    return grid


def _windows(grid: np.ndarray) -> np.ndarray:
    return sliding_window_view(grid, WINDOW_HOURS, axis=1)  # (stations, ends, 24), a view


def window_columns(hourly: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The statistics of every window of the grids.

    Parameters
    ----------
    hourly : Mapping[str, array_like]
        A grid ``(stations, hours)`` for each of ``so2, no2, co, o3, pm10, pm25``.

    Returns
    -------
    dict[str, numpy.ndarray]
        :data:`WINDOW_COLUMNS`, each ``(stations, hours - 23)``; column ``k`` is the window
        ending at grid hour ``k + 23``. NaN where too few values were valid.
    """
    out = {f"{p}_24h": averages.daily_mean(_windows(_grid(hourly[p]))) for p in MEAN_24H}
    o3 = _grid(hourly["o3"])
    out["o3_8h"] = averages.o3_8h_moving(o3)[:, WINDOW_HOURS - 1 :]
    out["o3_8h_max"] = averages.o3_daily_max_8h(_windows(o3))
    return out


def windows_touched(changed: np.ndarray) -> np.ndarray:
    """Which windows hold a changed hour: ``(stations, hours)`` bool -> ``(stations, hours-23)``."""
    return _windows(_grid(changed)).any(axis=-1)


def member_means(values: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean of each region's valid station values, and how many were valid.

    Parameters
    ----------
    values : array_like, shape (stations, ...)
        A value per station (NaN, negative or infinite = none).
    members : array_like of bool, shape (regions, stations)
        Which stations count for each region.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Means ``(regions, ...)`` (NaN where no station had a valid value) and counts.
    """
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(members, dtype=bool)
    valid = averages.valid_hours(v)
    clean = np.where(valid, v, 0.0)
    means = np.full((m.shape[0], *v.shape[1:]), np.nan)
    counts = np.zeros((m.shape[0], *v.shape[1:]), dtype=np.int64)
    for r, row in enumerate(m):
        if not row.any():
            continue
        counts[r] = valid[row].sum(axis=0)
        total = np.cumsum(clean[row], axis=0)[-1]  # station by station, as a plain loop adds
        with np.errstate(invalid="ignore", divide="ignore"):
            means[r] = np.where(counts[r] > 0, total / counts[r], np.nan)
    return means, counts
