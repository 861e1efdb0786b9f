"""Vectorised evaluation of a compiled list under the warning states of its regions.

Given the state each region's own warning puts it in, :class:`Evaluator` computes for every
enterprise its effective state (highest of its region and ancestors), production cut,
required reduction of each pollutant [kg/day] and which actions apply; and for every region
the required reductions of its subtree against its baseline and the minimum ratios of its
level, with any shortfall.

A full evaluation is a handful of whole-array numpy passes: spread each region's effective
state over its contiguous rows (``np.repeat``), add it to the policy key, gather the measure
row, multiply by the baseline. :meth:`Evaluator.update` redoes only the rows of regions whose
effective state changed and returns the rows whose actions changed.

References
----------
环大气〔2024〕6号 (warning levels and minimum reductions of 10 %, 20 %, 30 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emission_list.catalog import Action
from emission_list.compiler import CompiledList, region_sums
from emission_list.levels import LIST_POLLUTANTS, Level, Response
from emission_list.regions import STATE_LEVEL, decode_state
from emission_list.response import MinimumReductions, default_minimum_reductions

_N_POLLUTANTS = len(LIST_POLLUTANTS)


@dataclass(frozen=True)
class Update:
    """What an incremental re-evaluation did."""

    changed_rows: np.ndarray  # rows whose state, and so actions, changed
    touched_rows: int  # rows re-evaluated
    changed_regions: np.ndarray  # preorder indices of regions whose effective state changed


@dataclass(frozen=True)
class RegionReport:
    """Per-region totals of the subtree, shape ``(R, 4)`` unless said otherwise [kg/day]."""

    state: np.ndarray  # (R,) effective state code
    baseline: np.ndarray
    required: np.ndarray
    minimum: np.ndarray
    shortfall: np.ndarray

    @property
    def level(self) -> np.ndarray:
        return STATE_LEVEL[self.state]


@dataclass(frozen=True)
class EnterpriseActions:
    """What one enterprise must do now."""

    enterprise_id: str
    level: Level
    response: Response | None
    production_cut: float
    reductions: dict[str, float]  # [kg/day] by list pollutant
    actions: tuple[Action, ...]


class Evaluator:
    """Evaluation state of one compiled list; reuses its output buffers between runs."""

    def __init__(self, compiled: CompiledList, minimums: MinimumReductions | None = None) -> None:
        self.compiled = compiled
        n, n_regions = len(compiled), len(compiled.tree)
        self._min_ratio = (minimums or default_minimum_reductions()).ratio_array()
        self.own_states = np.zeros(n_regions, dtype=np.int8)
        self.region_state = np.zeros(n_regions, dtype=np.int8)
        self.state = np.zeros(n, dtype=np.int8)
        self.key = np.zeros(n, dtype=np.int32)
        self.production_cut = np.zeros(n)
        self.reductions = np.zeros((n, _N_POLLUTANTS))
        self._region_required = np.zeros((n_regions, _N_POLLUTANTS))
        self.evaluate(self.own_states)

    @property
    def level(self) -> np.ndarray:
        """Effective warning level of every row."""
        return STATE_LEVEL[self.state]

    def evaluate(self, own_states: np.ndarray) -> None:
        """Evaluate every enterprise under the regions' own states (preorder state codes)."""
        compiled = self.compiled
        self.own_states = np.asarray(own_states, dtype=np.int8).copy()
        self.region_state = compiled.tree.effective_states(self.own_states)
        self._evaluate_rows(slice(0, len(compiled)), self.region_state, compiled.region_counts)
        self._region_required = region_sums(self.reductions, compiled.region_start)

    def update(self, own_states: np.ndarray) -> Update:
        """Re-evaluate only the enterprises of regions whose effective state changed."""
        compiled = self.compiled
        own_states = np.asarray(own_states, dtype=np.int8)
        new_region_state = compiled.tree.effective_states(own_states)
        changed_regions = np.flatnonzero(new_region_state != self.region_state)
        self.own_states = own_states.copy()
        self.region_state = new_region_state
        changed: list[np.ndarray] = []
        touched = 0
        for first, last in _runs(changed_regions):
            start, stop = int(compiled.region_start[first]), int(compiled.region_start[last + 1])
            if start == stop:
                continue
            rows = slice(start, stop)
            old_key = self.key[rows].copy()
            counts = compiled.region_counts[first : last + 1]
            self._evaluate_rows(rows, new_region_state[first : last + 1], counts)
            changed.append(np.flatnonzero(self.key[rows] != old_key) + start)
            touched += stop - start
            self._region_required[first : last + 1] = region_sums(
                self.reductions[rows], compiled.region_start[first : last + 2] - start
            )
        changed_rows = np.concatenate(changed) if changed else np.zeros(0, dtype=np.int64)
        return Update(changed_rows, touched, changed_regions)

    def _evaluate_rows(self, rows: slice, region_state: np.ndarray, counts: np.ndarray) -> None:
        state = self.state[rows]
        state[...] = np.repeat(region_state, counts)
        key = self.key[rows]
        np.add(self.compiled.policy_key[rows], state, out=key)
        table = self.compiled.table
        # mode="clip" lets numpy gather straight into the output (keys are always in range).
        np.take(table.cut, key, out=self.production_cut[rows], mode="clip")
        reductions = self.reductions[rows]
        np.take(table.fractions, key, axis=0, out=reductions, mode="clip")
        np.multiply(reductions, self.compiled.baseline[rows], out=reductions)

    def region_report(self) -> RegionReport:
        """Required reductions of every region's subtree against baseline and minimums."""
        tree = self.compiled.tree
        required = tree.subtree_sums(self._region_required)
        level, response_rank = _level_and_rank(self.region_state)
        minimum = self.compiled.region_baseline * self._min_ratio[level, response_rank]
        shortfall = np.maximum(minimum - required, 0.0)
        return RegionReport(
            state=self.region_state.copy(),
            baseline=self.compiled.region_baseline,
            required=required,
            minimum=minimum,
            shortfall=shortfall,
        )

    def actions_of(self, row: int) -> EnterpriseActions:
        """The required actions of the enterprise in ``row``."""
        level, response = decode_state(int(self.state[row]))
        return EnterpriseActions(
            enterprise_id=str(self.compiled.enterprise_ids[row]),
            level=level,
            response=response,
            production_cut=float(self.production_cut[row]),
            reductions=dict(zip(LIST_POLLUTANTS, self.reductions[row].tolist(), strict=True)),
            actions=self.compiled.table.actions[int(self.key[row])],
        )


def _level_and_rank(state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level and response rank (advisory 0, o3 1, full 2) of state codes."""
    level = STATE_LEVEL[state].astype(np.intp)
    rank = np.where(level > 0, (state.astype(np.intp) + 2) % 3, 0)
    return level, rank


def _runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of consecutive integers in sorted ``indices`` as (first, last) pairs."""
    if len(indices) == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1)
    firsts = np.concatenate(([indices[0]], indices[breaks + 1]))
    lasts = np.concatenate((indices[breaks], [indices[-1]]))
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))
