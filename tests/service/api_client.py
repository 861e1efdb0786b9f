"""The API client of the service tests (the ``api`` fixture is in conftest.py).

``api`` runs the app's lifespan (runtime, in-process bus and consumers, action board) and
talks to it over ASGI with httpx; ``api.as_(role)`` gives headers for a token of that role:
``operator``, ``station`` (stations 1502A01 and 1502A03), ``enterprise`` (the sample's first
enterprise, ``api.enterprise_id``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from emission_list.samples import kundulun_list
from service.runtime import Runtime
from service.security import create_token
from service.settings import Settings

ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef"
STATION_IDS = ("1502A01", "1502A03")


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    secrets: dict[str, str] = field(default_factory=dict)
    enterprise_id: str = kundulun_list().entries[0].enterprise_id

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime

    def as_(self, role: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}", **headers}

    async def token(self, role: str, **kwargs: object) -> str:
        async with self.runtime.session_maker() as session:
            _, secret = await create_token(session, role, **kwargs)  # type: ignore[arg-type]
            await session.commit()
        return secret


#: The tests send hundreds of requests a second with few tokens: no rate limits unless a test
#: sets some (tests/service/test_limits.py does).
LIMITED_ROLES = ("operator", "station", "enterprise", "anonymous", "public")
NO_RATE_LIMITS = {f"rate_limit_{role}": "" for role in LIMITED_ROLES}


def api_settings(database_url: str, **overrides: object) -> Settings:
    options = NO_RATE_LIMITS | overrides
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, **options)


@asynccontextmanager
async def served_api(
    database_url: str, *, gateway: bool = False, **overrides: object
) -> AsyncIterator[Api]:
    """The app on a seeded database with these settings, its lifespan running, and the
    operator token of its first start in ``secrets["operator"]``. A database of
    ``seeded_database_url`` is prepared already (its secret is known); any other is
    prepared here as ``haze serve`` would. ``gateway``: with the HJ 212 gateway on an
    ephemeral port (``api.runtime.gateway.port``)."""
    from service.bootstrap import prepare
    from service.commands.process import attach_gateway, create_app
    from tests.infra.seeded import SEEDED_OPERATOR_SECRETS

    settings = api_settings(database_url, **overrides)
    secret = SEEDED_OPERATOR_SECRETS.get(database_url)
    if secret is None:
        secret = (await prepare(settings)).operator_token
    app = create_app(settings)
    if gateway:
        attach_gateway(app.state.runtime, port=0)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            found = Api(client, app)
            found.secrets["operator"] = secret or ""
            yield found
