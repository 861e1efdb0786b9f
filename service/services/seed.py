"""First start: load the sample Kundulun regions (with the shipped outlines of those that have
one), stations and list (revision 1, published), the data loggers of its stations and
enterprises (sample passwords) and four weeks of its lines' hourly loads, so that the
compliance check has normal loads to judge by from the first warning.

Runs only on an empty database (no region yet), so a district that loaded its own data is
never overwritten; running it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.samples import (
    kundulun_list,
    kundulun_loggers,
    kundulun_regions,
    kundulun_stations,
)
from emission_list.telemetry_sim import history, sample_plant
from service.services.loggers import password_hash
from service.services.outlines import store_shipped
from service.storage.models import LineHour
from service.storage.repositories import audit, copy_rows, lists, loggers, regions, stations, utcnow

#: Weeks of sample history (HAZE_COMPLIANCE_HISTORY_WEEKS's default).
HISTORY_WEEKS = 4


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
    await seed_loggers(session)
    await seed_line_history(session, utcnow())
    details = {"enterprises": len(revision.entries)}
    await audit.record(session, audit.SYSTEM, "seed.sample", f"list/{revision.number}", details)
    return True


async def seed_loggers(session: AsyncSession) -> None:
    """Register the sample's data loggers."""
    now = utcnow()
    for logger in kundulun_loggers():
        await loggers.put(
            session,
            logger["mn"],
            {
                "kind": logger["kind"],
                "station_id": logger["station_id"],
                "enterprise_id": logger["enterprise_id"],
                "password_sha256": password_hash(logger["password"]),
                "units": dict(logger["units"]),
                "timezone": "",
                "note": "sample",
                "updated_at": now,
                "updated_by": audit.SYSTEM,
            },
        )


async def seed_line_history(session: AsyncSession, end: dt.datetime) -> int:
    """The sample lines' simulated hourly loads of the weeks before ``end`` (normal
    operation, no warning); how many rows."""
    plant = sample_plant()
    hours, kw = history(plant, np.datetime64(end.replace(tzinfo=None), "h"), HISTORY_WEEKS)
    starts = [h.replace(tzinfo=dt.UTC) for h in hours.astype("datetime64[s]").tolist()]
    rows = [
        {
            "enterprise_id": plant.enterprise_ids[int(enterprise)],
            "line_id": line_id,
            "hour": start,
            "mean_kw": mean,
            "minutes": 60,
            "warned": False,
        }
        for enterprise, line_id, loads in zip(
            plant.line_enterprise.tolist(), plant.line_ids, kw.tolist(), strict=True
        )
        for start, mean in zip(starts, loads, strict=True)
    ]
    await copy_rows(session, LineHour.__table__, rows)
    return len(rows)
