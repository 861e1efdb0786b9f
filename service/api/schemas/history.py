"""API models of the history listings: hourly and daily AQI, readings, forecast checks.

``CSV_KEYS`` names the columns a mapping field spreads over in CSV
(:mod:`service.api.history_csv`), so that every page, empty or not, has the same header.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from emission_list.aqi import POLLUTANTS as IAQI_ORDER
from emission_list.aqi_categories import CATEGORIES
from emission_list.i18n import pick
from service.api.schemas.places import AqiOut, RegionResultOut
from service.api.schemas.times import LocalInstant
from service.services.daily_aqi import DAILY_MEANS, Day
from service.services.verification import VerifiedDay
from service.storage.repositories.readings import POLLUTANTS


def _category_name(category: int, language: str) -> str:
    return pick(CATEGORIES[category - 1].name, language) if category > 0 else ""


class HourlyAqiOut(AqiOut):
    """A station's hourly (real-time) AQI of the hour ending at ``observed_at``."""

    CSV_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {"iaqi": IAQI_ORDER}

    @classmethod
    def of_row(cls, row: Any, language: str) -> HourlyAqiOut:
        base = AqiOut.of(
            row.observed_at, row.aqi, row.category, row.primary, row.iaqi, row.edition, language
        )
        return cls(**base.model_dump())


class RegionHourlyOut(RegionResultOut):
    """A region's hourly AQI, from its stations' mean concentrations of the hour."""

    CSV_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {"iaqi": IAQI_ORDER, "means": IAQI_ORDER}

    @classmethod
    def of_region_row(cls, row: Any, language: str) -> RegionHourlyOut:
        return cls(**RegionResultOut.of_row(row, language).model_dump())


class DailyAqiOut(BaseModel):
    """The daily AQI of a local calendar day (Asia/Shanghai), computed from the day's
    hour-ending readings 01:00 .. 24:00."""

    CSV_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {"iaqi": IAQI_ORDER, "means": DAILY_MEANS}

    date: dt.date = Field(description="The local day.")
    starts_at: LocalInstant = Field(description="The local midnight starting the day.")
    aqi: int | None
    category: int = Field(description="1 (excellent) .. 6 (severe); 0 when there is no AQI.")
    category_name: str
    primary: list[str]
    iaqi: dict[str, float | None]
    edition: str
    means: dict[str, float | None] = Field(
        description="24-hour means (>= 20 valid hours) and the maximum 8-hour O3 mean "
        "(o3_8h_max, >= 14 valid means) [µg/m³; mg/m³ for CO]; for a region, over its stations."
    )
    missing: list[str] = Field(description="Pollutants without a valid daily value.")

    @classmethod
    def fields_of(cls, day: Day, starts_at: dt.datetime, language: str) -> dict[str, Any]:
        return {
            "date": day.date,
            "starts_at": starts_at,
            "aqi": day.aqi,
            "category": day.category,
            "category_name": _category_name(day.category, language),
            "primary": [p for p in day.primary.split(";") if p],
            "iaqi": day.iaqi,
            "edition": day.edition,
            "means": day.means,
            "missing": day.missing,
        }


class StationDailyOut(DailyAqiOut):
    hours: int = Field(description="Readings stored for the day (of 24).")

    @classmethod
    def of(cls, day: Day, starts_at: dt.datetime, language: str) -> StationDailyOut:
        return cls(**cls.fields_of(day, starts_at, language), hours=day.count)


class RegionDailyOut(DailyAqiOut):
    stations: int = Field(description="Stations with a valid daily value that entered.")

    @classmethod
    def of(cls, day: Day, starts_at: dt.datetime, language: str) -> RegionDailyOut:
        return cls(**cls.fields_of(day, starts_at, language), stations=day.count)


class ReadingOut(BaseModel):
    """A stored reading [µg/m³; mg/m³ for CO] of the hour ending at ``observed_at``."""

    observed_at: LocalInstant
    pm25: float | None
    pm10: float | None
    so2: float | None
    no2: float | None
    o3: float | None
    co: float | None
    flags: list[str]

    @classmethod
    def of_row(cls, row: Any) -> ReadingOut:
        values = {p: getattr(row, p) for p in POLLUTANTS}
        return cls(observed_at=row.observed_at, flags=list(row.flags or []), **values)


class ForecastForOut(BaseModel):
    issued_at: LocalInstant
    aqi: int
    driver: str
    lead_days: int = Field(description="Days from the forecast's local issue date to this day.")


class VerifiedDayOut(BaseModel):
    """A region-day: the observed daily AQI, the forecasts made for it, and the flags."""

    CSV_KEYS: ClassVar[dict[str, tuple[str, ...]]] = {
        "forecasts": ("issued_at", "aqi", "driver", "lead_days")
    }

    date: dt.date
    starts_at: LocalInstant
    aqi: int | None = Field(description="Observed daily AQI; null without valid data.")
    category: int
    category_name: str
    primary: list[str]
    stations: int
    forecasts: list[ForecastForOut] = Field(description="Oldest first.")
    warned: bool = Field(description="A warning of the region or above was in force that day.")
    missed_forecast: bool = Field(
        description="Observed AQI above 200 with no warning in force that day."
    )

    @classmethod
    def of(cls, verified: VerifiedDay, starts_at: dt.datetime, language: str) -> VerifiedDayOut:
        day = verified.observed
        return cls(
            date=day.date,
            starts_at=starts_at,
            aqi=day.aqi,
            category=day.category,
            category_name=_category_name(day.category, language),
            primary=[p for p in day.primary.split(";") if p],
            stations=day.count,
            forecasts=[ForecastForOut(**vars(f)) for f in verified.forecasts],
            warned=verified.warned,
            missed_forecast=verified.missed_forecast,
        )
