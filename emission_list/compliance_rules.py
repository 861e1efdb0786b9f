"""Thresholds of the compliance check per industry, as data (``data/compliance_rules.json``).

The file holds a ``default`` row and one row per industry code of the catalog; an industry row
overrides the default's fields it names (``cems`` per pollutant). :func:`load_compliance_rules`
checks the file (unknown keys or industries, ``confirmed_after <= suspected_after``, negative
or out-of-range values, texts not in both languages: all listed in one clear error) and
builds the per-industry arrays the evaluation broadcasts by an industry index.
``docs/compliance.md`` gives every number with its reasoning.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from emission_list.catalog import default_catalog
from emission_list.i18n import Text, is_bilingual

#: CEMS pollutants judged, in the column order of the arrays: SO2, NOx, particulate (HJ 212
#: 2017 codes, Table B.2).
CEMS_POLLUTANTS: tuple[str, ...] = ("a21026", "a21002", "a34013")

_SCALARS = {  # field: (type, minimum, maximum)
    "tolerance": (float, 0.0, 10.0),
    "suspected_after": (int, 1, 100_000),
    "confirmed_after": (int, 1, 100_000),
    "control_after": (int, 1, 100_000),
    "silent_after": (int, 1, 100_000),
    "running_fraction": (float, 0.0, 1.0),
    "stopped_fraction": (float, 0.0, 1.0),
}
_CEMS_FIELDS = {"limit_mg_m3", "reference_o2", "run"}
_ROW_FIELDS = {*_SCALARS, "cems", "reasoning"}
_TOP_FIELDS = {"schema", "about", "interval_s", "default", "industries"}
SCHEMA = "haze-response/compliance-rules/1"


class ComplianceRulesError(ValueError):
    """The compliance rules file is not valid; ``problems`` lists every fault found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("compliance rules: " + "; ".join(self.problems))


@dataclass(frozen=True)
class CemsLimit:
    """Limit of one pollutant: ``limit_mg_m3`` None = not judged; ``reference_o2`` [%] the
    oxygen content the limit is stated at (None: as measured); ``run`` [intervals]."""

    limit_mg_m3: float | None
    reference_o2: float | None
    run: int


@dataclass(frozen=True)
class IndustryRule:
    """The thresholds of one industry (intervals of ``interval_s``, 60 s as shipped)."""

    industry: str
    tolerance: float  # production may exceed normal × (1 − cut) by this fraction
    suspected_after: int  # K: consecutive intervals above the allowed load
    confirmed_after: int  # M > K
    control_after: int  # consecutive intervals of a control line stopped while production runs
    silent_after: int  # N: intervals without a valid value from a logger under a warning
    running_fraction: float  # a production line runs above this × min(rated, normal)
    stopped_fraction: float  # a control line is stopped below this × rated (or no power)
    cems: Mapping[str, CemsLimit]
    reasoning: Text


@dataclass(frozen=True)
class ComplianceRules:
    """Rules of every industry and their arrays, rows in the order of ``industries``.

    Arrays (I,) unless said: ``tolerance``, ``suspected_after``, ``confirmed_after``,
    ``control_after``, ``silent_after``, ``running_fraction``, ``stopped_fraction``; (I, 3) in
    the order of :data:`CEMS_POLLUTANTS`: ``cems_limit`` [mg/m³] (NaN: not judged),
    ``cems_reference_o2`` [%] (NaN: as measured), ``cems_run`` [intervals].
    """

    interval_s: int
    industries: tuple[str, ...]
    rules: Mapping[str, IndustryRule]
    tolerance: np.ndarray
    suspected_after: np.ndarray
    confirmed_after: np.ndarray
    control_after: np.ndarray
    silent_after: np.ndarray
    running_fraction: np.ndarray
    stopped_fraction: np.ndarray
    cems_limit: np.ndarray
    cems_reference_o2: np.ndarray
    cems_run: np.ndarray

    def index(self, industries: Sequence[str]) -> np.ndarray:
        """Row of each industry code (int32); a code without a row of its own gets ``other``."""
        position = {code: i for i, code in enumerate(self.industries)}
        fallback = position["other"]
        return np.array([position.get(code, fallback) for code in industries], dtype=np.int32)


def _check_row(name: str, row: Any, complete: bool, problems: list[str]) -> None:
    if not isinstance(row, Mapping):
        problems.append(f"{name}: an object")
        return
    problems.extend(f"{name}: unknown key {key!r}" for key in sorted(set(row) - _ROW_FIELDS))
    for key, (kind, low, high) in _SCALARS.items():
        if key not in row:
            if complete:
                problems.append(f"{name}: {key} missing")
            continue
        value = row[key]
        wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
        if wrong_type or (kind is int and not float(value).is_integer()):
            problems.append(f"{name}.{key}: {'an integer' if kind is int else 'a number'}")
        elif not (low <= value <= high) or math.isnan(value):
            problems.append(f"{name}.{key}: {value} outside {low}..{high}")
    if "reasoning" in row and not is_bilingual(row["reasoning"]):
        problems.append(f"{name}.reasoning: a text in zh-CN and en")
    elif complete and "reasoning" not in row:
        problems.append(f"{name}: reasoning missing")
    cems = row.get("cems", {})
    if not isinstance(cems, Mapping):
        problems.append(f"{name}.cems: an object")
        return
    for code, limit in cems.items():
        where = f"{name}.cems.{code}"
        if code not in CEMS_POLLUTANTS:
            problems.append(f"{where}: unknown pollutant (one of {', '.join(CEMS_POLLUTANTS)})")
        if not isinstance(limit, Mapping):
            problems.append(f"{where}: an object")
            continue
        problems.extend(f"{where}: unknown key {k!r}" for k in sorted(set(limit) - _CEMS_FIELDS))
        for key in ("limit_mg_m3", "reference_o2"):
            value = limit.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                problems.append(f"{where}.{key}: a number or null")
            elif value is not None and not (0 <= value < (21 if key == "reference_o2" else 1e6)):
                problems.append(f"{where}.{key}: {value} out of range")
        run = limit.get("run", 1)
        if isinstance(run, bool) or not isinstance(run, int) or run < 1:
            problems.append(f"{where}.run: an integer >= 1")
    if complete and set(cems) != set(CEMS_POLLUTANTS):
        problems.append(f"{name}.cems: every pollutant of {', '.join(CEMS_POLLUTANTS)}")


def _merged(default: Mapping[str, Any], row: Mapping[str, Any], industry: str) -> IndustryRule:
    cems = {
        code: CemsLimit(**{**default["cems"][code], **row.get("cems", {}).get(code, {})})
        for code in CEMS_POLLUTANTS
    }
    fields = {key: row.get(key, default[key]) for key in _SCALARS}
    return IndustryRule(
        industry=industry,
        **{k: _SCALARS[k][0](v) for k, v in fields.items()},
        cems=cems,
        reasoning=row.get("reasoning", default["reasoning"]),
    )


def load_compliance_rules(
    data: Mapping[str, Any], industries: Sequence[str] | None = None
) -> ComplianceRules:
    """Check a rules document and build its arrays.

    Parameters
    ----------
    data
        The parsed JSON document (``schema``, ``interval_s``, ``default``, ``industries``).
    industries
        The industry codes allowed (default: the catalog's). ``other`` must be among them.

    Raises
    ------
    ComplianceRulesError
        Listing every problem found.
    """
    known = tuple(industries if industries is not None else default_catalog().industries)
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ComplianceRulesError(["the document: an object"])
    problems.extend(f"unknown key {key!r}" for key in sorted(set(data) - _TOP_FIELDS))
    if data.get("schema") != SCHEMA:
        problems.append(f"schema: {SCHEMA!r}")
    interval = data.get("interval_s")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        problems.append("interval_s: an integer >= 1")
    _check_row("default", data.get("default"), True, problems)
    rows = data.get("industries", {})
    if not isinstance(rows, Mapping):
        problems.append("industries: an object")
        rows = {}
    for code, row in rows.items():
        if code not in known:
            problems.append(f"industries: unknown industry {code!r}")
        _check_row(f"industries.{code}", row, False, problems)
    if "other" not in known:
        problems.append("the industries must include 'other'")
    if problems:
        raise ComplianceRulesError(problems)
    rules = {code: _merged(data["default"], rows.get(code, {}), code) for code in known}
    for code, rule in rules.items():
        if rule.confirmed_after <= rule.suspected_after:
            problems.append(
                f"{code}: confirmed_after ({rule.confirmed_after}) must exceed "
                f"suspected_after ({rule.suspected_after})"
            )
    if problems:
        raise ComplianceRulesError(problems)
    return _arrays(int(interval), known, rules)


def _arrays(interval_s: int, codes: tuple[str, ...], rules: dict[str, IndustryRule]):
    ordered = [rules[c] for c in codes]

    def column(name: str, dtype: type) -> np.ndarray:
        return np.array([getattr(r, name) for r in ordered], dtype=dtype)

    def cems(name: str, dtype: type) -> np.ndarray:
        values = [[getattr(r.cems[p], name) for p in CEMS_POLLUTANTS] for r in ordered]
        return np.array([[np.nan if v is None else v for v in row] for row in values], dtype)

    return ComplianceRules(
        interval_s=interval_s,
        industries=codes,
        rules=rules,
        tolerance=column("tolerance", np.float64),
        suspected_after=column("suspected_after", np.int32),
        confirmed_after=column("confirmed_after", np.int32),
        control_after=column("control_after", np.int32),
        silent_after=column("silent_after", np.int32),
        running_fraction=column("running_fraction", np.float64),
        stopped_fraction=column("stopped_fraction", np.float64),
        cems_limit=cems("limit_mg_m3", np.float64),
        cems_reference_o2=cems("reference_o2", np.float64),
        cems_run=cems("run", np.int32),
    )


@cache
def default_compliance_rules() -> ComplianceRules:
    """The shipped rules (``emission_list/data/compliance_rules.json``), loaded once."""
    path = resources.files("emission_list.data").joinpath("compliance_rules.json")
    return load_compliance_rules(json.loads(path.read_text("utf-8")))


def reference_oxygen(
    measured_mg_m3: np.ndarray, o2_percent: np.ndarray, reference_o2: np.ndarray
) -> np.ndarray:
    """Concentration converted to the reference oxygen content [mg/m³].

    ``c_ref = c × (21 − O2_ref) / (21 − O2_measured)`` (HJ 75-2017, 基准氧含量折算); NaN
    reference O2 leaves the value as measured; O2 at or above 21 % gives NaN (no valid value).
    For loggers that send no converted (``-ZsRtd``) value.
    """
    measured = np.asarray(measured_mg_m3, dtype=np.float64)
    o2 = np.asarray(o2_percent, dtype=np.float64)
    ref = np.asarray(reference_o2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        converted = measured * (21.0 - ref) / np.where(o2 < 21.0, 21.0 - o2, np.nan)
    return np.where(np.isnan(ref), measured, converted)
