"""Readings, stations and regions over the API."""

from __future__ import annotations

import datetime as dt

import httpx
from api_client import Api, api_settings
from sqlalchemy import func, select

from emission_list.samples import kundulun_stations
from service.app import create_app
from service.bootstrap import prepare
from service.db.models import Reading

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _row(station: str = "1502A01", at: dt.datetime = HOUR, **values: object) -> dict:
    base = {"pm25": 180, "pm10": 240, "so2": 40, "no2": 70, "o3": 20, "co": 2.1}
    return {"station_id": station, "observed_at": at.isoformat()} | base | values


async def _count(api: Api) -> int:
    async with api.runtime.session_maker() as session:
        return await session.scalar(select(func.count()).select_from(Reading))


async def test_good_rows_are_kept_and_each_bad_row_is_reported_by_index(api: Api) -> None:
    rows = [
        _row(),  # 0 good
        _row("NOPE"),  # 1 unknown station
        _row(at=HOUR - dt.timedelta(hours=1), pm10=-3),  # 2 negative
        _row(at=HOUR - dt.timedelta(hours=2), co=900),  # 3 above the instrument ceiling
        _row(at=HOUR + dt.timedelta(hours=2)),  # 4 in the future (beyond 10 minutes)
        _row(at=HOUR - dt.timedelta(minutes=30)),  # 5 not on the hour
        _row(at=HOUR - dt.timedelta(hours=3), pm25="a lot"),  # 6 wrong type
        "not a reading",  # 7 not an object
        _row(at=HOUR - dt.timedelta(hours=4), colour="grey"),  # 8 unknown field
        _row(at=HOUR - dt.timedelta(hours=5), pm25=None, so2=None),  # 9 good, gaps allowed
        _row(at=HOUR - dt.timedelta(hours=6), pm25=500, pm10=100),  # 10 PM2.5 >> PM10
    ]
    answer = await api.client.post(
        "/api/v1/readings?lang=en", json=rows, headers=api.as_("operator")
    )
    assert answer.status_code == 202
    body = answer.json()
    assert body["accepted"] == 2
    codes = {r["index"]: [e["code"] for e in r["errors"]] for r in body["rejected"]}
    assert codes == {
        1: ["station.unknown"],
        2: ["value.negative"],
        3: ["value.impossible"],
        4: ["observed_at.future"],
        5: ["observed_at.not_on_hour"],
        6: ["type"],
        7: ["type"],
        8: ["type"],
        10: ["pm25.above_pm10"],
    }
    assert body["rejected"][0]["errors"][0]["message"] == "Unknown station NOPE"
    assert await _count(api) == 2
    aqi = (await api.client.get("/api/v1/stations/1502A01/aqi", headers=api.as_("station"))).json()
    assert aqi["hourly"]["observed_at"].startswith(HOUR.strftime("%Y-%m-%dT%H"))


async def test_a_replayed_batch_changes_nothing_and_a_correction_replaces(api: Api) -> None:
    rows = [_row(at=HOUR - dt.timedelta(hours=h)) for h in range(5)]
    for _ in range(2):
        answer = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("station"))
        assert answer.json() == {"accepted": 5, "rejected": []}
    assert await _count(api) == 5
    corrected = [_row(pm25=60, pm10=90)]
    await api.client.post("/api/v1/readings", json=corrected, headers=api.as_("station"))
    assert await _count(api) == 5
    aqi = (await api.client.get("/api/v1/stations/1502A01/aqi", headers=api.as_("station"))).json()
    assert aqi["hourly"]["iaqi"]["pm25"] == 100  # PM2.5 60 is the IAQI-100 breakpoint (2026)


async def test_a_station_token_posts_only_for_its_own_stations(api: Api) -> None:
    rows = [_row("1502A01"), _row("1502A02"), _row("1502A03")]
    answer = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("station"))
    assert answer.json()["accepted"] == 2
    assert answer.json()["rejected"] == [
        {
            "index": 1,
            "errors": [
                {
                    "field": "station_id",
                    "code": "station.forbidden",
                    "message": "该令牌无权为站点 1502A02 报送数据",
                }
            ],
        }
    ]
    operator = await api.client.post(
        "/api/v1/readings", json=[_row("1502A02")], headers=api.as_("operator")
    )
    assert operator.json()["accepted"] == 1
    enterprise = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("enterprise"))
    assert enterprise.status_code == 403


async def test_a_body_that_is_not_a_list_is_refused_whole(api: Api) -> None:
    answer = await api.client.post("/api/v1/readings", json=_row(), headers=api.as_("operator"))
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "request.invalid"
    assert await _count(api) == 0


async def test_hourly_and_daily_aqi_of_a_station(api: Api) -> None:
    rows = [_row("1502A03", HOUR - dt.timedelta(hours=h)) for h in range(24)]
    await api.client.post("/api/v1/readings", json=rows, headers=api.as_("station"))
    answer = await api.client.get(
        "/api/v1/stations/1502A03/aqi?lang=en", headers=api.as_("enterprise")
    )
    body = answer.json()
    # PM2.5 180 µg/m³ lies between 150 (IAQI 200) and 250 (IAQI 300) in HJ 633—2026:
    # 200 + (300 - 200) * (180 - 150) / (250 - 150) = 230; PM10 240 between 120 (100) and
    # 250 (150): 100 + 50 * 120 / 130 = 146.2, rounded up to 147.
    assert body["hourly"]["aqi"] == 230 and body["hourly"]["iaqi"]["pm25"] == 230
    assert body["hourly"]["iaqi"]["pm10"] == 147
    assert body["hourly"]["primary"] == ["pm25"] and body["hourly"]["category"] == 5
    assert body["hourly"]["category_name"] == "Heavily polluted"
    assert body["hourly"]["edition"] == "2026"
    # 24 equal hours: the 24-hour means equal the hourly values; PM2.5 still decides (230).
    assert body["daily"]["aqi"] == 230 and body["daily_missing"] == []
    few = await api.client.get("/api/v1/stations/1502A01/aqi", headers=api.as_("operator"))
    assert few.json()["hourly"] is None and few.json()["daily"] is None
    unknown = await api.client.get("/api/v1/stations/NOPE/aqi", headers=api.as_("operator"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "station.unknown"


async def test_with_19_hours_only_the_8h_ozone_counts_in_the_daily_aqi(api: Api) -> None:
    rows = [_row("1502A03", HOUR - dt.timedelta(hours=h)) for h in range(19)]
    await api.client.post("/api/v1/readings", json=rows, headers=api.as_("station"))
    body = (await api.client.get("/api/v1/stations/1502A03/aqi", headers=api.as_("station"))).json()
    assert body["hourly"]["aqi"] == 230
    # 24-hour means need 20 hours; the daily max 8h O3 needs 14 valid 8h means of 17, and
    # hours 6..24 of the window give the 14 means ending at hours 11..24 (each >= 6 hours).
    assert body["daily_missing"] == ["so2", "no2", "co", "pm10", "pm25"]
    assert body["daily"]["iaqi"]["o3"] == 10 and body["daily"]["aqi"] == 10  # O3 20: 20 * 50/100


async def test_stations_are_created_replaced_and_listed(api: Api) -> None:
    operator = api.as_("operator")
    station = {"name": {"zh-CN": "测试站", "en": "Test station"}, "lon": 109.8, "lat": 40.6,
               "region": "150203003"}  # fmt: skip
    created = await api.client.put("/api/v1/stations/1502T01", json=station, headers=operator)
    assert created.status_code == 201 and created.json()["name"] == "测试站"
    renamed = await api.client.put(
        "/api/v1/stations/1502T01?lang=en", json=station | {"name": "Renamed"}, headers=operator
    )
    assert renamed.status_code == 200 and renamed.json()["names"] == {
        "zh-CN": "Renamed",
        "en": "Renamed",
    }
    listed = await api.client.get(
        "/api/v1/stations?region=150203003&lang=en", headers=api.as_("station")
    )
    in_region = sorted(s.station_id for s in kundulun_stations() if s.region == "150203003")
    assert [s["station_id"] for s in listed.json()] == sorted([*in_region, "1502T01"])
    everything = await api.client.get("/api/v1/stations", headers=api.as_("enterprise"))
    assert len(everything.json()) == len(kundulun_stations()) + 1
    accepted = await api.client.post("/api/v1/readings", json=[_row("1502T01")], headers=operator)
    assert accepted.json()["accepted"] == 1
    bad_region = await api.client.put(
        "/api/v1/stations/1502T02", json=station | {"region": "999"}, headers=operator
    )
    assert bad_region.status_code == 422 and bad_region.json()["error"]["code"] == "region.unknown"
    bad_lon = await api.client.put(
        "/api/v1/stations/1502T02", json=station | {"lon": 500}, headers=operator
    )
    assert bad_lon.status_code == 422 and bad_lon.json()["error"]["details"][0]["loc"][-1] == "lon"


async def test_regions_are_created_moved_and_cycles_refused(api: Api) -> None:
    operator = api.as_("operator")
    body = {"name": {"zh-CN": "新区", "en": "New district"}, "parent": "150200", "kind": "district"}
    created = await api.client.put("/api/v1/regions/150299", json=body, headers=operator)
    assert created.status_code == 201
    leaf = {"name": "新镇", "parent": "150299", "kind": "town"}
    assert (
        await api.client.put("/api/v1/regions/150299001", json=leaf, headers=operator)
    ).status_code == 201
    regions = (
        await api.client.get("/api/v1/regions?lang=en", headers=api.as_("enterprise"))
    ).json()
    found = {r["region_id"]: r for r in regions}
    assert found["150299"]["name"] == "New district" and found["150299001"]["parent"] == "150299"
    # The board knows the new regions at once: a warning there is accepted.
    warn = {"region": "150299001", "level": "yellow", "reason": {"en": "test"}}
    assert (await api.client.post("/api/v1/alerts", json=warn, headers=operator)).status_code == 200
    cycle = await api.client.put(
        "/api/v1/regions/150299", json=body | {"parent": "150299001"}, headers=operator
    )
    assert cycle.status_code == 409 and cycle.json()["error"]["code"] == "region.cycle"
    orphan = await api.client.put(
        "/api/v1/regions/150298", json=body | {"parent": "999"}, headers=operator
    )
    assert orphan.status_code == 422 and orphan.json()["error"]["code"] == "region.unknown"


async def test_without_consumers_readings_are_refused_with_503_and_nothing_is_lost(
    database_url: str,
) -> None:
    settings = api_settings(database_url)
    prepared = await prepare(settings)
    app = create_app(settings, consumers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            headers = {"Authorization": f"Bearer {prepared.operator_token}"}
            answer = await client.post("/api/v1/readings", json=[_row()], headers=headers)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "bus.unavailable"
    assert int(answer.headers["retry-after"]) > 0
