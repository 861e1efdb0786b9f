"""Required reductions of a region's list against its baseline and the minimum ratios."""

from __future__ import annotations

from pydantic import BaseModel, Field

from emission_list.regions import decode_state
from service.api.schemas.alerts import LevelName, ResponseName
from service.api.schemas.lists import by_pollutant
from service.services.board import ActionBoard


class RegionReductionsOut(BaseModel):
    """Totals over the region and every region under it [kg/day] by pollutant."""

    region: str
    level: LevelName
    response: ResponseName | None
    baseline: dict[str, float]
    required: dict[str, float]
    minimum: dict[str, float] = Field(
        description="Share of the baseline the level's minimum ratio asks for (10/20/30 %)."
    )
    shortfall: dict[str, float] = Field(description="How much the list falls short of it.")

    @classmethod
    def of(cls, board: ActionBoard, region: str) -> RegionReductionsOut:
        report = board.evaluator.region_report()
        i = board.tree.index[region]
        level, response = decode_state(int(report.state[i]))
        return cls(
            region=region,
            level=level.label,
            response=None if response is None else str(response),
            baseline=by_pollutant(report.baseline[i]),
            required=by_pollutant(report.required[i]),
            minimum=by_pollutant(report.minimum[i]),
            shortfall=by_pollutant(report.shortfall[i]),
        )
