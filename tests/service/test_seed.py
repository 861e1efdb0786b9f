import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.samples import kundulun_list, kundulun_regions, kundulun_stations
from service.bootstrap import prepare
from service.services.seed import seed_sample
from service.settings import Settings
from service.storage.repositories import lists, regions, stations


async def test_the_sample_is_loaded_once_into_an_empty_database(session: AsyncSession) -> None:
    assert await seed_sample(session) is True
    await session.commit()
    assert await seed_sample(session) is False
    published = await lists.published(session)
    assert published.number == 1 and published.entries == kundulun_list().entries
    assert len(await regions.list_all(session)) == len(kundulun_regions())
    assert len(await stations.list_all(session)) == len(kundulun_stations())


async def test_processes_starting_together_load_the_sample_and_a_first_token_once(
    _postgresql_database: str,
) -> None:
    """Two APIs of a fresh deployment start at once (PostgreSQL: SQLite has one process)."""
    settings = Settings(database_url=_postgresql_database)
    started = await asyncio.gather(*(prepare(settings) for _ in range(3)))
    assert sorted(p.seeded for p in started) == [False, False, True]
    assert sum(p.operator_token is not None for p in started) == 1
