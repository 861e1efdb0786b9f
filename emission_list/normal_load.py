"""A production line's normal load: the median of the same hour of day over past weeks.

The normal load of a line for hour of day ``h`` is the median of its hourly mean loads [kW]
at hour ``h`` over the window the caller passes (the last ``compliance_history_weeks`` weeks),
counting only hours that are valid: not under a warning, enough valid minutes, not NaN. The
number of hours behind each median is returned with it; with fewer than ``min_history``
hours the normal load is NaN ("too little history"), never guessed.

The median is computed by sorting: for each hour of day, the valid values of its columns are
sorted along the time axis with the invalid ones as NaN (which ``np.sort`` puts last), and
the middle one (or the mean of the middle two) is picked at each row's own count. Lines are
processed in blocks so the temporaries stay small whatever the number of lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOURS_PER_DAY = 24
_BLOCK_VALUES = 1 << 22  # values per block of lines: 32 MiB of float64 temporaries


@dataclass(frozen=True)
class NormalLoad:
    """Normal load per line and hour of day.

    ``median_kw`` (n_lines, 24) [kW], NaN where fewer than ``min_history`` valid hours;
    ``hours`` (n_lines, 24) the number of valid hours behind each median (also behind a NaN).
    """

    median_kw: np.ndarray
    hours: np.ndarray

    @property
    def too_little_history(self) -> np.ndarray:
        """(n_lines, 24) bool: no normal load for that hour (the check cannot judge it)."""
        return np.isnan(self.median_kw)


def normal_load(
    hourly_kw: np.ndarray,
    valid: np.ndarray,
    hour_of_day: np.ndarray,
    min_history: int,
) -> NormalLoad:
    """Median of each line's valid hourly mean loads per hour of day.

    Parameters
    ----------
    hourly_kw
        (n_lines, n_hours) hourly mean load [kW] over the history window (the caller passes
        the last ``compliance_history_weeks`` weeks); NaN counts as invalid.
    valid
        (n_lines, n_hours) bool: the hour counts (not under a warning, enough valid minutes).
    hour_of_day
        (n_hours,) int, 0..23: the local hour of day of each column (Asia/Shanghai).
    min_history
        Fewer valid hours than this behind a median: NaN, with its count.

    Returns
    -------
    NormalLoad
        ``median_kw`` and ``hours``, both (n_lines, 24).
    """
    hourly_kw = np.asarray(hourly_kw, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    hour_of_day = np.asarray(hour_of_day)
    n_lines, n_hours = hourly_kw.shape
    if valid.shape != hourly_kw.shape or hour_of_day.shape != (n_hours,):
        raise ValueError("hourly_kw and valid (n_lines, n_hours), hour_of_day (n_hours,)")
    median = np.full((n_lines, HOURS_PER_DAY), np.nan)
    hours = np.zeros((n_lines, HOURS_PER_DAY), dtype=np.int32)
    columns = [np.flatnonzero(hour_of_day == h) for h in range(HOURS_PER_DAY)]
    block = max(1, _BLOCK_VALUES // max(n_hours, 1))
    for start in range(0, n_lines, block):
        rows = slice(start, min(start + block, n_lines))
        values = np.where(valid[rows], hourly_kw[rows], np.nan)
        for h, cols in enumerate(columns):
            if cols.size:
                median[rows, h], hours[rows, h] = _median_of_valid(values[:, cols], min_history)
    return NormalLoad(median, hours)


def _median_of_valid(values: np.ndarray, min_history: int) -> tuple[np.ndarray, np.ndarray]:
    """Row medians of ``values`` (NaN = missing) and the count of non-NaN values per row."""
    count = np.count_nonzero(~np.isnan(values), axis=1)
    ordered = np.sort(values, axis=1)  # NaN last
    low = np.maximum(count - 1, 0) // 2  # count 0 picks a NaN, masked below
    high = count // 2
    pick_low = np.take_along_axis(ordered, low[:, None], axis=1)[:, 0]
    pick_high = np.take_along_axis(ordered, high[:, None], axis=1)[:, 0]
    median = 0.5 * (pick_low + pick_high)
    median[count < max(min_history, 1)] = np.nan
    return median, count
