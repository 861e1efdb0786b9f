"""Monitoring stations and what they declare about their data (units, conditions).

Stations come in and go out as :class:`emission_list.samples.Station`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import text
from emission_list.samples import Station
from service.storage.models import Station as StationRow
from service.storage.repositories import name_columns, paging, put_row


def _domain(row: StationRow) -> Station:
    return Station(
        station_id=row.station_id,
        name=text(row.name_zh, row.name_en),
        lon=row.lon,
        lat=row.lat,
        region=row.region,
        kind=row.kind,
        gas_condition=row.gas_condition,
        particle_condition=row.particle_condition,
        units=dict(row.units),
    )


async def put(session: AsyncSession, station: Station) -> bool:
    """Create or replace a station; True when it was created. Its region must exist."""
    values = {
        "station_id": station.station_id,
        "lon": float(station.lon),
        "lat": float(station.lat),
        "region": station.region,
        "kind": station.kind,
        "gas_condition": station.gas_condition,
        "particle_condition": station.particle_condition,
        "units": dict(station.units),
    }
    return await put_row(
        session, StationRow, station.station_id, values | name_columns(station.name)
    )


async def put_many(session: AsyncSession, stations: Iterable[Station]) -> int:
    """Create or replace stations; returns how many were created."""
    created = 0
    for station in stations:
        created += await put(session, station)
    return created


async def get(session: AsyncSession, station_id: str) -> Station | None:
    row = await session.get(StationRow, station_id)
    return None if row is None else _domain(row)


async def list_all(
    session: AsyncSession, region: str | Collection[str] | None = None
) -> list[Station]:
    """Every station (of one region or of any of several, if given), by id."""
    statement = select(StationRow).order_by(StationRow.station_id)
    if isinstance(region, str):
        statement = statement.where(StationRow.region == region)
    elif region is not None:
        statement = statement.where(StationRow.region.in_(list(region)))
    return [_domain(row) for row in (await session.execute(statement)).scalars()]


async def page(
    session: AsyncSession,
    region: str | Collection[str] | None = None,
    *,
    limit: int = paging.DEFAULT_LIMIT,
    after: str | None = None,
) -> tuple[list[Station], str | None]:
    """Up to ``limit`` stations (of one region or of any of several, if given) by id after the
    id ``after``, and the next cursor."""
    statement = select(StationRow)
    if isinstance(region, str):
        statement = statement.where(StationRow.region == region)
    elif region is not None:
        statement = statement.where(StationRow.region.in_(list(region)))
    keys = None if after is None else (after,)
    statement = paging.keyset(statement, [StationRow.station_id], keys, limit)
    found = [_domain(row) for row in (await session.execute(statement)).scalars()]
    return paging.page(found, limit, lambda station: station.station_id)


async def existing(session: AsyncSession, station_ids: Collection[str]) -> set[str]:
    """Those of ``station_ids`` that exist (to reject readings of unknown stations)."""
    if not station_ids:
        return set()
    statement = select(StationRow.station_id).where(StationRow.station_id.in_(list(station_ids)))
    return set((await session.execute(statement)).scalars())


async def regions_of(session: AsyncSession, station_ids: Collection[str]) -> dict[str, str]:
    """Station id -> region of those of ``station_ids`` that exist."""
    if not station_ids:
        return {}
    statement = select(StationRow.station_id, StationRow.region).where(
        StationRow.station_id.in_(list(station_ids))
    )
    return {row[0]: row[1] for row in await session.execute(statement)}
