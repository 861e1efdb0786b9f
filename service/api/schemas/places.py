"""API models of regions and monitoring stations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from emission_list.aqi_categories import CATEGORIES
from emission_list.i18n import Text, pick, text
from emission_list.samples import GAS_REFERENCE, PARTICLE_ACTUAL, Region, Station
from service.api.schemas.times import LocalInstant


def _bilingual(value: object) -> object:
    """A plain string names the place in both languages; one language fills the other."""
    if isinstance(value, str):
        value = {"zh-CN": value, "en": value}
    if isinstance(value, dict):
        if not all(isinstance(v, str) for v in value.values()):
            raise ValueError("each language's name is a string")
        zh = str(value.get("zh-CN") or "").strip()
        en = str(value.get("en") or "").strip()
        if not (zh or en) or set(value) - {"zh-CN", "en"}:
            raise ValueError('a name needs "zh-CN" and/or "en" (nothing else), not empty')
        if max(len(zh), len(en)) > 200:
            raise ValueError("a name has at most 200 characters")
        return text(zh or en, en or zh)
    return value


#: A place's name as documented: one string for both languages, or one text per language.
PlaceName = Annotated[
    Text,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
                {
                    "type": "object",
                    "properties": {
                        "zh-CN": {"type": "string", "maxLength": 200},
                        "en": {"type": "string", "maxLength": 200},
                    },
                    "minProperties": 1,
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class RegionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": {"zh-CN": "少先路街道", "en": "Shaoxian Road Subdistrict"},
                    "parent": "150203",
                    "kind": "subdistrict",
                }
            ]
        },
    )

    name: PlaceName = Field(description='{"zh-CN": ..., "en": ...}, or one string for both.')
    parent: str | None = Field(description="The parent region; null for a root.")
    kind: Literal["province", "city", "district", "subdistrict", "town"] = "subdistrict"
    requires_signoff: bool = Field(
        False,
        strict=True,
        description="Warnings decided from forecasts wait as proposals until an operator signs "
        "them off (POST /alerts/{region}/approve); applies to the regions under it too.",
    )

    _name = field_validator("name", mode="before")(_bilingual)

    def to_domain(self, region_id: str) -> Region:
        return Region(region_id, self.parent, dict(self.name), self.kind, self.requires_signoff)


class RegionOut(BaseModel):
    region_id: str
    name: str
    names: dict[str, str]
    parent: str | None
    kind: str
    requires_signoff: bool

    @classmethod
    def of(cls, region: Region, language: str) -> RegionOut:
        return cls(
            region_id=region.region_id,
            name=pick(region.name, language),
            names=dict(region.name),
            parent=region.parent,
            kind=region.kind,
            requires_signoff=region.requires_signoff,
        )


class StationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": {"zh-CN": "昆都仑区政府", "en": "Kundulun District Government"},
                    "lon": 109.82,
                    "lat": 40.66,
                    "region": "150203003",
                    "kind": "national",
                }
            ]
        },
    )

    name: PlaceName
    lon: float = Field(ge=-180, le=180, strict=True)
    lat: float = Field(ge=-90, le=90, strict=True)
    region: str
    kind: str = Field("national", max_length=16)
    gas_condition: Literal["reference", "actual"] = GAS_REFERENCE
    particle_condition: Literal["reference", "actual"] = PARTICLE_ACTUAL

    _name = field_validator("name", mode="before")(_bilingual)

    def to_domain(self, station_id: str) -> Station:
        return Station(
            station_id,
            dict(self.name),
            self.lon,
            self.lat,
            self.region,
            self.kind,
            self.gas_condition,
            self.particle_condition,
        )


class StationOut(BaseModel):
    station_id: str
    name: str
    names: dict[str, str]
    lon: float
    lat: float
    region: str
    kind: str
    gas_condition: str
    particle_condition: str

    @classmethod
    def of(cls, station: Station, language: str) -> StationOut:
        return cls(
            station_id=station.station_id,
            name=pick(station.name, language),
            names=dict(station.name),
            lon=station.lon,
            lat=station.lat,
            region=station.region,
            kind=station.kind,
            gas_condition=station.gas_condition,
            particle_condition=station.particle_condition,
        )


class AqiOut(BaseModel):
    """One AQI: the hour's (1h) or the 24 hours' ending at ``observed_at``."""

    observed_at: LocalInstant
    aqi: int | None
    category: int = Field(description="1 (excellent) .. 6 (severe); 0 when there is no AQI.")
    category_name: str
    primary: list[str]
    iaqi: dict[str, float | None]
    edition: str

    @classmethod
    def of(
        cls,
        observed_at: dt.datetime,
        aqi: int | None,
        category: int,
        primary: str,
        iaqi: dict[str, float | None],
        edition: str,
        language: str,
    ) -> AqiOut:
        """``primary`` as stored: pollutants joined by ``;``."""
        return cls(
            observed_at=observed_at,
            aqi=aqi,
            category=category,
            category_name=pick(CATEGORIES[category - 1].name, language) if category > 0 else "",
            primary=[p for p in primary.split(";") if p],
            iaqi=iaqi,
            edition=edition,
        )


class RegionResultOut(AqiOut):
    """A region's AQI, scored from ``means``: the mean concentrations of its stations."""

    means: dict[str, float | None] = Field(
        description="Mean concentrations over the stations counted [µg/m³; mg/m³ for CO]: "
        "hourly values, or 24-hour means with o3_8h (moving) and o3_8h_max."
    )
    stations: int = Field(description="Stations with a value that entered the means.")

    @classmethod
    def of_row(cls, row: Any, language: str) -> RegionResultOut:
        base = AqiOut.of(
            row.observed_at, row.aqi, row.category, row.primary, row.iaqi, row.edition, language
        )
        return cls(**base.model_dump(), means=row.means, stations=row.stations)


class RegionAqiOut(BaseModel):
    region: str
    hourly: RegionResultOut | None = Field(description="The latest hour with a reading.")
    daily: RegionResultOut | None = Field(
        description="The 24-hour AQI ending at the latest hour with a reading (null when "
        "there is none); its `aqi` is null while too few hours are valid."
    )


class StationAqiOut(BaseModel):
    station_id: str
    hourly: AqiOut | None
    daily: AqiOut | None = Field(
        description="The 24-hour AQI ending at the latest hour (null when there is none); "
        "its `aqi` is null while too few hours are valid (20 of 24: see daily_missing)."
    )
    daily_missing: list[str] = Field(description="Pollutants without a valid 24-hour value.")
