"""A station's current air quality: the latest hourly AQI and the latest 24-hour AQI.

The hourly AQI is the stored result of the readings consumer. The 24-hour AQI is computed
when asked, over the 24 hours ending at the latest hourly result: 24h means of SO2, NO2, CO,
PM10 and PM2.5 (each valid with at least 20 hours, GB 3095-2012) and the maximum 8h O3 of the
window's 8h means (windows ending at hours 8..24 of the window, at least 14 valid means, HJ
663-2013), scored with the edition of the window's last local day. It is None when no
pollutant has a valid value: never a value from too few hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list import averages
from emission_list.aqi import POLLUTANTS, evaluate_columns, pollutant_names
from emission_list.breakpoints import edition_for
from service.storage.models import AqiResult
from service.storage.repositories import readings

_LOCAL = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class StationAqi:
    station_id: str
    hourly: AqiResult | None
    daily_aqi: int | None
    daily_category: int
    daily_primary: str
    daily_iaqi: dict[str, float | None]
    daily_window_end: dt.datetime | None
    daily_missing: list[str]
    daily_edition: str = ""


async def station_aqi(session: AsyncSession, station_id: str) -> StationAqi:
    latest = await readings.latest_aqi(session, station_id)
    if latest is None:
        return StationAqi(station_id, None, None, 0, "", {}, None, list(POLLUTANTS))
    end = latest.observed_at
    rows = await readings.between(
        session, end - dt.timedelta(hours=23), end + dt.timedelta(seconds=1), [station_id]
    )
    hourly = {p: np.full(24, np.nan) for p in ("so2", "no2", "co", "o3", "pm10", "pm25")}
    for row in rows:
        slot = 23 - int((end - row.observed_at) // dt.timedelta(hours=1))
        for pollutant, values in hourly.items():
            value = getattr(row, pollutant)
            values[slot] = np.nan if value is None else value
    columns = {
        f"{p}_24h": averages.daily_mean(hourly[p]) for p in ("so2", "no2", "co", "pm10", "pm25")
    }
    columns["o3_8h"] = averages.o3_daily_max_8h(hourly["o3"])
    last_day = (end - dt.timedelta(seconds=1)).astimezone(_LOCAL).date()
    edition = edition_for(last_day)
    table = evaluate_columns({k: np.atleast_1d(v) for k, v in columns.items()}, edition)
    aqi = table.aqi[0]
    iaqi = {
        p: (None if np.isnan(v) else float(v))
        for p, v in zip(POLLUTANTS, table.iaqi_by_pollutant[0].tolist(), strict=True)
    }
    return StationAqi(
        station_id=station_id,
        hourly=latest,
        daily_aqi=None if np.isnan(aqi) else int(aqi),
        daily_category=int(table.category[0]),
        daily_primary=str(pollutant_names(table.primary)[0]),
        daily_iaqi=iaqi,
        daily_window_end=end,
        daily_missing=[p for p, m in zip(POLLUTANTS, table.missing[0].tolist(), strict=True) if m],
        daily_edition=edition,
    )
