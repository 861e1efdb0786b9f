"""What a warning's response leaves of a measure, and the minimum reductions of the list.

A PM2.5-driven warning orders the list's full measures. An O3-driven warning orders only the
measures against ozone's precursors: the NOx and VOC fractions stand, SO2 and PM fall to zero,
no production cut is ordered, and only the actions tagged with NOx or VOCs remain. Dust, fire
and transported pollution get health advice only: nothing is cut.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import numpy as np

from emission_list.catalog import Measure
from emission_list.levels import LIST_POLLUTANTS, O3_RESPONSE_POLLUTANTS, Level, Response


@dataclass(frozen=True)
class MinimumReductions:
    """Minimum share of a region's baseline the list must cut, per level and response."""

    ratios: dict[Level, float]
    pollutants_by_response: dict[Response, tuple[str, ...]]

    def ratio_array(self) -> np.ndarray:
        """Minimum ratios of shape ``(len(Level), 3 responses, 4 pollutants)``.

        Indexed ``[level, response rank (advisory, o3, full), pollutant]``.
        """
        out = np.zeros((len(Level), 3, len(LIST_POLLUTANTS)))
        for rank, response in enumerate((Response.ADVISORY, Response.O3, Response.FULL)):
            mask = np.isin(LIST_POLLUTANTS, self.pollutants_by_response.get(response, ()))
            for level, ratio in self.ratios.items():
                out[level, rank, mask] = ratio
        return out

    @classmethod
    def from_dict(cls, data: dict) -> MinimumReductions:
        return cls(
            ratios={Level.parse(k): float(v) for k, v in data["ratios"].items()},
            pollutants_by_response={
                Response(k): tuple(v) for k, v in data["pollutants_by_response"].items()
            },
        )


@cache
def default_minimum_reductions() -> MinimumReductions:
    """The national minimums (10 %, 20 %, 30 % at yellow, orange, red), from package data."""
    raw = resources.files("emission_list.data").joinpath("minimum_reductions.json").read_text()
    return MinimumReductions.from_dict(json.loads(raw))


def apply_response(measure: Measure, response: Response | str | None) -> Measure:
    """The part of ``measure`` a warning with ``response`` orders."""
    response = Response(response) if response is not None else Response.FULL
    if response is Response.FULL:
        return measure
    if response is Response.ADVISORY:
        return Measure.NONE
    keep = tuple(p in O3_RESPONSE_POLLUTANTS for p in LIST_POLLUTANTS)
    return replace(
        measure,
        production_cut=0.0,
        fractions=tuple(f if k else 0.0 for f, k in zip(measure.fractions, keep, strict=True)),
        actions=tuple(
            a for a in measure.actions if set(O3_RESPONSE_POLLUTANTS) & set(a.pollutants)
        ),
    )
