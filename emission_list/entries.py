"""The enterprise entry of the emission-reduction list, and the measure it resolves to.

An entry holds what the bureau keeps per enterprise: unified social credit code, names,
region (a leaf of the region tree), industry and grade from the catalog, the guaranteed-supply
flag, baseline daily emissions [kg/day] of the list pollutants, optional per-level overrides
(one plant, one policy), a contact for notices and its metered lines
(:mod:`emission_list.lines`).

Entries are immutable and hold whatever they were given: a malformed value (a negative or
non-numeric baseline, an unknown grade) is kept as is so that
:func:`emission_list.revisions.validate_entry` can report every bad field at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from emission_list.catalog import Action, Catalog, Measure
from emission_list.cells import number
from emission_list.frozen import FrozenDict
from emission_list.levels import LIST_POLLUTANTS, Level
from emission_list.lines import Line, read_lines

#: Levels an override may be written for (keys of :attr:`Enterprise.overrides`).
OVERRIDE_LEVELS: tuple[str, ...] = ("yellow", "orange", "red")
_TEXT_FIELDS = ("enterprise_id", "name", "name_en", "region", "industry", "grade", "contact")

_TRUE = frozenset({"true", "1", "yes", "y", "t", "是"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", ""})


def _optional_number(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return number(value)


def _fractions(value: object) -> tuple[object, ...] | None:
    """Override fractions from a sequence (LIST_POLLUTANTS order) or a pollutant mapping."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        unknown = set(value) - set(LIST_POLLUTANTS)
        if unknown:
            raise ValueError(f"unknown pollutants {sorted(unknown)}; use {LIST_POLLUTANTS}")
        return tuple(_optional_number(value.get(p)) for p in LIST_POLLUTANTS)
    return tuple(_optional_number(v) for v in value)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MeasureOverride:
    """An entry's own measure at one level; ``None`` keeps the catalog's value.

    Attributes
    ----------
    production_cut
        Fraction of production stopped, 0..1.
    fractions
        Four fractions (``LIST_POLLUTANTS`` order), each None to keep the catalog's; a mapping
        by pollutant is accepted too.
    actions
        Replace the catalog's actions (each text in both languages).
    """

    production_cut: float | None = None
    fractions: tuple[float | None, ...] | None = None
    actions: tuple[Action, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "production_cut", _optional_number(self.production_cut))
        object.__setattr__(self, "fractions", _fractions(self.fractions))
        if self.actions is not None:
            actions = tuple(
                a if isinstance(a, Action) else Action.from_dict(a) for a in self.actions
            )
            object.__setattr__(self, "actions", actions)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: only the fields set; fractions as a mapping by pollutant."""
        out: dict[str, Any] = {}
        if self.production_cut is not None:
            out["production_cut"] = self.production_cut
        if self.fractions is not None:
            if len(self.fractions) == len(LIST_POLLUTANTS):
                out["fractions"] = {
                    p: f
                    for p, f in zip(LIST_POLLUTANTS, self.fractions, strict=True)
                    if f is not None
                }
            else:
                out["fractions"] = list(self.fractions)
        if self.actions is not None:
            out["actions"] = [a.to_dict() for a in self.actions]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasureOverride:
        return cls(data.get("production_cut"), data.get("fractions"), data.get("actions"))


def _override_key(key: object) -> str:
    if isinstance(key, Level):
        return key.label
    return str(key).strip().lower()


def _flag(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    return value


@dataclass(frozen=True)
class Enterprise:
    """One enterprise on the list.

    Attributes
    ----------
    enterprise_id
        Unified social credit code (GB 32100-2015), 18 characters.
    name, name_en
        Name as registered (Chinese) and in English ('' when none).
    region
        Leaf region id (e.g. ``"150203003"``).
    industry, grade
        Catalog industry code and performance grade.
    guaranteed_supply
        保障类: keeps running and takes only its emission measures.
    baseline
        Daily emissions of SO2, NOx, PM, VOCs [kg/day].
    overrides
        Per-level overrides keyed ``"yellow"``, ``"orange"``, ``"red"`` (a read-only mapping;
        ``Level`` keys are accepted and stored by their label).
    contact
        Who receives notices (phone or e-mail).
    lines
        Production and pollution-control lines with the logger channels that meter them
        (:class:`~emission_list.lines.Line`; JSON objects are read into lines).
    """

    enterprise_id: str
    name: str
    name_en: str
    region: str
    industry: str
    grade: str
    guaranteed_supply: bool = False
    baseline: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    overrides: Mapping[str, MeasureOverride] = field(default_factory=FrozenDict)
    contact: str = ""
    lines: tuple[Line, ...] = ()

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:  # numpy str_ (from arrays) becomes plain str
            value = getattr(self, name)
            if isinstance(value, str) and type(value) is not str:
                object.__setattr__(self, name, str(value))
        baseline = self.baseline
        if isinstance(baseline, Mapping):
            baseline = [baseline.get(p, 0.0) for p in LIST_POLLUTANTS]
        if isinstance(baseline, str | bytes) or not hasattr(baseline, "__iter__"):
            baseline = (baseline,)
        baseline = tuple(number(v) for v in baseline)  # type: ignore[union-attr]
        object.__setattr__(self, "baseline", baseline)
        overrides = FrozenDict(
            (
                _override_key(k),
                v if isinstance(v, MeasureOverride) else MeasureOverride.from_dict(v),
            )
            for k, v in dict(self.overrides or {}).items()
        )
        object.__setattr__(self, "overrides", overrides)
        object.__setattr__(self, "lines", read_lines(self.lines))

    def to_dict(self) -> dict[str, Any]:
        """JSON form, keys in :data:`ENTRY_FIELDS` order; baseline as a pollutant mapping."""
        if len(self.baseline) == len(LIST_POLLUTANTS):
            baseline: Any = dict(zip(LIST_POLLUTANTS, self.baseline, strict=True))
        else:
            baseline = list(self.baseline)
        return {
            "enterprise_id": self.enterprise_id,
            "name": self.name,
            "name_en": self.name_en,
            "region": self.region,
            "industry": self.industry,
            "grade": self.grade,
            "guaranteed_supply": self.guaranteed_supply,
            "baseline": baseline,
            "overrides": {k: v.to_dict() for k, v in sorted(self.overrides.items())},
            "contact": self.contact,
            "lines": [line.to_dict() for line in self.lines],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Enterprise:
        """Read the JSON form (also a CSV row with ``baseline_so2`` … columns).

        The credit code is stripped and upper-cased; texts are stripped; numbers may be
        strings; an empty, ``NA`` or ``/`` baseline cell becomes NaN (reported by validation,
        never read as zero); a pollutant left out of a baseline mapping is 0. Flags accept
        true/false, 1/0, yes/no, 是/否. ``lines`` is a list of line objects (none if left out).
        """
        baseline = data.get("baseline")
        if baseline is None:
            baseline = [data.get(f"baseline_{p}", 0.0) for p in LIST_POLLUTANTS]
        elif isinstance(baseline, Mapping):
            baseline = [baseline.get(p, 0.0) for p in LIST_POLLUTANTS]
        overrides = data.get("overrides") or {}
        return cls(
            enterprise_id=_text(data, "enterprise_id").upper(),
            name=_text(data, "name"),
            name_en=_text(data, "name_en"),
            region=_text(data, "region"),
            industry=_text(data, "industry"),
            grade=_text(data, "grade"),
            guaranteed_supply=_flag(data.get("guaranteed_supply", False)),  # type: ignore[arg-type]
            baseline=tuple(baseline),  # type: ignore[arg-type]
            overrides=overrides,
            contact=_text(data, "contact"),
            lines=read_lines(data.get("lines")),
        )


def _text(data: Mapping[str, Any], name: str) -> str:
    """A text field, stripped; numbers (spreadsheet cells) read as text, anything else refused."""
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple | set):
        raise TypeError(f"{name} must be text, not {type(value).__name__}")
    return str(value).strip()


#: Entry fields in a stable order (CSV columns, diffs).
ENTRY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Enterprise))


def resolve_measure(catalog: Catalog, entry: Enterprise, level: Level | int | str) -> Measure:
    """The measure an entry takes at a level: the catalog's, with its override applied.

    Field by field: an overridden production cut replaces the catalog's, and the fractions and
    actions the entry does not override then follow the industry's rules at that cut (an
    operator who raises a plant's cut expects its reductions to rise with it); each overridden
    fraction replaces that pollutant's; overridden actions replace the whole list.

    Returns
    -------
    Measure
        :attr:`Measure.NONE` at ``Level.NONE``.

    Raises
    ------
    KeyError
        For an industry or grade the catalog does not know (validate the entry first).
    """
    level = Level.parse(level)
    if level is Level.NONE:
        return Measure.NONE
    override = entry.overrides.get(level.label)
    args = (entry.industry, entry.grade, bool(entry.guaranteed_supply), level)
    if override is None or override.production_cut is None:
        base = catalog.measure(*args)
    else:
        base = catalog.compose(*args, production_cut=override.production_cut)  # type: ignore[arg-type]
    if override is None:
        return base
    fractions: Sequence[float] = base.fractions
    if override.fractions is not None:
        own = override.fractions
        fractions = tuple(
            b if i >= len(own) or own[i] is None else own[i]  # type: ignore[misc]
            for i, b in enumerate(base.fractions)
        )
    actions = base.actions if override.actions is None else override.actions
    return Measure(base.production_cut, fractions, actions)  # type: ignore[arg-type]
