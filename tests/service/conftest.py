"""Fixtures of the service tests: ``api``, the app on a seeded database (see api_client.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from api_client import STATION_IDS, Api, served_api


@pytest_asyncio.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with served_api(database_url) as found:
        found.secrets["station"] = await found.token("station", station_ids=STATION_IDS)
        found.secrets["enterprise"] = await found.token(
            "enterprise", enterprise_id=found.enterprise_id
        )
        yield found
