"""Compile a published list revision into the struct-of-arrays form the evaluator runs on.

Every enterprise gets a *policy*: the row of a small measure table holding its production cut,
reduction fractions and actions for each of the ten warning states (see
:func:`emission_list.regions.state_code`). Enterprises that share industry, grade and
guaranteed-supply flag and have no override of their own share a policy, so the table stays
small (hundreds of rows) whatever the size of the list; an entry with an override gets a policy
of its own (one plant, one policy).

Enterprises are sorted by region in the tree's preorder, so the enterprises under any region
form one contiguous slice: ``region_start[i] : region_start[tree.subtree_end[i]]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from emission_list.catalog import Action, Catalog, Measure
from emission_list.entries import Enterprise, MeasureOverride, resolve_measure
from emission_list.levels import LIST_POLLUTANTS, Level
from emission_list.regions import N_STATES, RegionTree, decode_state
from emission_list.response import apply_response
from emission_list.revisions import Revision


@dataclass(frozen=True)
class MeasureTable:
    """Measures by key ``policy * N_STATES + state``: production cut and the reduction
    fraction of each list pollutant (so2, nox, pm, vocs), both as fractions, and the actions."""

    cut: np.ndarray  # (n_policies * N_STATES,) float64
    fractions: np.ndarray  # (n_policies * N_STATES, 4) float64
    actions: tuple[tuple[Action, ...], ...]  # by key

    @property
    def n_policies(self) -> int:
        return len(self.actions) // N_STATES


@dataclass(frozen=True)
class ListColumns:
    """A list as columns, in any order (the compiler sorts it).

    ``overrides`` maps a row number to that entry's per-level overrides.
    """

    enterprise_id: np.ndarray  # (n,) str
    region: np.ndarray  # (n,) str region ids
    industry: np.ndarray  # (n,) str
    grade: np.ndarray  # (n,) str
    guaranteed_supply: np.ndarray  # (n,) bool
    baseline: np.ndarray  # (n, 4) float64 [kg/day], columns as LIST_POLLUTANTS
    overrides: Mapping[int, Mapping[str, MeasureOverride]]

    @classmethod
    def from_entries(cls, entries: Sequence[Enterprise]) -> ListColumns:
        def column(name: str, dtype: object = object) -> np.ndarray:
            return _array([getattr(e, name) for e in entries], dtype)

        baseline = np.zeros((len(entries), len(LIST_POLLUTANTS)), dtype=np.float64)
        for start in range(0, len(entries), CHUNK):
            part = entries[start : start + CHUNK]
            baseline[start : start + len(part)] = [e.baseline for e in part]
        return cls(
            enterprise_id=column("enterprise_id", str),
            region=column("region", str),
            industry=column("industry", str),
            grade=column("grade", str),
            guaranteed_supply=column("guaranteed_supply", bool),
            baseline=baseline,
            overrides={i: e.overrides for i, e in enumerate(entries) if e.overrides},
        )


#: Rows per call where one call holds the GIL for every row (numpy over strings and lists,
#: sets): a board built in a thread then lets the event loop run between chunks (~ms each).
CHUNK = 5_000


def _array(values: Sequence[object], dtype: object) -> np.ndarray:
    """``np.array(values, dtype)``, filled ``CHUNK`` values at a time."""
    if dtype is str:
        width = max(map(len, values), default=1)  # type: ignore[arg-type]
        dtype = f"<U{max(width, 1)}"
    out = np.empty(len(values), dtype=dtype)  # type: ignore[call-overload]
    for start in range(0, len(values), CHUNK):
        out[start : start + CHUNK] = values[start : start + CHUNK]
    return out


@dataclass(frozen=True)
class CompiledList:
    """A revision compiled for evaluation; rows sorted by region preorder."""

    revision: int
    tree: RegionTree
    enterprise_ids: np.ndarray  # (n,) str
    region: np.ndarray  # (n,) int32 preorder region index, ascending
    policy_key: np.ndarray  # (n,) int32: policy * N_STATES
    baseline: np.ndarray  # (n, 4) float64 [kg/day]
    region_start: np.ndarray  # (R + 1,) int64: region i's own rows are [start[i], start[i+1])
    region_baseline: np.ndarray  # (R, 4) float64: baseline of each region's whole subtree
    table: MeasureTable

    def __len__(self) -> int:
        return len(self.enterprise_ids)

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Row of each enterprise id (built on first use)."""
        row_of: dict[str, int] = {}
        for start in range(0, len(self.enterprise_ids), CHUNK):  # see CHUNK
            part = self.enterprise_ids[start : start + CHUNK].tolist()
            row_of.update(zip(part, range(start, start + len(part)), strict=True))
        return row_of

    @cached_property
    def region_counts(self) -> np.ndarray:
        """Number of enterprises directly in each region."""
        return np.diff(self.region_start)

    def rows_under(self, region_index: int) -> slice:
        """Rows of every enterprise in a region's subtree."""
        end = int(self.tree.subtree_end[region_index])
        return slice(int(self.region_start[region_index]), int(self.region_start[end]))


def _tolist(values: np.ndarray) -> list:
    """``values.tolist()``, ``CHUNK`` values at a time."""
    out: list = []
    for start in range(0, len(values), CHUNK):
        out += values[start : start + CHUNK].tolist()
    return out


def _measures_by_state(measure_at: Mapping[Level, Measure]) -> list[Measure]:
    out = []
    for code in range(N_STATES):
        level, response = decode_state(code)
        out.append(
            Measure.NONE if level is Level.NONE else apply_response(measure_at[level], response)
        )
    return out


def _build_table(policies: Sequence[Mapping[Level, Measure]]) -> MeasureTable:
    cut = np.zeros(len(policies) * N_STATES)
    fractions = np.zeros((len(policies) * N_STATES, len(LIST_POLLUTANTS)))
    actions: list[tuple[Action, ...]] = []
    for p, measure_at in enumerate(policies):
        for s, measure in enumerate(_measures_by_state(measure_at)):
            cut[p * N_STATES + s] = measure.production_cut
            fractions[p * N_STATES + s] = measure.fractions
            actions.append(tuple(measure.actions))
    return MeasureTable(cut=cut, fractions=fractions, actions=tuple(actions))


_WARNING_LEVELS = (Level.YELLOW, Level.ORANGE, Level.RED)


def compile_columns(
    columns: ListColumns, catalog: Catalog, tree: RegionTree, revision: int = 0
) -> CompiledList:
    """Compile a list given as columns.

    Raises
    ------
    KeyError
        When an entry names a region missing from ``tree`` (validate the revision first).
    """
    index = tree.index
    region_index = _array([index[r] for r in _tolist(columns.region)], np.int32)
    # Group by (industry, grade, supply); labels in sorted order number the policies.
    group_label = [
        f"{industry}\x1f{grade}\x1fS" if supply else f"{industry}\x1f{grade}"
        for industry, grade, supply in zip(
            _tolist(columns.industry),
            _tolist(columns.grade),
            _tolist(columns.guaranteed_supply),
            strict=True,
        )
    ]
    distinct: set[str] = set()
    for start in range(0, len(group_label), CHUNK):  # see CHUNK
        distinct.update(group_label[start : start + CHUNK])
    labels = sorted(distinct)
    number = {label: i for i, label in enumerate(labels)}
    group = _array([number[label] for label in group_label], np.int64)

    policies: list[Mapping[Level, Measure]] = []
    for label in labels:
        industry, grade, *supply = label.split("\x1f")
        policies.append(
            {lvl: catalog.measure(industry, grade, bool(supply), lvl) for lvl in _WARNING_LEVELS}
        )
    policy = group.astype(np.int32)
    for row, overrides in sorted(columns.overrides.items()):
        entry = Enterprise(
            enterprise_id=str(columns.enterprise_id[row]),
            name="",
            name_en="",
            region=str(columns.region[row]),
            industry=str(columns.industry[row]),
            grade=str(columns.grade[row]),
            guaranteed_supply=bool(columns.guaranteed_supply[row]),
            overrides=overrides,
        )
        policy[row] = len(policies)
        policies.append({lvl: resolve_measure(catalog, entry, lvl) for lvl in _WARNING_LEVELS})

    order = np.argsort(region_index, kind="stable")
    region_sorted = region_index[order]
    baseline = np.ascontiguousarray(columns.baseline[order], dtype=np.float64)
    region_start = np.searchsorted(region_sorted, np.arange(len(tree) + 1)).astype(np.int64)

    return CompiledList(
        revision=revision,
        tree=tree,
        enterprise_ids=columns.enterprise_id[order],
        region=region_sorted,
        policy_key=(policy[order] * N_STATES).astype(np.int32),
        baseline=baseline,
        region_start=region_start,
        region_baseline=tree.subtree_sums(region_sums(baseline, region_start)),
        table=_build_table(policies),
    )


def compile_revision(revision: Revision, catalog: Catalog, tree: RegionTree) -> CompiledList:
    """Compile a list revision (its entries and number)."""
    columns = ListColumns.from_entries(revision.entries)
    return compile_columns(columns, catalog, tree, revision=revision.number)


def region_sums(values: np.ndarray, region_start: np.ndarray) -> np.ndarray:
    """Sum rows of ``values`` (sorted by region) over each region's own rows."""
    counts = np.diff(region_start)
    out = np.zeros((len(counts), *values.shape[1:]))
    nonempty = counts > 0
    if nonempty.any():
        out[nonempty] = np.add.reduceat(values, region_start[:-1][nonempty], axis=0)
    return out
