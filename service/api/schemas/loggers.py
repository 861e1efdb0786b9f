"""API models of the HJ 212 data loggers registered for the gateway."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.telemetry.units import TABLE_B2_UNITS, UNIT_SPELLINGS, canonical_unit

LoggerKind = Literal["station", "meter", "cems"]
#: An MN: the standard's 24 hex characters, or the shorter ids real devices send.
MN_PATTERN = r"^[0-9A-Za-z_-]{1,32}$"
Code = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[0-9A-Za-z_]+$")]


class LoggerIn(BaseModel):
    """A data logger the gateway accepts: a monitoring station's (``station_id``), or an
    enterprise's power meter or stack monitor (CEMS) (``enterprise_id``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "station",
                    "station_id": "1502A01",
                    "password": "123456",
                    "units": {"a34004": "µg/m³", "a34002": "µg/m³", "a21026": "µg/m³"},
                },
                {
                    "kind": "meter",
                    "enterprise_id": "91150200473LLG4A5A",
                    "password": "123456",
                },
            ]
        },
    )

    kind: LoggerKind
    station_id: str | None = Field(None, min_length=1, max_length=32)
    enterprise_id: str | None = Field(None, min_length=1, max_length=32)
    password: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[\x21-\x3a\x3c-\x7e]+$",  # printable ASCII but ';' (it ends the field)
        description="The logger's PW; only its SHA-256 is kept.",
    )
    units: dict[Code, str] = Field(
        default_factory=dict,
        max_length=64,
        description="Unit of each pollutant code the device sends; a code left out takes "
        "HJ 212-2017 Table B.2's (particles ng/m³, gases mg/m³). Accepted: "
        + ", ".join(sorted(set(UNIT_SPELLINGS.values()))),
    )
    timezone: str = Field(
        "",
        max_length=40,
        description="IANA zone of the logger's DataTime; empty = HAZE_GATEWAY_TIMEZONE.",
    )
    note: str = Field("", max_length=500)

    @field_validator("units")
    @classmethod
    def _known_units(cls, units: dict[str, str]) -> dict[str, str]:
        out = {}
        for code, unit in units.items():
            canonical = canonical_unit(unit)
            if canonical is None:
                raise ValueError(f"unknown unit {unit!r} for {code}")
            out[code] = canonical
        return out

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        if zone and zone not in available_timezones():
            raise ValueError(f"unknown time zone {zone!r} (an IANA name, e.g. Asia/Shanghai)")
        return zone


class LoggerOut(BaseModel):
    mn: str
    kind: LoggerKind
    station_id: str | None
    enterprise_id: str | None
    units: dict[str, str] = Field(description="As registered.")
    effective_units: dict[str, str] = Field(
        description="The unit each known code is read in: the registration's, else Table B.2's."
    )
    timezone: str
    note: str
    updated_at: dt.datetime
    updated_by: str


def effective_units(units: dict[str, str]) -> dict[str, str]:
    return {**TABLE_B2_UNITS, **units}
