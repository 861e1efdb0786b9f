"""Every instant the API answers is in one convention: Asia/Shanghai, ``+08:00``."""

from __future__ import annotations

import datetime as dt
import re

from api_client import Api

LOCAL = dt.timezone(dt.timedelta(hours=8))
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _instants(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if INSTANT.match(value) else []
    if isinstance(value, dict):
        return [i for v in value.values() for i in _instants(v)]
    if isinstance(value, list):
        return [i for v in value for i in _instants(v)]
    return []


async def test_every_instant_in_the_answers_is_local_time_with_its_offset(api: Api) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.astimezone(LOCAL).date()
    days = [{"date": str(today + dt.timedelta(days=i)), "aqi": a} for i, a in enumerate([220] * 4)]
    operator = api.as_("operator")
    forecast = {"region": "150203", "issued_at": now.isoformat(), "daily": days}
    hour = now.replace(minute=0, second=0)
    reading = {"station_id": "1502A01", "observed_at": hour.isoformat(), "pm25": 80}
    answers = [
        await api.client.post("/api/v1/forecasts", json=forecast, headers=operator),
        await api.client.post("/api/v1/readings", json=[reading], headers=operator),
    ]
    urls = (
        f"/api/v1/enterprises/{api.enterprise_id}/actions",
        "/api/v1/alerts/active",
        "/api/v1/alerts?region=150203",
        "/api/v1/stations/1502A01/aqi",
        "/api/v1/regions/150203/aqi",
        "/api/v1/tokens",
        "/api/v1/list/revisions",
    )
    answers += [await api.client.get(url, headers=operator) for url in urls]
    seen = []
    for answer in answers:
        assert answer.status_code in (200, 202), (answer.url, answer.text)
        seen += _instants(answer.json())
    assert len(seen) > 10
    assert [s for s in seen if not s.endswith("+08:00")] == []
