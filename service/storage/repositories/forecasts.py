"""Forecasts as received (one per region and issue time)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.levels import Driver
from emission_list.warnings import Forecast, ForecastDay
from service.storage.models import Forecast as ForecastRow
from service.storage.repositories import utcnow


async def add(session: AsyncSession, forecast: Forecast) -> bool:
    """Store a forecast; False (and nothing written) when the same one is already stored."""
    known = await session.scalar(
        select(ForecastRow.id).where(
            ForecastRow.region == forecast.region, ForecastRow.issued_at == forecast.issued_at
        )
    )
    if known is not None:
        return False
    session.add(
        ForecastRow(
            region=forecast.region,
            issued_at=forecast.issued_at,
            days=_days(forecast),
            received_at=utcnow(),
        )
    )
    await session.flush()
    return True


def _days(forecast: Forecast) -> list[dict[str, object]]:
    return [
        {"date": d.date.isoformat(), "aqi": d.aqi, "driver": str(d.driver)} for d in forecast.days
    ]


async def conflicts(session: AsyncSession, forecast: Forecast) -> bool:
    """True when a forecast of the same region and issue time is stored with other days."""
    stored = await session.scalar(
        select(ForecastRow.days).where(
            ForecastRow.region == forecast.region, ForecastRow.issued_at == forecast.issued_at
        )
    )
    return stored is not None and stored != _days(forecast)


async def issued_between(
    session: AsyncSession, region: str, since: dt.datetime, until: dt.datetime
) -> list[Forecast]:
    """A region's forecasts issued at ``since <= issued_at < until``, oldest first."""
    statement = (
        select(ForecastRow)
        .where(
            ForecastRow.region == region,
            ForecastRow.issued_at >= since,
            ForecastRow.issued_at < until,
        )
        .order_by(ForecastRow.issued_at)
    )
    rows = (await session.execute(statement)).scalars()
    return [
        Forecast(
            region=row.region,
            issued_at=row.issued_at,
            days=tuple(
                ForecastDay(dt.date.fromisoformat(d["date"]), d["aqi"], Driver(d["driver"]))
                for d in row.days
            ),
        )
        for row in rows
    ]
