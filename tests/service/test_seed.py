from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.samples import kundulun_list, kundulun_regions, kundulun_stations
from service.services.seed import seed_sample
from service.storage.repositories import lists, regions, stations


async def test_the_sample_is_loaded_once_into_an_empty_database(session: AsyncSession) -> None:
    assert await seed_sample(session) is True
    await session.commit()
    assert await seed_sample(session) is False
    published = await lists.published(session)
    assert published.number == 1 and published.entries == kundulun_list().entries
    assert len(await regions.list_all(session)) == len(kundulun_regions())
    assert len(await stations.list_all(session)) == len(kundulun_stations())
