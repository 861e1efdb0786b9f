"""The catalog's JSON form: its vocabulary, what it is parsed into, and its validation.

:func:`parse_catalog` checks a catalog (``emission_list/data/catalog.json``, or a district's
own) and turns it into the keyword arguments of :class:`emission_list.catalog.Catalog`;
:meth:`Catalog.from_dict <emission_list.catalog.Catalog.from_dict>` is the public way in. The
layering of the data (cut table, fraction rules, actions) is described in
:mod:`emission_list.catalog`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emission_list.frozen import FrozenDict
from emission_list.i18n import Text, is_bilingual
from emission_list.levels import LIST_POLLUTANTS, WARNING_LEVELS

#: Performance grades, best first ("leading" = 绩效引领性, "other" = non-key industry).
GRADES: tuple[str, ...] = ("A+", "A", "leading", "B", "B-", "C", "D", "other")
#: Key of the guaranteed-supply (保障类) row of the production-cut table.
GUARANTEED_SUPPLY = "guaranteed_supply"
#: Level keys of the catalog, in the order of ``WARNING_LEVELS``.
LEVEL_KEYS: tuple[str, ...] = tuple(level.label for level in WARNING_LEVELS)


class CatalogError(ValueError):
    """A catalog that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Industry:
    """An industry of the catalog and the grades it uses (best first)."""

    code: str
    name: Text
    key_industry: bool
    grades: tuple[str, ...]
    lowest_grade: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", FrozenDict(self.name))
        object.__setattr__(self, "grades", tuple(self.grades))


@dataclass(frozen=True)
class LibraryAction:
    """An action of the catalog's library as written: texts with ``{cut}``, stop wording."""

    text: Mapping[str, str]
    pollutants: tuple[str, ...]
    stop: Mapping[str, str] | None


@dataclass(frozen=True)
class IndustryRules:
    """One industry's rules after layering on the catalog-wide ones (see :mod:`.catalog`)."""

    cut: Mapping[str, tuple[float, float, float]]
    factor: tuple[float, ...]
    floor: tuple[tuple[float, ...], ...]  # [level][pollutant]
    emission: tuple[tuple[str, ...], ...]  # [level]
    production: tuple[tuple[str, ...], ...]
    extras: Mapping[str, tuple[tuple[str, ...], ...]]  # grade -> [level]


def is_fraction(value: object) -> bool:
    """Whether ``value`` is a finite real number in 0..1 (a bool is not)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )


def _check_bilingual(value: object, where: str, problems: list[str]) -> None:
    if not is_bilingual(value):
        problems.append(f"{where}: needs a non-empty text in zh-CN and en")


def _unit_triple(value: object, where: str, problems: list[str]) -> tuple[float, float, float]:
    if isinstance(value, Sequence) and len(value) == 3 and all(is_fraction(v) for v in value):
        return tuple(float(v) for v in value)  # type: ignore[return-value]
    problems.append(f"{where}: needs 3 numbers in 0..1 (yellow, orange, red)")
    return (0.0, 0.0, 0.0)


def _by_level(value: object, where: str, known: Mapping[str, object], problems: list[str]):
    value = value or {}
    if not isinstance(value, Mapping) or set(value) - set(LEVEL_KEYS):
        problems.append(f"{where}: keys must be among {LEVEL_KEYS}")
        return ((),) * len(LEVEL_KEYS)
    out = []
    for key in LEVEL_KEYS:
        codes = tuple(value.get(key, ()))
        problems.extend(f"{where}.{key}: unknown action {c!r}" for c in codes if c not in known)
        out.append(codes)
    return tuple(out)


def parse_catalog(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a catalog's JSON form and build the keyword arguments of ``Catalog``.

    Raises
    ------
    CatalogError
        Listing every problem found.
    """
    problems: list[str] = []
    if tuple(data.get("levels", LEVEL_KEYS)) != LEVEL_KEYS:
        problems.append(f"levels: must be {list(LEVEL_KEYS)}")
    grades = tuple(data.get("grades", GRADES))
    if len(set(grades)) != len(grades) or not grades:
        problems.append("grades: must be a non-empty list of distinct codes")
    rank = {g: i for i, g in enumerate(grades)}
    grade_names = dict(data.get("grade_names", {}))
    for g in grades:
        _check_bilingual(grade_names.get(g), f"grade_names.{g}", problems)
    gs_name = data.get("guaranteed_supply_name")
    _check_bilingual(gs_name, "guaranteed_supply_name", problems)

    def cut_table(raw: object, where: str) -> dict[str, tuple[float, float, float]]:
        raw = raw or {}
        out = {}
        for key, row in dict(raw).items():
            if key != GUARANTEED_SUPPLY and key not in rank:
                problems.append(f"{where}: unknown grade {key!r}")
            out[key] = _unit_triple(row, f"{where}.{key}", problems)
        return out

    cut = cut_table(data.get("production_cut"), "production_cut")
    missing = [key for key in (*grades, GUARANTEED_SUPPLY) if key not in cut]
    problems.extend(f"production_cut: missing row {key!r}" for key in missing)

    actions: dict[str, LibraryAction] = {}
    for code, raw in dict(data.get("actions", {})).items():
        text = {k: raw.get(k) for k in ("zh-CN", "en")}
        _check_bilingual(text, f"actions.{code}", problems)
        stop = raw.get("stop")
        if stop is not None:
            _check_bilingual(stop, f"actions.{code}.stop", problems)
        pollutants = tuple(raw.get("pollutants", ()))
        if not pollutants or set(pollutants) - set(LIST_POLLUTANTS):
            problems.append(f"actions.{code}.pollutants: a non-empty subset of {LIST_POLLUTANTS}")
        actions[code] = LibraryAction(FrozenDict(text), pollutants, stop and FrozenDict(stop))
    stop_action = data.get("stop_action", "plant_stop")
    if stop_action not in actions:
        problems.append(f"stop_action: unknown action {stop_action!r}")

    def fraction_rules(raw: object, base: tuple[tuple[float, ...], tuple[tuple[float, ...], ...]]):
        raw = dict(raw or {})
        factor, floor = list(base[0]), [list(row) for row in base[1]]
        for p, value in dict(raw.get("factor", {})).items():
            if p not in LIST_POLLUTANTS or not isinstance(value, int | float) or value < 0:
                problems.append(f"factor.{p}: a list pollutant and a number >= 0")
                continue
            factor[LIST_POLLUTANTS.index(p)] = float(value)
        for p, row in dict(raw.get("floor", {})).items():
            if p not in LIST_POLLUTANTS:
                problems.append(f"floor.{p}: not a list pollutant")
                continue
            for i, v in enumerate(_unit_triple(row, f"floor.{p}", problems)):
                floor[i][LIST_POLLUTANTS.index(p)] = v
        return tuple(factor), tuple(tuple(row) for row in floor)

    no_fractions = ((1.0,) * len(LIST_POLLUTANTS), ((0.0,) * len(LIST_POLLUTANTS),) * 3)
    default_fractions = fraction_rules(data.get("fractions"), no_fractions)

    industries: dict[str, Industry] = {}
    rules: dict[str, IndustryRules] = {}
    for code, raw in dict(data.get("industries", {})).items():
        where = f"industries.{code}"
        _check_bilingual(raw.get("name"), f"{where}.name", problems)
        own = tuple(raw.get("grades", ()))
        if not own or set(own) - set(rank):
            problems.append(f"{where}.grades: a non-empty list of catalog grades")
        lowest = raw.get("lowest_grade")
        if lowest not in own:
            problems.append(f"{where}.lowest_grade: {lowest!r} is not one of its grades")
        extras = {}
        for grade, by_level in dict(raw.get("grade_actions", {})).items():
            if grade not in rank:
                problems.append(f"{where}.grade_actions: unknown grade {grade!r}")
                continue
            extras[grade] = _by_level(by_level, f"{where}.grade_actions.{grade}", actions, problems)
        factor, floor = fraction_rules(raw.get("fractions"), default_fractions)
        industries[code] = Industry(
            code, dict(raw.get("name") or {}), bool(raw.get("key_industry", True)), own, lowest
        )
        rules[code] = IndustryRules(
            cut={**cut, **cut_table(raw.get("production_cut"), f"{where}.production_cut")},
            factor=factor,
            floor=floor,
            emission=_by_level(
                raw.get("emission_actions"), f"{where}.emission_actions", actions, problems
            ),
            production=_by_level(
                raw.get("production_actions"), f"{where}.production_actions", actions, problems
            ),
            extras=extras,
        )
    if not industries:
        problems.append("industries: at least one")
    if problems:
        raise CatalogError(problems)
    return {
        "industries": industries,
        "grades": grades,
        "grade_names": {g: FrozenDict(grade_names[g]) for g in grades},
        "guaranteed_supply_name": FrozenDict(gs_name),
        "actions": actions,
        "rules": rules,
        "stop_action": stop_action,
        "source": data,
    }
