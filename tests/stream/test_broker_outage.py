"""A broker that stops answering under a running API: posts waiting for it hold no database
connection (the rest of the API keeps answering) and each answers 503 with Retry-After;
``/readyz`` says the broker is unreachable, and ready again once it answers.

Each test freezes a Tansu broker of its own (SIGSTOP: connections are taken but never
answered, the slowest kind of outage for a client) and lets it go on (SIGCONT) before the API
stops: a consumer still joining its group when the broker vanished would hold up the
shutdown (consumers/runner.py, not what these tests are about)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import pytest
from stream_helpers import eventually, stream_settings

from service.bootstrap import prepare
from service.commands.process import create_app
from service.commands.stream import create_topics
from service.runtime import Runtime
from service.settings import Settings
from tests.infra import tansu_server

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
#: More concurrent posts than the pool has connections (10 + 10 overflow).
POSTS = 30


@pytest.fixture
def own_broker() -> Iterator[tansu_server.TansuServer]:
    server = tansu_server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _frozen(broker: tansu_server.TansuServer) -> Iterator[None]:
    os.kill(broker.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)


@asynccontextmanager
async def _api(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, dict]]:
    await create_topics(settings)
    prepared = await prepare(settings)
    app = create_app(settings, consumers=False)
    headers = {"Authorization": f"Bearer {prepared.operator_token}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://haze", timeout=120
        ) as client:
            yield client, app.state.runtime, headers


def _rows() -> list[dict]:
    return [{"station_id": "1502A01", "observed_at": HOUR.isoformat(), "pm25": 50}]


async def test_posts_waiting_for_a_down_broker_hold_no_connection(
    postgres_database_url: str, own_broker: tansu_server.TansuServer
) -> None:
    settings = stream_settings(
        postgres_database_url, own_broker.bootstrap, kafka_request_timeout_s=3
    )
    async with _api(settings) as (client, runtime, headers):
        first = await client.post("/api/v1/readings", json=_rows(), headers=headers)
        assert first.status_code == 202, first.text
        with _frozen(own_broker):
            publishing, publish = 0, runtime.bus.publish

            async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
                nonlocal publishing
                publishing += 1
                return await publish(*args, **kwargs)

            runtime.bus.publish = counted  # type: ignore[method-assign]
            posts = [
                asyncio.create_task(client.post("/api/v1/readings", json=_rows(), headers=headers))
                for _ in range(POSTS)
            ]

            async def all_publishing() -> bool:
                return publishing == POSTS

            await eventually(all_publishing, f"all {POSTS} posts waiting for the broker")
            # every post waits for the broker, and none holds a connection meanwhile
            assert runtime.engine.pool.checkedout() == 0
            answer = await client.get("/api/v1/alerts/active", headers=headers)
            assert answer.status_code == 200
            answers = await asyncio.gather(*posts)
    assert {a.status_code for a in answers} == {503}
    assert {a.json()["error"]["code"] for a in answers} == {"bus.unavailable"}
    assert all(int(a.headers["retry-after"]) > 0 for a in answers)


async def test_readyz_says_whether_the_broker_answers(
    postgres_database_url: str, own_broker: tansu_server.TansuServer
) -> None:
    settings = stream_settings(
        postgres_database_url, own_broker.bootstrap, kafka_request_timeout_s=3
    )
    async with _api(settings) as (client, _, _):
        up = await client.get("/readyz")
        assert up.status_code == 200, up.text
        assert up.json()["checks"] == {"board": True, "database": True, "broker": True}
        with _frozen(own_broker):
            down = await client.get("/readyz")
        again = await client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"] == {"board": True, "database": True, "broker": False}
    assert again.status_code == 200, again.text
