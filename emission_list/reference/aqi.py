"""Plain scalar reference for IAQI, AQI and the daily averages, one value at a time.

Written straight from HJ 633, GB 3095 and HJ 663 with Python numbers and
:class:`fractions.Fraction`, independently of :mod:`emission_list.aqi`,
:mod:`emission_list.breakpoints` and :mod:`emission_list.averages` (it reads the edition tables
from the same package data, but parses them itself): the vectorised kernels are tested against
it, and the benchmark times it.

Rules, as the vectorised code states them:

- rounding: SO2, NO2, O3, PM to integers [µg/m³] with ``round`` (half to even); CO to 0.1 mg/m³
  as ``round(10 * c)`` in steps of 0.1 mg/m³;
- NaN or a negative value is missing;
- the segment is the first with ``BP_lo <= C <= BP_hi`` (an edge value takes the lower segment,
  whose upper IAQI is that edge's: the same value as taking the upper one);
- IAQI = ceil of the exact rational ``I_lo + (I_hi - I_lo) (C - BP_lo) / (BP_hi - BP_lo)``.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from functools import cache
from importlib import resources

POLLUTANTS = ("so2", "no2", "co", "o3", "pm10", "pm25")
NAN = float("nan")


@cache
def _edition(edition: str) -> dict:
    name = {"2012": "hj633_2012.json", "2026": "hj633_2026.json"}[edition]
    raw = json.loads(resources.files("emission_list.data").joinpath(name).read_text("utf-8"))
    tables = dict(raw["tables"])
    for alias, target in raw["scored_as"].items():
        tables[alias] = tables[target]
    return {"tables": tables, "steps": raw["steps_per_unit"]}


@cache
def _table(edition: str, pollutant: str, period: str) -> tuple[list[int], list[int], bool]:
    spec = _edition(edition)["tables"][f"{pollutant}_{period}"]
    scale = _edition(edition)["steps"][pollutant]
    edges = [round(Fraction(str(e)) * scale) for e in spec["concentration"]]
    return edges, list(spec["iaqi"]), spec["above_top"] == "no_own_iaqi"


def round_steps(c: float, pollutant: str) -> float:
    """A concentration in whole reporting steps (1 µg/m³, or 0.1 mg/m³ for CO); inf stays."""
    scaled = c * 10 if pollutant == "co" else c
    return scaled if math.isinf(scaled) else round(scaled)


def iaqi(c: float, pollutant: str, period: str, edition: str) -> tuple[float, bool, bool]:
    """(IAQI or NaN, beyond range, no IAQI of its own) of one concentration."""
    if math.isnan(c) or c < 0:
        return NAN, False, False
    edges, levels, no_own_above_top = _table(edition, pollutant, period)
    steps = round_steps(float(c), pollutant)
    if steps > edges[-1]:
        if no_own_above_top:
            return NAN, False, True
        return 500.0, True, False
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1]
        if lo <= steps <= hi:
            exact = levels[k] + Fraction(levels[k + 1] - levels[k]) * (steps - lo) / (hi - lo)
            return float(math.ceil(exact)), False, False
    raise AssertionError("unreachable: the edges start at 0 and steps >= 0")


def category(aqi: float) -> int:
    """Category 1..6 of an integer AQI (0 when there is none)."""
    if math.isnan(aqi):
        return 0
    for number, top in enumerate((50, 100, 150, 200, 300), start=1):
        if aqi <= top:
            return number
    return 6


def aqi_row(
    values: dict[str, float], edition: str, report_only: tuple[str, ...] = ()
) -> dict[str, object]:
    """The whole AQI of one row of named concentrations (``so2_1h``, ``pm25_24h``, ...).

    Returns a dict with ``iaqi_by_column``, ``iaqi`` (by pollutant, NaN if none), ``aqi``,
    ``category``, and the sets ``primary``, ``exceeding``, ``beyond_range``, ``flagged``,
    ``missing`` of pollutant names.
    """
    by_column = {}
    beyond, no_own = set(), set()
    for name, c in values.items():
        pollutant, period = name.split("_")
        value, above, none = iaqi(c, pollutant, period, edition)
        by_column[name] = value
        if name in report_only:
            continue
        if above:
            beyond.add(pollutant)
        if none:
            no_own.add(pollutant)
    by_pollutant, flagged = {}, set()
    for pollutant in POLLUTANTS:
        own = [
            v
            for name, v in by_column.items()
            if name.split("_")[0] == pollutant and name not in report_only and not math.isnan(v)
        ]
        if own:
            by_pollutant[pollutant] = max(own)
        elif pollutant in no_own:  # SO2 1h > 800 with no 24h mean; O3 8h > 800 with no 1h
            by_pollutant[pollutant] = {"so2": 200.0, "o3": 300.0}[pollutant]
            flagged.add(pollutant)
        else:
            by_pollutant[pollutant] = NAN
    present = [v for v in by_pollutant.values() if not math.isnan(v)]
    aqi = max(present) if present else NAN
    return {
        "iaqi_by_column": by_column,
        "iaqi": by_pollutant,
        "aqi": aqi,
        "category": category(aqi),
        "primary": {p for p, v in by_pollutant.items() if v == aqi and aqi > 50},
        "exceeding": {p for p, v in by_pollutant.items() if v > 100},
        "beyond_range": beyond,
        "flagged": flagged,
        "missing": {p for p, v in by_pollutant.items() if math.isnan(v)},
    }


def _valid(v: float) -> bool:
    return not math.isnan(v) and 0 <= v < math.inf


def daily_mean(hours: list[float], min_hours: int = 20) -> float:
    """Mean of the valid hours of a day (NaN with fewer than ``min_hours``)."""
    good = [v for v in hours if _valid(v)]
    if len(good) < min_hours:
        return NAN
    total = 0.0
    for v in good:
        total += v
    return total / len(good)


def o3_8h_moving(
    hours: list[float], previous: list[float] | None = None, min_hours: int = 6
) -> list[float]:
    """8h moving means ending at each hour (hours t-7..t); NaN with fewer than ``min_hours``."""
    before = list(previous[-7:]) if previous is not None else [NAN] * 7
    series = before + list(hours)
    out = []
    for t in range(len(hours)):
        if previous is None and t < 7:
            out.append(NAN)
            continue
        good = [v for v in series[t : t + 8] if _valid(v)]
        total = 0.0
        for v in good:
            total += v
        out.append(total / len(good) if len(good) >= min_hours else NAN)
    return out


def o3_daily_max_8h(
    hours: list[float],
    previous: list[float] | None = None,
    first_window_end: int = 8,
    min_means: int = 14,
    keep_if_above: float | None = None,
) -> float:
    """Largest valid 8h mean ending 08:00..24:00; NaN with fewer than ``min_means`` of them."""
    means = o3_8h_moving(hours, previous)[first_window_end - 1 :]
    good = [m for m in means if not math.isnan(m)]
    if not good:
        return NAN
    if len(good) >= min_means or (keep_if_above is not None and max(good) > keep_if_above):
        return max(good)
    return NAN


def daily_max(hours: list[float], min_hours: int = 20) -> float:
    """Largest valid hour of a day; NaN with fewer than ``min_hours`` valid hours."""
    good = [v for v in hours if _valid(v)]
    return max(good) if len(good) >= min_hours else NAN
