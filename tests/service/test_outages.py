"""Outages answer honestly: a database that cannot be reached answers 503
``database.unavailable`` with ``Retry-After`` (never 500), and what the answer says matches
what happened; a bug stays a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from api_client import STATION_IDS, served_api
from sqlalchemy import text

from service.settings import Settings
from service.storage.engine import create_engine
from tests.infra import pg_server
from tests.infra.servers import free_port

LOCAL = dt.timezone(dt.timedelta(hours=8))


def _hour() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _forecast(region: str = "150203") -> dict:
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = issued.astimezone(LOCAL).date()
    days = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate([220, 260, 240, 230])
    ]
    return {"region": region, "issued_at": issued.isoformat(), "daily": days}


def _unavailable(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "database.unavailable"
    assert set(error["messages"]) == {"zh-CN", "en"}
    assert int(answer.headers["retry-after"]) > 0


async def test_with_the_database_down_posts_and_gets_answer_503_with_retry_after(
    own_postgres: pg_server.PostgresServer,
) -> None:
    async with served_api(own_postgres.url) as api:
        station = await api.token("station", station_ids=STATION_IDS)  # never used: not cached
        operator = api.as_("operator")
        assert (await api.client.get("/api/v1/alerts/active", headers=operator)).status_code == 200
        assert (await api.client.get("/readyz")).status_code == 200
        own_postgres.stop()

        row = {"station_id": "1502A01", "observed_at": _hour().isoformat(), "pm25": 80}
        _unavailable(await api.client.post("/api/v1/readings", json=[row], headers=operator))
        forecast = _forecast()
        _unavailable(await api.client.post("/api/v1/forecasts", json=forecast, headers=operator))
        _unavailable(await api.client.get("/api/v1/alerts/active", headers=operator))
        # a token the API cannot check is not "invalid": the database is unavailable
        headers = {"Authorization": f"Bearer {station}"}
        _unavailable(await api.client.post("/api/v1/readings", json=[row], headers=headers))
        ready = await api.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
        # the forecast refused was not decided (its audit row comes first, and failed)
        issued = dt.datetime.fromisoformat(forecast["issued_at"])
        assert api.runtime.outcomes.get(forecast["region"], issued) is None


async def test_a_database_that_cannot_be_reached_is_told_from_a_bug_by_type(
    database_url: str,
) -> None:
    from service.storage.outage import DatabaseUnavailableError, is_unavailable

    closed = create_engine(
        Settings(database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres")
    )
    try:
        with pytest.raises(DatabaseUnavailableError) as refused:
            async with closed.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert is_unavailable(refused.value)
    finally:
        await closed.dispose()
    engine = create_engine(Settings(database_url=database_url))
    try:
        with pytest.raises(Exception) as bug:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT * FROM no_such_table"))
        assert not is_unavailable(bug.value)
    finally:
        await engine.dispose()
