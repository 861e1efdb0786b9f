"""What an enterprise must do now: the answer of ``GET /enterprises/{id}/actions``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from emission_list.i18n import pick
from emission_list.levels import LIST_POLLUTANTS
from service.api.schemas.alerts import LevelName, ResponseName
from service.api.schemas.times import LocalInstant
from service.services.board import BoardAnswer


class ActionOut(BaseModel):
    code: str
    text: str
    pollutants: list[str]


class AlertRef(BaseModel):
    region: str
    level: LevelName
    source: str
    issued_at: LocalInstant | None
    reason: str


class EnterpriseActionsOut(BaseModel):
    """The level in force for the enterprise and what it must cut, from when until when."""

    enterprise_id: str
    level: LevelName
    response: ResponseName | None = Field(description="full, o3 (NOx and VOC measures), advisory")
    alert: AlertRef | None = Field(description="The warning the level comes from.")
    list_revision: int
    production_cut: float = Field(description="Fraction of production to stop, 0..1.")
    reductions_kg_per_day: dict[str, float] = Field(
        description="Required reduction per pollutant [kg/day]: so2, nox, pm, vocs."
    )
    actions: list[ActionOut]
    valid_from: LocalInstant | None
    valid_until: LocalInstant | None

    @classmethod
    def of(cls, answer: BoardAnswer, language: str) -> EnterpriseActionsOut:
        actions, alert = answer.actions, answer.alert
        return cls(
            enterprise_id=actions.enterprise_id,
            level=actions.level.label,
            response=None if actions.response is None else str(actions.response),
            alert=None
            if alert is None
            else AlertRef(
                region=alert.region,
                level=alert.level.label,
                source=alert.source,
                issued_at=alert.issued_at,
                reason=pick(alert.reason, language),
            ),
            list_revision=answer.revision,
            production_cut=round(actions.production_cut, 6),
            reductions_kg_per_day={p: round(actions.reductions[p], 3) for p in LIST_POLLUTANTS},
            actions=[
                ActionOut(code=a.code, text=pick(a.text, language), pollutants=list(a.pollutants))
                for a in actions.actions
            ],
            valid_from=None if alert is None else alert.starts_at,
            valid_until=None if alert is None else alert.ends_at,
        )
