"""A monitoring station's data logger feeds the service with no glue code: its hourly HJ 212
packets (ST=22, CN=2061), sent over a real TCP socket to the gateway of ``haze serve``,
become readings with the API's checks and the AQI a hand computation gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest_asyncio
from api_client import Api, served_api

from service.hj212.build import build, build_cp
from tests.infra.loggers import Logger

MN, PW = "1502A01ST212000000000001", "123456"
BEIJING = ZoneInfo("Asia/Shanghai")
#: The hour the last reading ends (readings are stamped with the end of their hour).
HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


@pytest_asyncio.fixture
async def gateway_api(seeded_database_url: str) -> AsyncIterator[Api]:
    async with served_api(seeded_database_url, gateway=True) as found:
        yield found


def _hourly(hours_ago: int, values: dict[str, dict[str, str]], qn_tail: int) -> bytes:
    """A station's hourly packet for the hour ending ``hours_ago`` before :data:`HOUR`;
    its DataTime is the hour's start in Beijing time (HJ 212)."""
    start = (HOUR - dt.timedelta(hours=hours_ago + 1)).astimezone(BEIJING)
    stamp = start.strftime("%Y%m%d%H%M%S")
    cp = build_cp({"DataTime": stamp}, values)
    return build(qn=f"{stamp}{qn_tail:03d}", st="22", cn="2061", pw=PW, mn=MN, flag=5, cp=cp)


#: The concentrations of tests/service/test_api_readings.py's hand computation (PM2.5 180,
#: PM10 240, SO2 40, NO2 70, O3 20 µg/m³, CO 2.1 mg/m³), in the units this logger sends:
#: PM2.5, SO2 and O3 in µg/m³ (registered), PM10 in ng/m³ and NO2 and CO in mg/m³ (Table B.2).
FULL = {
    "a34004": {"Avg": "180", "Flag": "N"},
    "a34002": {"Avg": "240000", "Flag": "N"},
    "a21026": {"Avg": "40", "Flag": "N"},
    "a21004": {"Avg": "0.070", "Flag": "N"},
    "a05024": {"Avg": "20", "Flag": "N"},
    "a21005": {"Avg": "2.1", "Flag": "N"},
}


def _range() -> dict[str, str]:
    return {
        "from": (HOUR - dt.timedelta(hours=3)).isoformat(),
        "to": (HOUR + dt.timedelta(hours=1)).isoformat(),
    }


async def _register(api: Api) -> None:
    answer = await api.client.put(
        f"/api/v1/loggers/{MN}",
        json={
            "kind": "station",
            "station_id": "1502A01",
            "password": PW,
            "units": {"a34004": "µg/m³", "a21026": "ug/m3", "a05024": "µg/m³"},
        },
        headers=api.as_("operator"),
    )
    assert answer.status_code == 201, answer.text


async def test_hourly_packets_become_readings_with_the_right_aqi(gateway_api: Api) -> None:
    api = gateway_api
    await _register(api)
    logger = await Logger.connect(api.runtime.gateway.port)
    try:
        # an hour whose PM2.5 monitor was faulty (D) and one hour later all valid
        faulty = FULL | {"a34004": {"Avg": "999", "Flag": "D"}}
        for hours_ago, values, tail in ((1, faulty, 1), (0, FULL, 2)):
            packet = _hourly(hours_ago, values, tail)
            await logger.send(packet)
            answer = await logger.answer()
            assert answer.cn == "9014" and answer.qn.endswith(f"{tail:03d}")
    finally:
        logger.close()

    headers = api.as_("operator")
    hourly = (await api.client.get("/api/v1/stations/1502A01/aqi", headers=headers)).json()
    # the hand computation of test_api_readings: PM2.5 180 -> 230, PM10 240 -> 147, SO2 40
    # -> 14, NO2 70 -> 35, O3 20 -> 7, CO 2.1 -> 21; AQI 230, primary PM2.5
    assert hourly["hourly"]["iaqi"] == {
        "so2": 14,
        "no2": 35,
        "co": 21,
        "o3": 7,
        "pm10": 147,
        "pm25": 230,
    }
    assert hourly["hourly"]["aqi"] == 230 and hourly["hourly"]["primary"] == ["pm25"]
    readings = await api.client.get(
        "/api/v1/stations/1502A01/readings",
        params=_range(),
        headers=headers,
    )
    assert readings.status_code == 200, readings.text
    rows = readings.json()["items"]
    by_hour = {dt.datetime.fromisoformat(r["observed_at"]): r for r in rows}
    assert set(by_hour) == {HOUR - dt.timedelta(hours=1), HOUR}  # DataTime + 1 hour
    assert by_hour[HOUR - dt.timedelta(hours=1)]["pm25"] is None  # flag D: not valid
    assert by_hour[HOUR - dt.timedelta(hours=1)]["flags"] == ["pm25.D"]  # and kept
    assert by_hour[HOUR]["flags"] == []
    assert by_hour[HOUR]["pm10"] == 240 and by_hour[HOUR]["no2"] == 70


async def test_a_packet_the_reading_checks_refuse_is_answered_and_dead_lettered(
    gateway_api: Api,
) -> None:
    api = gateway_api
    await _register(api)
    logger = await Logger.connect(api.runtime.gateway.port)
    try:
        negative = FULL | {"a34002": {"Avg": "-5", "Flag": "N"}}
        await logger.send(_hourly(0, negative, 7))
        answer = await logger.answer()  # acknowledged: sending it again would not mend it
        assert answer.cn == "9014"
    finally:
        logger.close()
    readings = await api.client.get(
        "/api/v1/stations/1502A01/readings",
        params=_range(),
        headers=api.as_("operator"),
    )
    assert readings.json()["items"] == []
    assert api.runtime.dead_lettered == 1
