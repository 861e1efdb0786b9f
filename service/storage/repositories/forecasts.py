"""Forecasts as received (one per region and issue time)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.warnings import Forecast
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
    days = [
        {"date": d.date.isoformat(), "aqi": d.aqi, "driver": str(d.driver)} for d in forecast.days
    ]
    session.add(
        ForecastRow(
            region=forecast.region, issued_at=forecast.issued_at, days=days, received_at=utcnow()
        )
    )
    await session.flush()
    return True
