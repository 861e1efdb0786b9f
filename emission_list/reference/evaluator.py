"""Plain scalar reference of the list evaluation: one enterprise at a time, in pure Python.

Written from the rules, not from the vectorised code: it walks each enterprise's region chain,
resolves its measure from the catalog, and adds up per region with dictionaries. Tests compare
:mod:`emission_list.evaluator` against it; ``bench.evaluator`` times it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from emission_list.catalog import Action, Catalog
from emission_list.entries import Enterprise, resolve_measure
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.response import MinimumReductions, apply_response, default_minimum_reductions

#: A region's own warning: (level, response).
Warning = tuple[Level, Response]
_PRECEDENCE = {Response.ADVISORY: 0, Response.O3: 1, Response.FULL: 2}


@dataclass(frozen=True)
class ReferenceResult:
    level: Level
    response: Response | None
    production_cut: float
    reductions: tuple[float, ...]  # [kg/day] as LIST_POLLUTANTS
    actions: tuple[Action, ...]


def effective_warning(
    region: str, parents: Mapping[str, str | None], own: Mapping[str, Warning]
) -> tuple[Level, Response | None]:
    """Highest warning of a region and its ancestors (at equal level full > o3 > advisory)."""
    best: tuple[Level, Response | None] = (Level.NONE, None)
    node: str | None = region
    while node is not None:
        level, response = own.get(node, (Level.NONE, None))
        if level > best[0] or (
            level == best[0] > Level.NONE and _PRECEDENCE[response] > _PRECEDENCE[best[1]]
        ):
            best = (level, response)
        node = parents[node]
    return best


def evaluate_entry(
    entry: Enterprise,
    catalog: Catalog,
    parents: Mapping[str, str | None],
    own: Mapping[str, Warning],
) -> ReferenceResult:
    level, response = effective_warning(entry.region, parents, own)
    if level is Level.NONE:
        return ReferenceResult(level, None, 0.0, (0.0,) * len(LIST_POLLUTANTS), ())
    measure = apply_response(resolve_measure(catalog, entry, level), response)
    reductions = tuple(b * f for b, f in zip(entry.baseline, measure.fractions, strict=True))
    return ReferenceResult(level, response, measure.production_cut, reductions, measure.actions)


def evaluate_list(
    entries: Sequence[Enterprise],
    catalog: Catalog,
    parents: Mapping[str, str | None],
    own: Mapping[str, Warning],
) -> dict[str, ReferenceResult]:
    """Every enterprise's result, by enterprise id."""
    return {e.enterprise_id: evaluate_entry(e, catalog, parents, own) for e in entries}


def region_totals(
    entries: Sequence[Enterprise],
    results: Mapping[str, ReferenceResult],
    parents: Mapping[str, str | None],
    own: Mapping[str, Warning],
    minimums: MinimumReductions | None = None,
) -> dict[str, dict[str, tuple[float, ...]]]:
    """Per region: ``baseline``, ``required``, ``minimum``, ``shortfall`` of its subtree."""
    minimums = minimums or default_minimum_reductions()
    zero = (0.0,) * len(LIST_POLLUTANTS)
    baseline = dict.fromkeys(parents, zero)
    required = dict.fromkeys(parents, zero)
    for entry in entries:
        node: str | None = entry.region
        while node is not None:
            baseline[node] = tuple(
                a + b for a, b in zip(baseline[node], entry.baseline, strict=True)
            )
            required[node] = tuple(
                a + b
                for a, b in zip(
                    required[node], results[entry.enterprise_id].reductions, strict=True
                )
            )
            node = parents[node]
    out = {}
    for region in parents:
        level, response = effective_warning(region, parents, own)
        covered = minimums.pollutants_by_response.get(response, ()) if response else ()
        ratio = minimums.ratios.get(level, 0.0)
        minimum = tuple(
            b * ratio if p in covered else 0.0
            for b, p in zip(baseline[region], LIST_POLLUTANTS, strict=True)
        )
        shortfall = tuple(max(m - r, 0.0) for m, r in zip(minimum, required[region], strict=True))
        out[region] = {
            "baseline": baseline[region],
            "required": required[region],
            "minimum": minimum,
            "shortfall": shortfall,
        }
    return out
