"""Fixtures of the service tests: ``api``, the app on a seeded database (see api_client.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from api_client import STATION_IDS, Api, api_settings

from service.app import create_app
from service.bootstrap import prepare


@pytest_asyncio.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    settings = api_settings(database_url)
    prepared = await prepare(settings)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            found = Api(client, app)
            found.secrets["operator"] = prepared.operator_token or ""
            found.secrets["station"] = await found.token("station", station_ids=STATION_IDS)
            found.secrets["enterprise"] = await found.token(
                "enterprise", enterprise_id=found.enterprise_id
            )
            yield found
