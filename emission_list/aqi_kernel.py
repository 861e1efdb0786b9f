"""Block kernels behind :mod:`emission_list.aqi` (private to it).

Rows are evaluated in blocks of :data:`BLOCK_ROWS`; the work arrays of a block (:class:`Scratch`)
stay in the CPU cache and are reused by every column and block, so memory sees each input read
once and each output written once. Every function here is vectorised over the rows of a block.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emission_list.aqi_categories import CATEGORY_BY_AQI
from emission_list.breakpoints import Breakpoints

#: The column whose IAQI stands in when a column has none of its own, and the value reported
#: when the stand-in is missing too (HJ 633-2012 Table 1, notes 2 and 3).
STAND_INS: Mapping[str, tuple[str, float]] = {
    "so2_1h": ("so2_24h", 200.0),
    "o3_8h": ("o3_1h", 300.0),
}

#: Rows evaluated at a time: the work arrays of a block stay in the CPU cache, so each pass over
#: them costs no memory traffic; only inputs and outputs cross memory, once.
BLOCK_ROWS = 32_768


class Scratch:
    """Work arrays of one block, reused by every column and block of an evaluation."""

    def __init__(self, n: int) -> None:
        self.steps = np.empty(n, dtype=np.float64)
        self.index = np.empty(n, dtype=np.intp)
        self.mask = np.empty(n, dtype=bool)


#: Adding 2**52 to a float in [0, 2**51) rounds it to an integer, half to even (the IEEE
#: default), and leaves that integer in the low bits: bits - _MAGIC is the integer itself.
_TWO_52 = 2.0**52
_MAGIC = np.int64(0x4330000000000000)  # the bits of 2.0**52


def iaqi_block(
    x: np.ndarray, bp: Breakpoints, value: np.ndarray, above: np.ndarray, w: Scratch
) -> None:
    """IAQI of a 1-D block ``x`` into ``value``, and into ``above`` where it lies above the top.

    Gathers from ``bp.gather``: index 0 is missing (NaN), ``1 + s`` the IAQI of ``s`` reporting
    steps, the last entry the value above the top. The index is ``1 + rint(steps_per_unit * x)``
    computed as ``x + 2**52`` read as an integer; an index past the end (a large value, +inf)
    is clipped to the last entry, and NaN or a negative value is set to 0.
    """
    m = len(x)
    t, index, valid = w.steps[:m], w.index[:m], w.mask[:m]
    if bp.steps_per_unit == 1:
        np.add(x, _TWO_52, out=t)
    else:
        with np.errstate(over="ignore"):  # a huge value becomes inf: above the top
            np.multiply(x, bp.steps_per_unit, out=t)
        np.add(t, _TWO_52, out=t)
    np.subtract(t.view(np.int64), _MAGIC - 1, out=index)
    np.greater_equal(x, 0, out=valid)  # False for NaN and negatives (-0.3 would round to 0)
    np.multiply(index, valid, out=index)
    np.take(bp.gather, index, out=value, mode="clip")  # "clip" also writes out unbuffered
    np.greater_equal(index, len(bp.gather) - 1, out=above)


class Outputs:
    """Output arrays of one evaluation; ``(6, n)`` ones hold a pollutant per contiguous row."""

    def __init__(self, n: int, columns: Mapping[str, np.ndarray]) -> None:
        self.by_column = {name: np.empty(n) for name in columns}
        self.by_pollutant = np.empty((6, n))
        self.aqi = np.empty(n)
        self.category = np.empty(n, dtype=np.int8)
        self.primary, self.exceeding, self.beyond, self.flagged, self.missing = (
            np.empty((6, n), dtype=bool) for _ in range(5)
        )


def pollutant_block(
    j: int, names: list[str], rows: slice, out: Outputs, above: Mapping[str, np.ndarray]
) -> None:
    """Pollutant ``j``'s IAQI: the largest of its columns', with the SO2 and O3 stand-in rules."""
    value, beyond, flagged = out.by_pollutant[j, rows], out.beyond[j, rows], out.flagged[j, rows]
    if not names:
        value.fill(np.nan)
    else:
        np.copyto(value, out.by_column[names[0]][rows])
        for name in names[1:]:
            np.fmax(value, out.by_column[name][rows], out=value)
    plain = [above[name] for name in names if name not in STAND_INS]
    if plain:
        np.copyto(beyond, plain[0])
        for more in plain[1:]:
            np.logical_or(beyond, more, out=beyond)
    else:
        beyond.fill(False)
    special = [name for name in names if name in STAND_INS]
    if special:  # at most one per pollutant: no IAQI of its own, and no stand-in value either
        np.isnan(value, out=flagged)
        np.logical_and(flagged, above[special[0]], out=flagged)
        np.copyto(value, STAND_INS[special[0]][1], where=flagged)
    else:
        flagged.fill(False)


def aqi_block(rows: slice, out: Outputs, w: Scratch) -> None:
    """AQI, category, primary, exceeding and missing pollutants of a block of rows."""
    m = rows.stop - rows.start
    iaqi, aqi = out.by_pollutant[:, rows], out.aqi[rows]
    np.fmax.reduce(iaqi, axis=0, out=aqi)
    np.isnan(iaqi, out=out.missing[:, rows])
    np.greater(iaqi, 100, out=out.exceeding[:, rows])
    primary, mask = out.primary[:, rows], w.mask[:m]
    np.equal(iaqi, aqi, out=primary)
    np.greater(aqi, 50, out=mask)
    np.logical_and(primary, mask, out=primary)
    t, index = w.steps[:m], w.index[:m]
    np.add(aqi, _TWO_52, out=t)  # AQI is an integer 0..500 here, or NaN
    np.subtract(t.view(np.int64), _MAGIC, out=index)
    np.isnan(aqi, out=mask)
    np.copyto(index, len(CATEGORY_BY_AQI) - 1, where=mask)  # no AQI: category 0
    np.take(CATEGORY_BY_AQI, index, out=out.category[rows], mode="clip")
