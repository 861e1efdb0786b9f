"""The catalog of measures: industry × performance grade × warning level → what an enterprise does.

A measure is the fraction of production stopped, the fraction by which each list pollutant
(SO2, NOx, PM, VOCs) falls, and the actions in words. The catalog is data
(``emission_list/data/catalog.json``, or a district's own through :meth:`Catalog.from_dict`),
layered so it stays small:

1. **Production cut** by grade and level (``production_cut``), with ``guaranteed_supply`` for
   保障类 enterprises; an industry may override rows of it.
2. **Fractions** per industry from the cut, per pollutant:
   ``1 − (1 − min(1, factor × cut)) × (1 − floor[level])``. ``floor`` is what the industry's
   emission measures achieve on what is still produced (steel: 20 % of PM from material
   handling even for A, on top of any cut), ``factor`` > 1 makes VOC users cut VOCs more than
   production; with no floor and factor 1 the fraction is the production cut. Catalog-wide
   defaults (transport rules every enterprise follows), replaced per pollutant by an industry.
3. **Actions** per industry and level: ``emission_actions`` always; ``production_actions``
   when the cut is above 0 (their ``{cut}`` becomes the percentage, or their ``stop`` wording
   at a full stop); ``grade_actions`` for a grade *and every worse grade* (not for guaranteed
   supply); and the catalog's ``stop_action`` when the cut is 100 %.

A guaranteed-supply enterprise takes its guaranteed cut (0 by default) and so only the floors
and the emission actions written for its industry. A-grade enterprises (and A+, leading) have
no production cut: they decide their own measures, and the floors record the emission
measures every enterprise of the industry takes.

References
----------
重污染天气重点行业应急减排措施制定技术指南（2020年修订版）, 环办大气函〔2020〕340号;
关于加强重点行业大气环境绩效分级管理的指导意见, 环办大气〔2026〕2号 (A+ grade).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from emission_list.catalog_load import (
    GRADES,
    GUARANTEED_SUPPLY,
    LEVEL_KEYS,
    CatalogError,
    Industry,
    IndustryRules,
    LibraryAction,
    parse_catalog,
)
from emission_list.frozen import FrozenDict
from emission_list.i18n import Text
from emission_list.levels import LIST_POLLUTANTS, WARNING_LEVELS, Level

__all__ = [
    "GRADES",
    "GUARANTEED_SUPPLY",
    "LEVEL_KEYS",
    "Action",
    "Catalog",
    "CatalogError",
    "FrozenDict",
    "Industry",
    "Measure",
    "MeasureTables",
    "default_catalog",
]


@dataclass(frozen=True)
class Action:
    """One measure in words, with the list pollutants it reduces."""

    code: str
    text: Mapping[str, str]
    pollutants: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", FrozenDict(self.text))
        object.__setattr__(self, "pollutants", tuple(self.pollutants))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": dict(self.text), "pollutants": list(self.pollutants)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        return cls(str(data["code"]), dict(data["text"]), tuple(data.get("pollutants", ())))


@dataclass(frozen=True)
class Measure:
    """What an enterprise does at one warning level.

    Attributes
    ----------
    production_cut
        Fraction of production stopped, 0..1.
    fractions
        Fractions by which SO2, NOx, PM and VOCs fall (order of ``LIST_POLLUTANTS``), 0..1;
        the required reduction is baseline [kg/day] × fraction.
    actions
        The measures in words.
    """

    production_cut: float
    fractions: tuple[float, float, float, float]
    actions: tuple[Action, ...] = ()

    NONE: ClassVar[Measure]

    def __post_init__(self) -> None:
        object.__setattr__(self, "production_cut", float(self.production_cut))
        object.__setattr__(self, "fractions", tuple(float(f) for f in self.fractions))
        object.__setattr__(self, "actions", tuple(self.actions))

    def to_dict(self) -> dict[str, Any]:
        return {
            "production_cut": self.production_cut,
            "fractions": dict(zip(LIST_POLLUTANTS, self.fractions, strict=True)),
            "actions": [a.to_dict() for a in self.actions],
        }


Measure.NONE = Measure(0.0, (0.0, 0.0, 0.0, 0.0), ())


@dataclass(frozen=True)
class MeasureTables:
    """Every catalog measure's numbers as arrays, for vectorised lookups.

    Attributes
    ----------
    industries, grades
        Axis labels (catalog order).
    production_cut
        ``(I, G, 2, 4)``: industry, grade, guaranteed supply (0/1), level (``Level`` value,
        0 = none) → fraction of production stopped.
    fractions
        ``(I, G, 2, 4, 4)``: the same, then pollutant (``LIST_POLLUTANTS``) → fraction.
    """

    industries: tuple[str, ...]
    grades: tuple[str, ...]
    production_cut: np.ndarray
    fractions: np.ndarray

    def index(self, industries: Any, grades: Any) -> tuple[np.ndarray, np.ndarray]:
        """Axis indices of arrays of industry and grade codes; -1 where unknown."""
        return _lookup(industries, self.industries), _lookup(grades, self.grades)


def _lookup(codes: Any, vocabulary: Sequence[str]) -> np.ndarray:
    codes = np.asarray(codes, dtype=str)
    vocab = np.asarray(vocabulary, dtype=str)
    sorter = np.argsort(vocab)
    pos = np.searchsorted(vocab, codes, sorter=sorter).clip(0, max(len(vocab) - 1, 0))
    found = sorter[pos] if len(vocab) else np.zeros(codes.shape, dtype=np.intp)
    ok = (vocab[found] == codes) if len(vocab) else np.zeros(codes.shape, dtype=bool)
    return np.where(ok, found, -1)


def _percent(cut: float) -> str:
    return f"{round(cut * 100, 1):g}"


class Catalog:
    """Measures by industry, grade, guaranteed-supply flag and warning level.

    Build one with :meth:`from_dict` (a district's own) or :func:`default_catalog`.
    """

    def __init__(
        self,
        *,
        industries: Mapping[str, Industry],
        grades: Sequence[str],
        grade_names: Mapping[str, Text],
        guaranteed_supply_name: Text,
        actions: Mapping[str, LibraryAction],
        rules: Mapping[str, IndustryRules],
        stop_action: str,
        source: Mapping[str, Any],
    ) -> None:
        self.industries: Mapping[str, Industry] = MappingProxyType(dict(industries))
        self.grades: tuple[str, ...] = tuple(grades)
        self.grade_names: Mapping[str, Text] = MappingProxyType(dict(grade_names))
        self.guaranteed_supply_name = guaranteed_supply_name
        self._actions = dict(actions)
        self._rules = dict(rules)
        self._stop_action = stop_action
        self._rank = {g: i for i, g in enumerate(self.grades)}
        self._source = json.dumps(source, ensure_ascii=False)
        self._measures: dict[tuple[str, str, bool, Level], Measure] = {}
        self._tables: MeasureTables | None = None

    # -- lookups -----------------------------------------------------------------------------

    def production_cut(
        self, industry: str, grade: str, guaranteed_supply: bool, level: Level | int | str
    ) -> float:
        """Catalog production cut (fraction 0..1) of an industry and grade at a level."""
        level = Level.parse(level)
        if level is Level.NONE:
            return 0.0
        rules = self._industry_rules(industry)
        if grade not in self._rank:
            raise KeyError(f"unknown grade {grade!r}")
        row = GUARANTEED_SUPPLY if guaranteed_supply else grade
        return rules.cut[row][int(level) - 1]

    def fractions_for(
        self, industry: str, production_cut: float, level: Level | int | str
    ) -> tuple[float, float, float, float]:
        """Pollutant fractions at a production cut: 1 − (1 − min(1, factor·cut))(1 − floor)."""
        level = Level.parse(level)
        if level is Level.NONE:
            return Measure.NONE.fractions
        rules = self._industry_rules(industry)
        floor = rules.floor[int(level) - 1]
        return tuple(  # type: ignore[return-value]
            round(1.0 - (1.0 - min(1.0, fa * production_cut)) * (1.0 - fl), 9)
            for fl, fa in zip(floor, rules.factor, strict=True)
        )

    def measure(
        self, industry: str, grade: str, guaranteed_supply: bool, level: Level | int | str
    ) -> Measure:
        """The catalog measure; :attr:`Measure.NONE` at ``Level.NONE``.

        Any grade of the catalog is accepted for any industry (a grade outside the industry's
        own list is a validation error of the entry, not a lookup failure).

        Raises
        ------
        KeyError
            For an unknown industry or grade.
        """
        level = Level.parse(level)
        if level is Level.NONE:
            return Measure.NONE
        key = (industry, grade, bool(guaranteed_supply), level)
        found = self._measures.get(key)
        if found is None:
            found = self.compose(industry, grade, guaranteed_supply, level)
            self._measures[key] = found
        return found

    def compose(
        self,
        industry: str,
        grade: str,
        guaranteed_supply: bool,
        level: Level | int | str,
        production_cut: float | None = None,
    ) -> Measure:
        """A measure built by the catalog's rules, at the catalog's cut or at ``production_cut``.

        An entry that overrides only its production cut gets fractions and actions that follow
        the new cut (see :func:`emission_list.entries.resolve_measure`).
        """
        level = Level.parse(level)
        if level is Level.NONE:
            return Measure.NONE
        cut = self.production_cut(industry, grade, guaranteed_supply, level)
        if production_cut is not None:
            cut = float(production_cut)
        rules = self._rules[industry]
        i = int(level) - 1
        codes = list(rules.emission[i])
        if cut > 0:
            codes += rules.production[i]
        if not guaranteed_supply:
            for extra_grade, by_level in rules.extras.items():
                if self._rank[grade] >= self._rank[extra_grade]:
                    codes += by_level[i]
        if cut >= 1:
            codes.append(self._stop_action)
        actions = tuple(self._action(code, cut) for code in dict.fromkeys(codes))
        return Measure(cut, self.fractions_for(industry, cut, level), actions)

    def action(self, code: str, production_cut: float = 0.0) -> Action:
        """An action of the catalog's library, its ``{cut}`` filled in."""
        return self._action(code, production_cut)

    def grade_name(self, grade: str) -> Text:
        """Bilingual name of a grade."""
        return self.grade_names[grade]

    def tables(self) -> MeasureTables:
        """Every measure's numbers as read-only arrays (built once)."""
        if self._tables is None:
            industries, grades = tuple(self.industries), self.grades
            cut = np.zeros((len(industries), len(grades), 2, len(Level)))
            fractions = np.zeros((*cut.shape, len(LIST_POLLUTANTS)))
            for a, industry in enumerate(industries):
                for b, grade in enumerate(grades):
                    for supply in (0, 1):
                        for level in WARNING_LEVELS:
                            m = self.measure(industry, grade, bool(supply), level)
                            cut[a, b, supply, level] = m.production_cut
                            fractions[a, b, supply, level] = m.fractions
            cut.flags.writeable = False
            fractions.flags.writeable = False
            self._tables = MeasureTables(industries, grades, cut, fractions)
        return self._tables

    def to_dict(self) -> dict[str, Any]:
        """The catalog's data, as loaded (a fresh copy)."""
        return json.loads(self._source)

    def _industry_rules(self, industry: str) -> IndustryRules:
        try:
            return self._rules[industry]
        except KeyError:
            raise KeyError(f"unknown industry {industry!r}") from None

    def _action(self, code: str, cut: float) -> Action:
        entry = self._actions[code]
        if cut >= 1 and entry.stop is not None:
            text = dict(entry.stop)
        else:
            text = {k: v.replace("{cut}", _percent(cut)) for k, v in entry.text.items()}
        return Action(code, text, entry.pollutants)

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalog:
        """Build a catalog from its JSON form (see ``data/catalog.json``).

        Raises
        ------
        CatalogError
            Listing every problem: unknown grades or action codes, texts not in both languages,
            cuts or fractions outside 0..1, a lowest grade the industry does not use, ...
        """
        return cls(**parse_catalog(data))


@cache
def default_catalog() -> Catalog:
    """The shipped illustrative catalog (``emission_list/data/catalog.json``), loaded once."""
    raw = resources.files("emission_list").joinpath("data/catalog.json").read_text("utf-8")
    return Catalog.from_dict(json.loads(raw))
