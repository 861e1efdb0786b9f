"""IAQI and AQI (HJ 633): vectorised kernels over columns of concentrations.

Pollutants are named ``so2, no2, co, o3, pm10, pm25`` (:data:`POLLUTANTS`, the order of every
``(..., 6)`` array) and averaging periods ``1h, 8h, 24h``; an input column is
``<pollutant>_<period>`` (:data:`COLUMNS`). Concentrations are in µg/m³, CO in mg/m³.

Rules implemented (HJ 633-2012 §4; HJ 633—2026 from 2026-03-01):

- Concentrations are rounded to their reporting step before use (:func:`round_concentration`):
  SO2, NO2, O3, PM10, PM2.5 to integers in µg/m³, CO to one decimal in mg/m³, round half to
  even (GB/T 8170). A NaN or negative value is missing; +inf lies beyond range.
- IAQI is interpolated on the breakpoint table and rounded **up** to an integer, exactly (see
  :mod:`emission_list.breakpoints`). Above a table's top the IAQI is 500 and flagged
  ``beyond_range``, never extrapolated; SO2 1h above 800 and O3 8h above 800 give no IAQI of
  their own (``no_own_iaqi``).
- A pollutant's IAQI is the largest of its columns' IAQIs. When SO2 1h has no IAQI of its own,
  the SO2 24h column stands in, else SO2 is reported 200 and ``flagged``; when O3 8h has none,
  O3 1h stands in, else O3 is reported 300 and ``flagged`` (HJ 633-2012 Table 1, notes 2, 3).
- AQI is the largest pollutant IAQI; above 50 the pollutants reaching it are primary (ties: all);
  pollutants above 100 are exceeding (HJ 633-2012 §4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from emission_list.aqi_categories import CATEGORIES, Category, category_of
from emission_list.aqi_kernel import (
    BLOCK_ROWS,
    STAND_INS,
    Outputs,
    Scratch,
    aqi_block,
    iaqi_block,
    pollutant_block,
)
from emission_list.breakpoints import BreakpointTable, get_table

__all__ = [
    "CATEGORIES",
    "COLUMNS",
    "PERIODS",
    "POLLUTANTS",
    "STAND_INS",
    "AqiTable",
    "Category",
    "IaqiResult",
    "category_of",
    "daily_aqi",
    "evaluate_columns",
    "hourly_aqi",
    "iaqi",
    "pollutant_names",
    "round_concentration",
]

#: Pollutants, in the order of every ``(..., 6)`` array.
POLLUTANTS: tuple[str, ...] = ("so2", "no2", "co", "o3", "pm10", "pm25")
#: Averaging periods.
PERIODS: tuple[str, ...] = ("1h", "8h", "24h")
#: Input columns ``<pollutant>_<period>`` that have an IAQI table.
COLUMNS: tuple[str, ...] = (
    "so2_1h", "so2_24h", "no2_1h", "no2_24h", "co_1h", "co_24h",
    "o3_1h", "o3_8h", "pm10_1h", "pm10_24h", "pm25_1h", "pm25_24h",
)  # fmt: skip

EditionLike = str | dt.date | BreakpointTable | None


class IaqiResult(NamedTuple):
    """IAQI of one column of concentrations.

    Attributes
    ----------
    value : numpy.ndarray
        IAQI, float64 holding integers; NaN where missing or where no IAQI is defined.
    beyond_range : numpy.ndarray
        bool: above the table's top; ``value`` is 500.
    no_own_iaqi : numpy.ndarray
        bool: SO2 1h or O3 8h above 800 µg/m³; ``value`` is NaN.
    """

    value: np.ndarray
    beyond_range: np.ndarray
    no_own_iaqi: np.ndarray


def round_concentration(c: np.ndarray | float, pollutant: str) -> np.ndarray:
    """Round concentrations to their reporting step (GB/T 8170, round half to even).

    SO2, NO2, O3, PM10 and PM2.5 to integers [µg/m³]; CO to one decimal [mg/m³], computed as
    ``rint(10 c) / 10`` (this equals decimal half-to-even for any value written with up to two
    decimals). NaN stays NaN; negative values are returned rounded, not rejected.

    Parameters
    ----------
    c : array_like
        Concentrations [µg/m³; mg/m³ for CO].
    pollutant : str
        One of :data:`POLLUTANTS`.

    References
    ----------
    HJ 633-2012 §4 (concentrations as reported under GB 3095-2012); GB/T 8170-2008 (rounding
    off: round half to even).
    """
    steps = get_table("2012").steps_per_unit[_check_pollutant(pollutant)]  # same in every edition
    c = np.asarray(c, dtype=np.float64)
    return np.rint(c) if steps == 1 else np.rint(c * steps) / steps


def _check_pollutant(pollutant: str) -> str:
    if pollutant not in POLLUTANTS:
        raise ValueError(f"unknown pollutant {pollutant!r}; known: {', '.join(POLLUTANTS)}")
    return pollutant


def iaqi(
    concentration: np.ndarray | float,
    pollutant: str,
    period: str,
    edition: EditionLike = None,
) -> IaqiResult:
    """Individual air quality index of concentrations of one pollutant and averaging period.

    Parameters
    ----------
    concentration : array_like
        Concentrations [µg/m³; mg/m³ for CO], any shape; NaN or negative = missing.
    pollutant : str
        One of :data:`POLLUTANTS`.
    period : str
        ``"1h"``, ``"8h"`` (O3 only) or ``"24h"``; PM10 and PM2.5 1h are scored against the
        24h table.
    edition : str, datetime.date or None
        HJ 633 edition (``"2012"``, ``"2026"``, or the day of the data); None: in force today.

    Returns
    -------
    IaqiResult
        ``value`` (float64, integers, NaN when missing or undefined), ``beyond_range``,
        ``no_own_iaqi``.

    References
    ----------
    HJ 633-2012 §4, Table 1 and its notes 2 and 3, formula (1).
    """
    bp = get_table(edition).breakpoints(_check_pollutant(pollutant), period)
    x = np.asarray(concentration, dtype=np.float64)
    flat = x.reshape(-1)
    value, above = np.empty(flat.shape), np.empty(flat.shape, dtype=bool)
    w = Scratch(min(len(flat), BLOCK_ROWS))
    for start in range(0, len(flat), BLOCK_ROWS):
        block = slice(start, start + BLOCK_ROWS)
        iaqi_block(flat[block], bp, value[block], above[block], w)
    value, above = value.reshape(x.shape), above.reshape(x.shape)
    if bp.no_own_iaqi_above_top:
        return IaqiResult(value, np.zeros_like(above), above)
    return IaqiResult(value, above, np.zeros_like(above))


@dataclass(frozen=True, eq=False)
class AqiTable:
    """AQI of rows given as columns; ``(..., 6)`` arrays follow :data:`POLLUTANTS`.

    Attributes
    ----------
    iaqi_by_column : dict[str, numpy.ndarray]
        IAQI of every input column (float64, NaN where none is defined).
    iaqi_by_pollutant : numpy.ndarray
        ``(..., 6)`` float64: each pollutant's IAQI after the SO2 and O3 stand-in rules.
    aqi : numpy.ndarray
        float64 holding integers; NaN when no pollutant has an IAQI.
    category : numpy.ndarray
        int8, 1..6; 0 where ``aqi`` is NaN.
    primary : numpy.ndarray
        ``(..., 6)`` bool: IAQI equals AQI and AQI > 50 (ties: all).
    exceeding : numpy.ndarray
        ``(..., 6)`` bool: IAQI > 100.
    beyond_range : numpy.ndarray
        ``(..., 6)`` bool: a column of the pollutant lies above its table (IAQI 500).
    flagged : numpy.ndarray
        ``(..., 6)`` bool: SO2 reported 200, or O3 reported 300, for want of a stand-in.
    missing : numpy.ndarray
        ``(..., 6)`` bool: the pollutant has no IAQI.
    edition : str
        The HJ 633 edition used.
    """

    iaqi_by_column: dict[str, np.ndarray]
    iaqi_by_pollutant: np.ndarray
    aqi: np.ndarray
    category: np.ndarray
    primary: np.ndarray
    exceeding: np.ndarray
    beyond_range: np.ndarray
    flagged: np.ndarray
    missing: np.ndarray
    edition: str


def evaluate_columns(
    columns: Mapping[str, np.ndarray],
    edition: EditionLike = None,
    *,
    report_only: tuple[str, ...] = (),
) -> AqiTable:
    """AQI of rows given as named columns of concentrations.

    Parameters
    ----------
    columns : Mapping[str, array_like]
        Any subset of :data:`COLUMNS`, each [µg/m³; mg/m³ for CO] of one common shape;
        NaN or negative = missing. PM 1h columns are scored against the 24h table.
    edition : str, datetime.date or None
        HJ 633 edition; None: in force today.
    report_only : tuple of str
        Columns whose IAQI is computed and returned but does not enter the AQI (the real-time
        report's 8h O3).

    Returns
    -------
    AqiTable

    Raises
    ------
    ValueError
        For an unknown column name or columns of different shapes (data errors never raise).

    References
    ----------
    HJ 633-2012 §4 (IAQI, AQI, primary and exceeding pollutants), Table 1 notes 2 and 3.
    """
    table = get_table(edition)
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown columns {unknown}; known: {', '.join(COLUMNS)}")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) > 1:
        raise ValueError(f"columns differ in shape: {sorted(shapes)}")
    shape = shapes.pop() if shapes else (0,)
    n = int(np.prod(shape))

    flat = {name: x.reshape(-1) for name, x in arrays.items()}
    tables = {name: table.breakpoints(*name.split("_")) for name in flat}
    entering = [
        [c for c in flat if c.startswith(p + "_") and c not in report_only] for p in POLLUTANTS
    ]
    # (6, n) outputs: a pollutant's row is contiguous; returned transposed, as (n, 6) views.
    out = Outputs(n, flat)
    w = Scratch(min(n, BLOCK_ROWS))
    above = {name: np.empty(min(n, BLOCK_ROWS), dtype=bool) for name in flat}
    for start in range(0, n, BLOCK_ROWS):
        rows = slice(start, min(start + BLOCK_ROWS, n))
        m = rows.stop - rows.start
        for name, x in flat.items():
            iaqi_block(x[rows], tables[name], out.by_column[name][rows], above[name][:m], w)
        for j, names in enumerate(entering):
            pollutant_block(j, names, rows, out, {k: above[k][:m] for k in names})
        aqi_block(rows, out, w)

    def as_rows(a: np.ndarray) -> np.ndarray:
        return a.T.reshape(*shape, 6)

    return AqiTable(
        iaqi_by_column={k: v.reshape(shape) for k, v in out.by_column.items()},
        iaqi_by_pollutant=as_rows(out.by_pollutant),
        aqi=out.aqi.reshape(shape),
        category=out.category.reshape(shape),
        primary=as_rows(out.primary),
        exceeding=as_rows(out.exceeding),
        beyond_range=as_rows(out.beyond),
        flagged=as_rows(out.flagged),
        missing=as_rows(out.missing),
        edition=table.edition,
    )


def hourly_aqi(
    so2: np.ndarray | None = None,
    no2: np.ndarray | None = None,
    co: np.ndarray | None = None,
    o3: np.ndarray | None = None,
    pm10: np.ndarray | None = None,
    pm25: np.ndarray | None = None,
    *,
    o3_8h: np.ndarray | None = None,
    edition: EditionLike = None,
) -> AqiTable:
    """Real-time (hourly) AQI from 1h concentrations, as the national real-time release does.

    SO2, NO2, CO and O3 1h values are scored against their 1h tables, PM10 and PM2.5 1h values
    against the 24h tables (no 1h PM table exists). SO2 1h above 800 µg/m³ has no 24h mean to
    stand in: SO2 is reported 200, flagged. The 8h moving O3 mean, when given, is scored and
    reported beside (``iaqi_by_column["o3_8h"]``) but does not enter the AQI.

    Parameters
    ----------
    so2, no2, o3, pm10, pm25 : array_like, optional
        1h concentrations [µg/m³]; NaN or negative = missing; None = not measured.
    co : array_like, optional
        1h concentrations [mg/m³].
    o3_8h : array_like, optional
        8h moving O3 mean ending at the hour [µg/m³], reported only.
    edition : str, datetime.date or None
        HJ 633 edition; None: in force today.

    References
    ----------
    HJ 633-2012 §5 (real-time report) and Table 1 note 2.
    """
    given = {"so2": so2, "no2": no2, "co": co, "o3": o3, "pm10": pm10, "pm25": pm25}
    columns = {f"{p}_1h": v for p, v in given.items() if v is not None}
    if o3_8h is not None:
        columns["o3_8h"] = o3_8h
    return evaluate_columns(columns, edition, report_only=("o3_8h",))


def daily_aqi(
    so2: np.ndarray | None = None,
    no2: np.ndarray | None = None,
    co: np.ndarray | None = None,
    pm10: np.ndarray | None = None,
    pm25: np.ndarray | None = None,
    o3_8h: np.ndarray | None = None,
    *,
    o3_1h_max: np.ndarray | None = None,
    edition: EditionLike = None,
) -> AqiTable:
    """Daily AQI from 24h means and the daily maximum 8h moving O3 mean.

    The daily maximum 1h O3 enters only where the 8h rule says so (maximum 8h mean above
    800 µg/m³); where it is then missing too, O3 is reported 300, flagged.

    Parameters
    ----------
    so2, no2, pm10, pm25 : array_like, optional
        24h means [µg/m³] (see :func:`emission_list.averages.daily_mean`); NaN = missing.
    co : array_like, optional
        24h mean [mg/m³].
    o3_8h : array_like, optional
        Daily maximum 8h moving mean of O3 [µg/m³]
        (:func:`~emission_list.averages.o3_daily_max_8h`).
    o3_1h_max : array_like, optional
        Daily maximum 1h O3 [µg/m³] (:func:`~emission_list.averages.daily_max`).
    edition : str, datetime.date or None
        HJ 633 edition; None: in force today (give the day of the data for past days).

    References
    ----------
    HJ 633-2012 §5 (daily report) and Table 1 note 3.
    """
    given = {"so2": so2, "no2": no2, "co": co, "pm10": pm10, "pm25": pm25}
    columns = {f"{p}_24h": v for p, v in given.items() if v is not None}
    if o3_8h is not None:
        columns["o3_8h"] = o3_8h
        if o3_1h_max is not None:
            table = get_table(edition)
            top = table.breakpoints("o3", "8h").concentration[-1]
            use = round_concentration(o3_8h, "o3") > top
            columns["o3_1h"] = np.where(use, np.asarray(o3_1h_max, dtype=np.float64), np.nan)
    elif o3_1h_max is not None:
        raise ValueError("o3_1h_max enters the daily AQI only through o3_8h above its table")
    return evaluate_columns(columns, edition)


_NAMES = np.array(
    [";".join(p for j, p in enumerate(POLLUTANTS) if code >> j & 1) for code in range(64)],
    dtype=object,
)


def pollutant_names(mask: np.ndarray) -> np.ndarray:
    """The pollutants set in each row of a ``(..., 6)`` mask, joined by ``;`` (e.g. "pm10;pm25").

    Returns
    -------
    numpy.ndarray
        object array of str, shape ``mask.shape[:-1]``; "" where none is set.
    """
    bits = np.asarray(mask, dtype=bool) @ (1 << np.arange(6))
    return np.asarray(_NAMES.take(bits), dtype=object)
