"""Warning criteria as data: rules, the rule set of an authority, and which set applies where.

A :class:`RuleSet` holds the criteria of one authority (the national set of 环大气〔2024〕6号 by
default; a city may load a stricter one). A rule fires when the forecast has a run of at
least ``min_days`` consecutive days with daily AQI > ``aqi_above`` and, if ``peak_above`` is
given, at least ``peak_days`` of that run's days have AQI > ``peak_above``. The shipped sets
are read once from the package data file ``warning_rules.json``.

References
----------
环大气〔2024〕6号, heavy-pollution warning levels (yellow, orange, red over forecast daily AQI).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

import numpy as np

from emission_list.i18n import LANGUAGES, Text, is_bilingual
from emission_list.levels import Level
from emission_list.warning_texts import warning_data


def _qualifying_runs(
    aqi: np.ndarray, above: int, min_days: int, peak_above: int | None, peak_days: int
) -> np.ndarray:
    """Maximal runs ``(start, end)`` (end exclusive) of days > ``above`` that satisfy a rule."""
    exceed = np.concatenate(([0], (aqi > above).astype(np.int8), [0]))
    edges = np.diff(exceed)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    ok = ends - starts >= min_days
    if peak_above is not None:
        peaks = np.concatenate(([0], np.cumsum(aqi > peak_above)))
        ok &= peaks[ends] - peaks[starts] >= peak_days
    return np.stack([starts[ok], ends[ok]], axis=1)


@dataclass(frozen=True)
class Rule:
    """One warning criterion over consecutive forecast days.

    Parameters
    ----------
    id
        Rule id within its set, e.g. ``orange.aqi200x48h``.
    level
        Level issued when the rule fires (yellow or above).
    aqi_above
        Daily AQI must exceed this on every day of the run.
    min_days
        Minimum run length [days]; a day stands for 24 hours.
    description
        Bilingual statement of the criterion.
    peak_above, peak_days
        Optionally, at least ``peak_days`` days of the run must exceed ``peak_above``.
    """

    id: str
    level: Level
    aqi_above: int
    min_days: int
    description: Text
    peak_above: int | None = None
    peak_days: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level.parse(self.level))
        object.__setattr__(self, "description", MappingProxyType(dict(self.description)))
        if self.level is Level.NONE:
            raise ValueError(f"rule {self.id!r}: a rule issues yellow, orange or red")
        if int(self.min_days) < 1 or int(self.peak_days) < 1 or int(self.aqi_above) < 0:
            raise ValueError(f"rule {self.id!r}: min_days, peak_days >= 1, aqi_above >= 0")
        if self.peak_above is not None and int(self.peak_above) < int(self.aqi_above):
            raise ValueError(f"rule {self.id!r}: peak_above below aqi_above")
        if not is_bilingual(self.description):
            raise ValueError(f"rule {self.id!r}: description needs {LANGUAGES}")

    def runs(self, aqi: np.ndarray) -> np.ndarray:
        """Maximal qualifying runs ``(start, end)`` in ``aqi``, shape ``(k, 2)``, earliest first."""
        return _qualifying_runs(
            np.asarray(aqi), self.aqi_above, self.min_days, self.peak_above, self.peak_days
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        peak = data.get("peak_above")
        return cls(
            id=str(data["id"]),
            level=Level.parse(data["level"]),
            aqi_above=int(data["aqi_above"]),
            min_days=int(data["min_days"]),
            description=dict(data["description"]),
            peak_above=None if peak is None else int(peak),
            peak_days=int(data.get("peak_days", 1)),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "level": self.level.label,
            "aqi_above": self.aqi_above,
            "min_days": self.min_days,
            "description": dict(self.description),
        }
        if self.peak_above is not None:
            out |= {"peak_above": self.peak_above, "peak_days": self.peak_days}
        return out


@dataclass(frozen=True)
class RuleMatch:
    """A rule that fires, with its earliest qualifying run (forecast day indices, end exclusive)."""

    rule: Rule
    start: int
    end: int


@dataclass(frozen=True)
class RuleSet:
    """The warning criteria of one authority.

    ``from_dict`` accepts ``{"name", "rules", "description", "source"?, "extends"?}``; with
    ``extends`` the named set's rules come first and a rule of the same id replaces its own.
    """

    name: str
    rules: tuple[Rule, ...]
    description: Text
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rule set {self.name!r}: duplicate rule ids")
        if not self.rules:
            raise ValueError(f"rule set {self.name!r} has no rules")
        if not is_bilingual(self.description):
            raise ValueError(f"rule set {self.name!r}: description needs {LANGUAGES}")

    def matches(self, aqi: np.ndarray) -> list[RuleMatch]:
        """Every rule that fires on ``aqi`` [daily AQI], in rule order."""
        out = []
        for rule in self.rules:
            runs = rule.runs(aqi)
            if len(runs):
                out.append(RuleMatch(rule, int(runs[0, 0]), int(runs[0, 1])))
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], known: Mapping[str, RuleSet] | None = None
    ) -> RuleSet:
        rules = [Rule.from_dict(r) for r in data["rules"]]
        if data.get("extends"):
            sets = shipped_rule_sets() if known is None else known
            if data["extends"] not in sets:
                raise ValueError(f"rule set {data['name']!r} extends unknown {data['extends']!r}")
            own = {r.id: r for r in rules}
            base = [own.pop(r.id, r) for r in sets[data["extends"]].rules]
            rules = base + list(own.values())
        return cls(
            name=str(data["name"]),
            rules=tuple(rules),
            description=dict(data["description"]),
            source=str(data.get("source", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "description": dict(self.description),
            "rules": [r.to_dict() for r in self.rules],
        }


@cache
def shipped_rule_sets() -> Mapping[str, RuleSet]:
    """The rule sets shipped as package data, by name (``national-2024``, ``baotou-example``)."""
    sets: dict[str, RuleSet] = {}
    for entry in warning_data()["rule_sets"]:
        sets[entry["name"]] = RuleSet.from_dict(entry, known=sets)
    return MappingProxyType(sets)


def national_rules() -> RuleSet:
    """The default rule set, the national criteria of 环大气〔2024〕6号."""
    return shipped_rule_sets()[warning_data()["default"]]


@dataclass(frozen=True)
class RuleBook:
    """Which rule set applies where: a region's own, else its nearest ancestor's, else default."""

    default: RuleSet
    by_region: Mapping[str, RuleSet] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_region", MappingProxyType(dict(self.by_region)))

    def for_region(self, region_id: str, ancestors: Iterable[str] = ()) -> RuleSet:
        """Rule set of ``region_id``; ``ancestors`` nearest first (``RegionTree.ancestors``)."""
        for region in (region_id, *ancestors):
            if region in self.by_region:
                return self.by_region[region]
        return self.default

    @classmethod
    def from_assignments(
        cls,
        assignments: Mapping[str, str],
        sets: Mapping[str, RuleSet] | None = None,
        default: str | None = None,
    ) -> RuleBook:
        """Build from ``{region_id: rule set name}`` over ``sets`` (the shipped ones by default)."""
        sets = shipped_rule_sets() if sets is None else sets
        return cls(
            default=sets[default] if default else national_rules(),
            by_region={region: sets[name] for region, name in assignments.items()},
        )
