"""API models of hourly readings."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.inputs import Stamp

POLLUTANT_FIELDS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "o3", "co")


class ReadingIn(BaseModel):
    """One station-hour; any pollutant may be missing (null or absent)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "station_id": "1502A01",
                    "observed_at": "2026-12-05T14:00:00+08:00",
                    "pm25": 168,
                    "pm10": 231,
                    "so2": 42,
                    "no2": 71,
                    "o3": 18,
                    "co": 2.4,
                }
            ]
        },
    )

    station_id: str = Field(min_length=1, max_length=32)
    observed_at: Stamp = Field(  # its range: service.services.reading_rules (codes)
        description="ISO 8601 with offset; the hour the value ends (14:00 covers 13:00-14:00)."
    )
    pm25: float | None = Field(None, strict=True, description="PM2.5 [µg/m³], actual conditions")
    pm10: float | None = Field(None, strict=True, description="PM10 [µg/m³], actual conditions")
    so2: float | None = Field(None, strict=True, description="SO2 [µg/m³], reference conditions")
    no2: float | None = Field(None, strict=True, description="NO2 [µg/m³], reference conditions")
    o3: float | None = Field(None, strict=True, description="O3 [µg/m³], reference conditions")
    co: float | None = Field(None, strict=True, description="CO [mg/m³], reference conditions")


class RejectedRow(BaseModel):
    index: int
    errors: list[dict[str, str]]


class ReadingsAccepted(BaseModel):
    """Answer of ``POST /readings`` (202): good rows are kept when others are bad."""

    accepted: int
    rejected: list[RejectedRow]


class CheckedReading(BaseModel):
    """A reading that passed the checks, with its hour in UTC and any suspicion flags."""

    station_id: str
    observed_at: dt.datetime
    values: dict[str, float | None]
    flags: list[str]
