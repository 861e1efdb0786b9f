"""A station's page: its hourly AQI over seven local days, every hour listed, gaps kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text
from emission_list.samples import Station
from service.console.charts import Hour, HourlyChart, hourly_chart
from service.services.daily_aqi import LOCAL
from service.storage.models import AqiResult
from service.storage.repositories import readings, regions, stations

#: Days a page shows.
DAYS = 7
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class StationWeek:
    station: Station
    region_name: Text
    first_day: dt.date  # local dates shown, inclusive
    last_day: dt.date
    hours: list[dt.datetime]  # hour-ending stamps (aware), oldest first
    results: dict[dt.datetime, AqiResult]
    latest: AqiResult | None
    chart: HourlyChart

    @property
    def valid(self) -> int:
        return sum(1 for h in self.hours if h in self.results and self.results[h].aqi is not None)


def last_day_shown(end: dt.date | None, now: dt.datetime) -> dt.date:
    """The page's last local day: ``end``, else today."""
    return end if end is not None else now.astimezone(LOCAL).date()


async def station_week(
    session: AsyncSession, station_id: str, last_day: dt.date, now: dt.datetime
) -> StationWeek | None:
    """The hours of the :data:`DAYS` local days ending with ``last_day`` (none after the
    current hour); None for an unknown station."""
    station = await stations.get(session, station_id)
    if station is None:
        return None
    region = await regions.get(session, station.region)
    first_day = last_day - dt.timedelta(days=DAYS - 1)
    start = dt.datetime.combine(first_day, dt.time(), LOCAL).astimezone(dt.UTC)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), LOCAL)
    end = min(end.astimezone(dt.UTC), now.replace(minute=0, second=0, microsecond=0))
    hours = []
    hour = start + HOUR  # the first hour of the day ends at 01:00
    while hour <= end:
        hours.append(hour)
        hour += HOUR
    rows = await readings.aqi_page(session, station_id, start + HOUR, end + HOUR, limit=DAYS * 24)
    results = {row.observed_at.astimezone(dt.UTC): row for row in rows}
    values = {at: Hour(row.aqi, row.category, row.primary) for at, row in results.items()}
    latest = await readings.latest_aqi(session, station_id)
    return StationWeek(
        station=station,
        region_name=region.name if region else {"zh-CN": station.region, "en": station.region},
        first_day=first_day,
        last_day=last_day,
        hours=hours,
        results=results,
        latest=latest,
        chart=hourly_chart(hours, values),
    )
