"""Region outlines (``region_outlines``): a GeoJSON geometry per region, kept apart from the
tree so that reading the tree does not read the shapes. Geometries are stored as checked
(:func:`emission_list.outlines.geometry_problems`); this module does not check them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.storage.models import RegionOutline
from service.storage.repositories import put_row


@dataclass(frozen=True)
class Outline:
    region_id: str
    geometry: dict[str, Any]
    source: str


def _domain(row: RegionOutline) -> Outline:
    return Outline(row.region_id, dict(row.geometry), row.source)


async def put(session: AsyncSession, region_id: str, geometry: dict[str, Any], source: str) -> bool:
    """Store a region's outline (the region must exist); True when it had none before."""
    values = {"region_id": region_id, "geometry": geometry, "source": source}
    return await put_row(session, RegionOutline, region_id, values)


async def get(session: AsyncSession, region_id: str) -> Outline | None:
    row = await session.get(RegionOutline, region_id)
    return None if row is None else _domain(row)


async def remove(session: AsyncSession, region_id: str) -> bool:
    """Drop a region's outline; True when it had one."""
    result = await session.execute(
        delete(RegionOutline).where(RegionOutline.region_id == region_id)
    )
    return bool(result.rowcount)


async def of_regions(session: AsyncSession, region_ids: Collection[str]) -> dict[str, Outline]:
    """The outlines of those of ``region_ids`` that have one."""
    if not region_ids:
        return {}
    statement = select(RegionOutline).where(RegionOutline.region_id.in_(list(region_ids)))
    return {row.region_id: _domain(row) for row in (await session.execute(statement)).scalars()}


async def outlined(session: AsyncSession) -> set[str]:
    """The ids of the regions that have an outline (no geometry read)."""
    return set((await session.execute(select(RegionOutline.region_id))).scalars())
