"""IAQI breakpoint tables of HJ 633, one per edition, held as package data.

Each edition (``data/hj633_2012.json``, ``data/hj633_2026.json``) holds, for every pollutant and
averaging period, one list of contiguous concentration edges ``BP_0 = 0 < BP_1 < ... < BP_top``
[µg/m³; mg/m³ for CO] and the IAQI at each edge ``I_0 = 0 < I_1 < ...``.

How edges are read
------------------
A concentration ``C`` (already rounded to its reporting step) falls in the segment ``k`` with
``BP_k <= C <= BP_k+1``, found with ``np.searchsorted(edges, C, side="right") - 1`` (the last
segment also takes ``C == BP_top``). A value exactly on an edge therefore starts the segment
above it, where ``C - BP_lo = 0`` gives exactly that edge's IAQI; the segment below would give
the same value, as HJ 633 intends. Then

    IAQI = I_lo + ceil((I_hi - I_lo) * (C - BP_lo) / (BP_hi - BP_lo))

rounded **up** to an integer, as the national release does. The division is done exactly:
concentrations are counted in integer reporting steps (1 µg/m³, or 0.1 mg/m³ for CO, so CO and
its edges are scaled by 10), numerator and denominator are int64, and the ceiling is an integer
ceiling division, so no floating-point error can move a result across an integer.

Because a rounded concentration is an integer number of steps between 0 and ``BP_top``, each
table is also tabulated once, on first use, with that exact formula at every step from 0 to the
top (:attr:`Breakpoints.lut`); the vectorised kernels of :mod:`emission_list.aqi` gather from it
(:attr:`Breakpoints.gather`), so they are exact by construction and do no arithmetic per value.
Above the top a table either reports IAQI 500 flagged *beyond range* (never extrapolated) or,
for SO2 1h and O3 8h, gives *no IAQI of its own* (HJ 633-2012 Table 1, notes 2 and 3).

References
----------
HJ 633-2012, Technical Regulation on Ambient Air Quality Index, §4, Table 1 and formula (1).
HJ 633—2026 (with GB 3095—2026), in force from 2026-03-01: PM2.5 24h IAQI 100 at 60 µg/m³
(was 75), PM10 24h IAQI 100 at 120 µg/m³ (was 150); all else unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from types import MappingProxyType
from zoneinfo import ZoneInfo

import numpy as np

#: Editions shipped, oldest first.
EDITIONS: tuple[str, ...] = ("2012", "2026")

#: Local time of the deployment; "today" and a day's edition are read in it.
LOCAL_TIME = ZoneInfo("Asia/Shanghai")

_FILES = {"2012": "hj633_2012.json", "2026": "hj633_2026.json"}


@dataclass(frozen=True, eq=False)
class Breakpoints:
    """One table: the edges of one pollutant and averaging period in one edition.

    Attributes
    ----------
    key : str
        ``<pollutant>_<period>`` of the table itself, e.g. ``"pm25_24h"``.
    unit : str
        Unit of the concentrations, ``"µg/m³"`` or ``"mg/m³"`` (CO).
    concentration : numpy.ndarray
        Edges BP_0..BP_top [unit], float64, read-only.
    iaqi : numpy.ndarray
        IAQI at each edge, float64, read-only.
    steps_per_unit : int
        Reporting steps per unit: 1 (integers in µg/m³) or 10 (CO, 0.1 mg/m³).
    no_own_iaqi_above_top : bool
        True for SO2 1h and O3 8h: above the top the value gives no IAQI of its own.
    """

    key: str
    unit: str
    concentration: np.ndarray
    iaqi: np.ndarray
    steps_per_unit: int
    no_own_iaqi_above_top: bool

    @cached_property
    def edges_steps(self) -> np.ndarray:
        """Edges counted in reporting steps, int64."""
        return np.rint(self.concentration * self.steps_per_unit).astype(np.int64)

    @cached_property
    def top_steps(self) -> int:
        """The top edge in reporting steps."""
        return int(self.edges_steps[-1])

    @property
    def top_iaqi(self) -> float:
        """The IAQI at the top edge (500; 200 for SO2 1h; 300 for O3 8h)."""
        return float(self.iaqi[-1])

    @property
    def above_top_value(self) -> float:
        """IAQI reported above the top: 500 (beyond range), or NaN (no IAQI of its own)."""
        return float("nan") if self.no_own_iaqi_above_top else 500.0

    def interpolate_steps(self, steps: np.ndarray) -> np.ndarray:
        """IAQI of concentrations given in whole reporting steps, 0 <= steps <= top, exactly.

        Parameters
        ----------
        steps : numpy.ndarray
            Rounded concentrations as integers of reporting steps [1 µg/m³ or 0.1 mg/m³].

        Returns
        -------
        numpy.ndarray
            IAQI, float64 holding integers: ``I_lo + ceil((I_hi-I_lo)(C-BP_lo)/(BP_hi-BP_lo))``.
        """
        c = np.asarray(steps, dtype=np.int64)
        edges = self.edges_steps
        index = self.iaqi.astype(np.int64)
        k = np.clip(np.searchsorted(edges, c, side="right") - 1, 0, len(edges) - 2)
        num = (index[k + 1] - index[k]) * (c - edges[k])
        den = edges[k + 1] - edges[k]
        return (index[k] - (-num // den)).astype(np.float64)  # -(-a // b) is ceil(a / b)

    @cached_property
    def lut(self) -> np.ndarray:
        """IAQI by reporting step: ``lut[s]`` for s = 0..top, ``lut[top + 1]`` above the top
        (500 or NaN), ``lut[-1]`` = NaN for missing; float64, read-only, built once."""
        top = self.top_steps
        lut = np.empty(top + 3, dtype=np.float64)
        lut[: top + 1] = self.interpolate_steps(np.arange(top + 1))
        lut[top + 1] = self.above_top_value
        lut[top + 2] = np.nan
        lut.flags.writeable = False
        return lut

    @cached_property
    def gather(self) -> np.ndarray:
        """The lookup table the kernels gather from: ``[NaN (missing), lut[0..top], above]``."""
        top = self.top_steps
        table = np.concatenate([[np.nan], self.lut[: top + 2]])
        table.flags.writeable = False
        return table


@dataclass(frozen=True, eq=False)
class BreakpointTable:
    """All tables of one HJ 633 edition.

    Attributes
    ----------
    edition : str
        ``"2012"`` or ``"2026"``.
    name : str
        ``"HJ 633-2012"`` or ``"HJ 633—2026"``.
    in_force_from : datetime.date
        First day (local time) whose data the edition scores.
    steps_per_unit : Mapping[str, int]
        Reporting steps per unit by pollutant (CO 10, others 1).
    tables : Mapping[str, Breakpoints]
        By column name ``<pollutant>_<period>``; ``pm10_1h`` and ``pm25_1h`` map to the 24h
        tables (no 1h PM table exists; the national real-time release scores 1h PM so).
    """

    edition: str
    name: str
    in_force_from: dt.date
    steps_per_unit: Mapping[str, int]
    tables: Mapping[str, Breakpoints]

    def breakpoints(self, pollutant: str, period: str) -> Breakpoints:
        """The table scoring ``pollutant`` averaged over ``period`` (``1h``, ``8h``, ``24h``).

        Raises
        ------
        KeyError
            When the edition has no such table (e.g. ``o3_24h``, ``pm25_8h``).
        """
        key = f"{pollutant}_{period}"
        try:
            return self.tables[key]
        except KeyError:
            raise KeyError(f"{self.name} has no IAQI table for {key!r}") from None


def _parse(raw: Mapping) -> BreakpointTable:
    tables: dict[str, Breakpoints] = {}
    for key, spec in raw["tables"].items():
        conc = np.array(spec["concentration"], dtype=np.float64)
        iaqi = np.array(spec["iaqi"], dtype=np.float64)
        if len(conc) != len(iaqi) or len(conc) < 2 or conc[0] != 0 or iaqi[0] != 0:
            raise ValueError(f"{raw['name']} {key}: edges and IAQI must pair up from 0")
        if np.any(np.diff(conc) <= 0) or np.any(np.diff(iaqi) <= 0):
            raise ValueError(f"{raw['name']} {key}: edges must increase")
        steps = int(raw["steps_per_unit"][key.split("_")[0]])
        if np.any(np.rint(conc * steps) != conc * steps):
            raise ValueError(f"{raw['name']} {key}: edges must be whole reporting steps")
        conc.flags.writeable = False
        iaqi.flags.writeable = False
        above = spec["above_top"]
        if above not in ("beyond_range", "no_own_iaqi"):
            raise ValueError(f"{raw['name']} {key}: unknown above_top {above!r}")
        tables[key] = Breakpoints(key, spec["unit"], conc, iaqi, steps, above == "no_own_iaqi")
    for alias, target in raw.get("scored_as", {}).items():
        tables[alias] = tables[target]
    return BreakpointTable(
        edition=str(raw["edition"]),
        name=str(raw["name"]),
        in_force_from=dt.date.fromisoformat(raw["in_force_from"]),
        steps_per_unit=MappingProxyType(dict(raw["steps_per_unit"])),
        tables=MappingProxyType(tables),
    )


@cache
def _load(edition: str) -> BreakpointTable:
    path = resources.files("emission_list.data").joinpath(_FILES[edition])
    return _parse(json.loads(path.read_text(encoding="utf-8")))


def edition_for(day: dt.date) -> str:
    """The edition scoring data of ``day``: ``"2026"`` from 2026-03-01 on, else ``"2012"``.

    Parameters
    ----------
    day : datetime.date or datetime.datetime
        A local day; an aware datetime is first converted to Asia/Shanghai.
    """
    if isinstance(day, dt.datetime):
        day = (day.astimezone(LOCAL_TIME) if day.tzinfo else day).date()
    chosen = EDITIONS[0]
    for edition in EDITIONS:
        if _load(edition).in_force_from <= day:
            chosen = edition
    return chosen


_NAME = re.compile(r"^(?:HJ\s*633\s*[-‐‑–—]\s*)?(\d{4})$", re.IGNORECASE)


def normalise_edition(edition: str | dt.date | None) -> str:
    """The edition key (``"2012"`` or ``"2026"``) for a name, a day, or None (in force today).

    Accepts ``"2012"``, ``"2026"``, ``"HJ 633-2012"``, ``"HJ 633—2026"`` (any dash; spaces
    optional; case ignored).

    Raises
    ------
    ValueError
        For an unknown edition name.
    """
    if edition is None:
        return edition_for(dt.datetime.now(LOCAL_TIME).date())
    if isinstance(edition, dt.date):
        return edition_for(edition)
    match = _NAME.match(str(edition).strip())
    if not match or match.group(1) not in EDITIONS:
        known = ", ".join(f"{e} / {_load(e).name}" for e in EDITIONS)
        raise ValueError(f"unknown HJ 633 edition {edition!r}; known: {known}")
    return match.group(1)


def get_table(edition: str | dt.date | BreakpointTable | None = None) -> BreakpointTable:
    """The breakpoint tables of an edition, loaded once.

    Parameters
    ----------
    edition : str, datetime.date or None
        An edition name (``"2012"``, ``"2026"``, ``"HJ 633-2012"``, ``"HJ 633—2026"``), the day
        whose data is scored, or None for the edition in force today (Asia/Shanghai).
    """
    if isinstance(edition, BreakpointTable):
        return edition
    return _load(normalise_edition(edition))
