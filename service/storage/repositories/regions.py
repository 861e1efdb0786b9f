"""The region tree: province > city > district > subdistrict/town.

Regions come in and go out as :class:`emission_list.samples.Region` (bilingual name, parent,
kind). Whether a change keeps the tree a tree is the caller's check: build the
:class:`~emission_list.regions.RegionTree` with the change applied (it refuses cycles).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.i18n import Text, text
from emission_list.regions import RegionTree
from emission_list.samples import Region
from service.storage.models import Region as RegionRow
from service.storage.repositories import name_columns, paging, put_row


def _domain(row: RegionRow) -> Region:
    name = text(row.name_zh, row.name_en)
    return Region(row.region_id, row.parent, name, row.kind, row.requires_signoff)


async def put(session: AsyncSession, region: Region) -> bool:
    """Create or replace a region; True when it was created. The parent must exist."""
    values = {
        "region_id": region.region_id,
        "parent": region.parent,
        "kind": region.kind,
        "requires_signoff": region.requires_signoff,
    }
    return await put_row(session, RegionRow, region.region_id, values | name_columns(region.name))


async def put_many(session: AsyncSession, regions: Iterable[Region]) -> int:
    """Create or replace regions, parents before children; returns how many were created."""
    by_id = {r.region_id: r for r in regions}

    def depth(region: Region) -> int:  # within this batch; parents outside it already exist
        d, parent = 0, region.parent
        while parent in by_id and d <= len(by_id):
            d, parent = d + 1, by_id[parent].parent
        return d

    created = 0
    for region in sorted(by_id.values(), key=depth):
        created += await put(session, region)
    return created


async def get(session: AsyncSession, region_id: str) -> Region | None:
    row = await session.get(RegionRow, region_id)
    return None if row is None else _domain(row)


async def list_all(session: AsyncSession) -> list[Region]:
    """Every region, by id."""
    rows = await session.execute(select(RegionRow).order_by(RegionRow.region_id))
    return [_domain(row) for row in rows.scalars()]


async def page(
    session: AsyncSession, *, limit: int = paging.DEFAULT_LIMIT, after: str | None = None
) -> tuple[list[Region], str | None]:
    """Up to ``limit`` regions by id after the id ``after``, and the next cursor."""
    keys = None if after is None else (after,)
    statement = paging.keyset(select(RegionRow), [RegionRow.region_id], keys, limit)
    found = [_domain(row) for row in (await session.execute(statement)).scalars()]
    return paging.page(found, limit, lambda region: region.region_id)


async def existing(session: AsyncSession, region_ids: Collection[str]) -> set[str]:
    """Those of ``region_ids`` that exist."""
    if not region_ids:
        return set()
    statement = select(RegionRow.region_id).where(RegionRow.region_id.in_(list(region_ids)))
    return set((await session.execute(statement)).scalars())


async def signoff_regions(session: AsyncSession) -> set[str]:
    """The regions whose warnings wait for sign-off (the regions under them wait too)."""
    statement = select(RegionRow.region_id).where(RegionRow.requires_signoff.is_(True))
    return set((await session.execute(statement)).scalars())


async def set_signoff(session: AsyncSession, region_id: str, required: bool) -> bool:
    """Set whether ``region_id``'s warnings wait for sign-off; False when there is no such
    region."""
    row = await session.get(RegionRow, region_id)
    if row is None:
        return False
    row.requires_signoff = required
    await session.flush()
    return True


async def tree(session: AsyncSession) -> RegionTree:
    """The stored regions as a :class:`RegionTree`."""
    rows = await session.execute(select(RegionRow.region_id, RegionRow.parent))
    return RegionTree((region_id, parent) for region_id, parent in rows)


async def names(session: AsyncSession, region_ids: Collection[str]) -> dict[str, Text]:
    """The names of these regions, ``{"zh-CN": ..., "en": ...}`` each."""
    statement = select(RegionRow.region_id, RegionRow.name_zh, RegionRow.name_en).where(
        RegionRow.region_id.in_(sorted(region_ids))
    )
    rows = await session.execute(statement)
    return {rid: {"zh-CN": zh, "en": en} for rid, zh, en in rows}
