"""Fixtures of the service tests: ``api``, the app on a seeded database (see api_client.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from api_client import STATION_IDS, Api, served_api
from notify_helpers import FAST_RETRIES
from smtp_mailbox import smtp_server  # noqa: F401  (a fixture)

from emission_list.samples import kundulun_list
from tests.infra.receiver import Receiver


@pytest_asyncio.fixture
async def api(seeded_database_url: str) -> AsyncIterator[Api]:
    async with served_api(seeded_database_url) as found:
        found.secrets["station"] = await found.token("station", station_ids=STATION_IDS)
        found.secrets["enterprise"] = await found.token(
            "enterprise", enterprise_id=found.enterprise_id
        )
        yield found


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real webhook receiver on 127.0.0.1 (tests/infra/receiver.py)."""
    started = await Receiver().start()
    yield started
    await started.stop()


@pytest_asyncio.fixture
async def notify_api(seeded_database_url: str) -> AsyncIterator[Api]:
    """The app with retries in a test's patience; tokens of the sample's first enterprise
    (``enterprise``), of its second (``other``) and of a station."""
    async with served_api(seeded_database_url, **FAST_RETRIES) as found:
        found.secrets["enterprise"] = await found.token(
            "enterprise", enterprise_id=found.enterprise_id
        )
        found.secrets["station"] = await found.token("station", station_ids=STATION_IDS)
        other = kundulun_list().entries[1].enterprise_id
        found.secrets["other"] = await found.token("enterprise", enterprise_id=other)
        yield found
