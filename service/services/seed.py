"""First start: load the sample Kundulun regions (with the shipped outlines of those that have
one), stations and list (revision 1, published).

Runs only on an empty database (no region yet), so a district that loaded its own data is
never overwritten; running it twice changes nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.samples import kundulun_list, kundulun_regions, kundulun_stations
from service.services.outlines import store_shipped
from service.storage.repositories import audit, lists, regions, stations


async def seed_sample(session: AsyncSession) -> bool:
    """Load the sample into an empty database; True when it did (the caller commits)."""
    if await regions.list_all(session):
        return False
    sample_regions = kundulun_regions()
    await regions.put_many(session, sample_regions)
    await store_shipped(session, [r.region_id for r in sample_regions])
    await stations.put_many(session, kundulun_stations())
    revision = kundulun_list()
    await lists.add(session, revision)
    details = {"enterprises": len(revision.entries)}
    await audit.record(session, audit.SYSTEM, "seed.sample", f"list/{revision.number}", details)
    return True
