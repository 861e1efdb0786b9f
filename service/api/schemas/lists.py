"""API models of the emission-reduction list and its revisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from emission_list.entries import Enterprise
from emission_list.i18n import pick
from emission_list.levels import LIST_POLLUTANTS
from emission_list.revisions import RevisionDiff
from emission_list.validation import FieldError
from service.api.schemas.inputs import Day
from service.api.schemas.times import LocalInstant
from service.storage.repositories.lists import RevisionInfo

ENTRY_EXAMPLE: dict[str, Any] = {
    "enterprise_id": "91150203MA0N2K3X8P",
    "name": "包头市示例钢铁有限公司",
    "name_en": "Baotou Example Steel Co., Ltd.",
    "region": "150203003",
    "industry": "steel",
    "grade": "B",
    "guaranteed_supply": False,
    "baseline": {"so2": 820.0, "nox": 1460.0, "pm": 390.0, "vocs": 120.0},
    "overrides": {"red": {"production_cut": 0.5}},
    "contact": "0472-0000000",
    "lines": [
        {
            "line_id": "P1",
            "kind": "production",
            "name": "1号烧结机",
            "name_en": "Sintering machine No. 1",
            "rated_kw": 9800.0,
            "logger": "010000A8900016F000169DC0",
            "channel": "e101",
            "serves": [],
        },
        {
            "line_id": "C1",
            "kind": "control",
            "name": "1号烧结机脱硫脱硝",
            "name_en": "Desulphurisation and denitration of sintering machine No. 1",
            "rated_kw": 2600.0,
            "logger": "010000A8900016F000169DC0",
            "channel": "e201",
            "serves": ["P1"],
        },
    ],
}
#: What the entry document's ``lines`` hold (shown in the API's documentation).
LINES_DOC = (
    "`lines`: the enterprise's metered lines (分表计电), each `{line_id, kind: production|"
    "control, name, name_en, rated_kw [kW, > 0], logger (MN of the data logger), channel (the "
    "item code of the line's active power [kW] in that logger's packets, e.g. `e101` for "
    "`e101-Rtd=812.4`; one line per logger channel across the list), serves (a control line: "
    "the production line ids it treats)}`; empty for none."
)


class ListItemOut(BaseModel):
    enterprise_id: str = Field(description="Unified social credit code.")
    name: str
    region: str
    industry: str
    grade: str

    @classmethod
    def of(cls, entry: Enterprise, language: str) -> ListItemOut:
        name = entry.name_en if language == "en" and entry.name_en else entry.name
        return cls(
            enterprise_id=entry.enterprise_id,
            name=name,
            region=entry.region,
            industry=entry.industry,
            grade=entry.grade,
        )


class ListPage(BaseModel):
    revision: int
    items: list[ListItemOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class EntryOut(BaseModel):
    """An entry in full: the fields of ``PUT /list/revisions/{n}/enterprises/{id}``."""

    revision: int
    entry: dict[str, Any] = Field(examples=[ENTRY_EXAMPLE], description=LINES_DOC)


class EntryProblem(BaseModel):
    index: int
    enterprise_id: str
    field: str
    code: str
    message: str

    @classmethod
    def of(cls, error: FieldError, language: str) -> EntryProblem:
        return cls(
            index=error.index,
            enterprise_id=error.enterprise_id,
            field=error.field,
            code=error.code,
            message=pick(error.message, language),
        )


class EntryStored(BaseModel):
    revision: int
    enterprise_id: str
    created: bool
    problems: list[EntryProblem] = Field(
        description="What publishing would refuse in this entry (the draft keeps it meanwhile)."
    )


class RevisionOut(BaseModel):
    number: int
    base: int | None
    status: str
    effective_from: dt.date
    author: str
    note: str | dict[str, str]
    created_at: LocalInstant
    published_at: LocalInstant | None
    entries: int

    @classmethod
    def of(cls, info: RevisionInfo) -> RevisionOut:
        return cls.model_validate(info, from_attributes=True)


class DraftIn(BaseModel):
    note: str = Field("", max_length=2000, examples=["2027 annual revision"])


class PublishIn(BaseModel):
    effective_from: Day | None = Field(None, description="Default: today.")


class DiffOut(BaseModel):
    revision: int
    base: int | None
    added: list[str]
    removed: list[str]
    changed: dict[str, dict[str, dict[str, Any]]] = Field(
        description='{enterprise_id: {field: {"old": ..., "new": ...}}}'
    )

    @classmethod
    def of(cls, number: int, base: int | None, diff: RevisionDiff) -> DiffOut:
        return cls(
            revision=number,
            base=base,
            added=list(diff.added),
            removed=list(diff.removed),
            changed={
                eid: {f: {"old": old, "new": new} for f, (old, new) in fields.items()}
                for eid, fields in diff.changed.items()
            },
        )


class PreviewEnterprise(BaseModel):
    enterprise_id: str
    production_cut: float
    reductions_kg_per_day: dict[str, float]


class PreviewOut(BaseModel):
    """What the revision would require if ``region`` were at ``level`` (full response)."""

    revision: int
    region: str
    level: str
    enterprises: int
    baseline: dict[str, float]
    required: dict[str, float]
    minimum: dict[str, float]
    shortfall: dict[str, float]
    items: list[PreviewEnterprise] = Field(description="Enterprises under the region, by id.")


def by_pollutant(values: Any) -> dict[str, float]:
    return {p: round(float(v), 3) for p, v in zip(LIST_POLLUTANTS, values, strict=True)}
