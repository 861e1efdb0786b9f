"""Each region-day's observed daily AQI beside the forecasts made for it, and whether the
day was a missed forecast.

The observed daily AQI is the region's calendar-day AQI (:mod:`service.services.daily_aqi`).
The forecasts made for a day are the region's own forecasts whose days include it (a
forecast covers at most 15 days from its local issue date), oldest first. A day is *warned*
when a warning (any level and response) of the region or of an ancestor was in force at any
moment of the local day, read from the stored alert events: each event's alert snapshot
that is active counts from its start to its expected end, a ``lift`` ends every warning of
that region at its time and an ``expire`` those begun before it. A day is a *missed
forecast* when its observed AQI exceeds 200 and it was not warned
(:func:`emission_list.warnings.observed_exceedance`, the rule the flag of the current AQI
follows); a day without an observed AQI is never flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.levels import Level
from emission_list.regions import RegionTree
from emission_list.warnings import Forecast, observed_exceedance
from service.services.daily_aqi import Day, day_start, region_days
from service.storage.repositories import alerts, forecasts
from service.storage.repositories.alerts import StoredEvent

#: The longest forecast the API accepts (days), so the earliest issue that may cover a day.
MAX_FORECAST_DAYS = 15


@dataclass(frozen=True)
class ForecastFor:
    issued_at: dt.datetime
    aqi: int
    driver: str
    lead_days: int  # the day's distance from the local issue date


@dataclass(frozen=True)
class VerifiedDay:
    observed: Day
    forecasts: list[ForecastFor]
    warned: bool
    missed_forecast: bool


def warning_spans(events: Sequence[StoredEvent]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Intervals ``[start, end)`` in which a warning was in force, from events in time order."""
    spans: dict[str, list[list[dt.datetime]]] = {}
    for event in events:
        own = spans.setdefault(event.region, [])
        if event.kind in ("lift", "expire"):
            for span in own:
                if event.kind == "lift" or span[0] <= event.at:
                    span[1] = min(span[1], max(span[0], event.at))
        alert = event.alert
        if alert is not None and alert.status == "active" and alert.level is not Level.NONE:
            own.append([alert.starts_at, alert.ends_at])
    return [(s, e) for own in spans.values() for s, e in own if s < e]


def _made_for(day: dt.date, made: Sequence[Forecast]) -> list[ForecastFor]:
    out = []
    for forecast in made:
        for forecast_day in forecast.days:
            if forecast_day.date == day:
                issued_day = forecast.days[0].date
                lead = (day - issued_day).days
                out.append(
                    ForecastFor(
                        forecast.issued_at, forecast_day.aqi, str(forecast_day.driver), lead
                    )
                )
    return out


async def verify(
    session: AsyncSession, tree: RegionTree, region: str, first: dt.date, days: int
) -> list[VerifiedDay]:
    """The region's ``days`` local days from ``first``, each verified."""
    observed = await region_days(session, tree.subtree(region), first, days)
    start = day_start(first)
    end = day_start(first + dt.timedelta(days=days))
    made = await forecasts.issued_between(
        session, region, start - dt.timedelta(days=MAX_FORECAST_DAYS + 1), end
    )
    events = await alerts.history(session, regions=[region, *tree.ancestors(region)], until=end)
    spans = warning_spans(events)
    out = []
    for day in observed:
        lo, hi = day_start(day.date), day_start(day.date + dt.timedelta(days=1))
        warned = any(s < hi and e > lo for s, e in spans)
        aqi = np.array([np.nan if day.aqi is None else float(day.aqi)])
        missed = bool(observed_exceedance(aqi, np.array([1 if warned else 0]))[0])
        out.append(VerifiedDay(day, _made_for(day.date, made), warned, missed))
    return out
