"""Readings, stations and regions over the API: ``/readings``, ``/stations``, ``/regions``.

AQI figures are worked out by hand in the comments from HJ 633—2026
(emission_list/data/hj633_2026.json; in force from 2026-03-01, so for every hour these tests
post): IAQI = IAQI_lo + (IAQI_hi - IAQI_lo) * (C - C_lo) / (C_hi - C_lo) on the segment
holding C, rounded **up** to an integer; hourly PM is scored on the 24-hour PM tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from api_client import Api, api_settings, served_api
from sqlalchemy import func, select

from emission_list.samples import kundulun_regions, kundulun_stations
from service.bootstrap import prepare
from service.commands.process import create_app
from service.storage.models import AqiResult, AuditEntry, Reading

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
LOCAL = dt.timezone(dt.timedelta(hours=8))
FULL = {"pm25": 180, "pm10": 240, "so2": 40, "no2": 70, "o3": 20, "co": 2.1}


def _row(station: str = "1502A01", hours_ago: int = 0, **values: object) -> dict:
    at = HOUR - dt.timedelta(hours=hours_ago)
    return {"station_id": station, "observed_at": at.isoformat()} | FULL | values


async def _stored(api: Api) -> set[tuple[str, dt.datetime]]:
    """The station-hours in the readings table."""
    async with api.runtime.session_maker() as session:
        rows = await session.execute(select(Reading.station_id, Reading.observed_at))
        return {(s, at) for s, at in rows}


async def _count(api: Api, table: type) -> int:
    """Rows of ``table``; for AQI results, the hourly ones (every reading also ends a window)."""
    statement = select(func.count()).select_from(table)
    if table is AqiResult:
        statement = statement.where(AqiResult.period == "1h")
    async with api.runtime.session_maker() as session:
        return await session.scalar(statement)


async def _aqi(api: Api, station: str = "1502A01", **params: str) -> dict:
    answer = await api.client.get(
        f"/api/v1/stations/{station}/aqi", params=params, headers=api.as_("operator")
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _post(api: Api, rows: object, role: str = "operator", **params: str) -> httpx.Response:
    return await api.client.post(
        "/api/v1/readings", json=rows, params=params, headers=api.as_(role)
    )


@asynccontextmanager
async def _own_app(seeded_database_url: str, **overrides: object) -> AsyncIterator[Api]:
    """The app on a seeded database with other settings (as the ``api`` fixture builds it)."""
    async with served_api(seeded_database_url, **overrides) as found:
        yield found


# --- POST /readings ---------------------------------------------------------------------------


async def test_good_rows_are_stored_while_each_bad_row_is_rejected_with_its_code(
    api: Api,
) -> None:
    rows = [
        _row(),  # 0 good
        _row("NOPE"),  # 1 unknown station
        _row(hours_ago=1, pm10=-3),  # 2 negative value
        _row(hours_ago=2, co=900),  # 3 above the CO analyser ceiling (150 mg/m³)
        _row(hours_ago=-2),  # 4 two hours ahead: more than 10 minutes in the future
        _row(hours_ago=3) | {"observed_at": (HOUR - dt.timedelta(minutes=30)).isoformat()},  # 5
        _row(hours_ago=4, pm25="a lot"),  # 6 a string for pm25
        "not a reading",  # 7 not an object
        _row(hours_ago=6, colour="grey"),  # 8 unknown field
        _row(hours_ago=7, pm25=None) | {"so2": None},  # 9 good: pollutants may be missing
        _row(hours_ago=8, pm25=500, pm10=100),  # 10 PM2.5 more than 2 x PM10 + 20
        _row("1502A03", hours_ago=1),  # 11 good, another station
        _row(hours_ago=9, so2=-1, no2=5000),  # 12 two problems in one row
    ]
    answer = await _post(api, rows, lang="en")
    assert answer.status_code == 202
    body = answer.json()
    assert body["accepted"] == 3
    found = {r["index"]: [(e["field"], e["code"]) for e in r["errors"]] for r in body["rejected"]}
    assert found == {
        1: [("station_id", "station.unknown")],
        2: [("pm10", "value.negative")],
        3: [("co", "value.impossible")],
        4: [("observed_at", "observed_at.future")],
        5: [("observed_at", "observed_at.not_on_hour")],
        6: [("pm25", "type")],
        7: [("row", "type")],
        8: [("colour", "type")],
        10: [("pm25", "pm25.above_pm10")],
        12: [("so2", "value.negative"), ("no2", "value.impossible")],
    }
    assert [r["index"] for r in body["rejected"]] == sorted(found)  # in index order
    messages = {r["index"]: r["errors"][0]["message"] for r in body["rejected"]}
    assert messages[1] == "Unknown station NOPE"
    assert "10 minutes in the future" in messages[4]
    assert "above the instrument ceiling 150" in messages[3]
    # Only the good rows reached the readings table, and each got its hourly AQI.
    assert await _stored(api) == {
        ("1502A01", HOUR),
        ("1502A01", HOUR - dt.timedelta(hours=7)),
        ("1502A03", HOUR - dt.timedelta(hours=1)),
    }
    assert await _count(api, AqiResult) == 3
    latest = await _aqi(api)
    assert dt.datetime.fromisoformat(latest["hourly"]["observed_at"]) == HOUR


async def test_rejections_speak_the_callers_language(api: Api) -> None:
    rows = [_row("NOPE"), _row(pm10=-3)]
    chinese = (await _post(api, rows)).json()["rejected"]
    english = (
        await api.client.post(
            "/api/v1/readings", json=rows, headers=api.as_("operator", **{"Accept-Language": "en"})
        )
    ).json()["rejected"]
    assert [r["errors"][0]["message"] for r in chinese] == ["未知站点 NOPE", "pm10 为负值"]
    assert [r["errors"][0]["message"] for r in english] == [
        "Unknown station NOPE",
        "pm10 is negative",
    ]
    assert [r["errors"][0]["code"] for r in chinese] == [r["errors"][0]["code"] for r in english]


async def test_rows_that_are_not_readings_are_rejected_one_by_one(api: Api) -> None:
    rows = [
        None,
        42,
        [_row()],
        {"observed_at": HOUR.isoformat(), "pm25": 10},  # no station
        _row() | {"observed_at": HOUR.replace(tzinfo=None).isoformat()},  # no offset
        _row() | {"observed_at": "yesterday"},
        _row(pm25={"value": 10}),
        _row(hours_ago=1),  # the one good row
    ]
    body = (await _post(api, rows, lang="en")).json()
    assert body["accepted"] == 1
    fields = {r["index"]: [(e["field"], e["code"]) for e in r["errors"]] for r in body["rejected"]}
    assert fields == {
        0: [("row", "type")],
        1: [("row", "type")],
        2: [("row", "type")],
        3: [("station_id", "type")],
        4: [("observed_at", "type")],
        5: [("observed_at", "type")],
        6: [("pm25", "type")],
    }
    assert all(
        e["message"].startswith("Invalid field") for r in body["rejected"] for e in r["errors"]
    )
    assert await _stored(api) == {("1502A01", HOUR - dt.timedelta(hours=1))}


async def test_a_station_token_posts_only_for_its_own_stations(api: Api) -> None:
    rows = [_row("1502A01"), _row("1502A02"), _row("1502A03"), _row("NOPE")]
    answer = await _post(api, rows, role="station")
    assert answer.status_code == 202
    assert answer.json() == {
        "accepted": 2,
        "rejected": [
            {
                "index": 1,
                "errors": [
                    {
                        "field": "station_id",
                        "code": "station.forbidden",
                        "message": "该令牌无权为站点 1502A02 报送数据",
                    }
                ],
            },
            {
                "index": 3,
                "errors": [
                    {"field": "station_id", "code": "station.unknown", "message": "未知站点 NOPE"}
                ],
            },
        ],
    }
    assert await _stored(api) == {("1502A01", HOUR), ("1502A03", HOUR)}


async def test_an_operator_posts_for_any_station_and_an_enterprise_not_at_all(api: Api) -> None:
    every = [_row(s.station_id) for s in kundulun_stations()]
    operator = await _post(api, every)
    assert operator.status_code == 202
    assert operator.json() == {"accepted": len(every), "rejected": []}
    enterprise = await _post(api, [_row("1502A01", hours_ago=1)], role="enterprise")
    assert enterprise.status_code == 403
    assert enterprise.json()["error"]["code"] == "auth.forbidden"
    assert await _stored(api) == {(s.station_id, HOUR) for s in kundulun_stations()}


async def test_a_body_that_is_not_a_list_is_refused_whole(api: Api) -> None:
    for body in (_row(), "readings", 7, {"rows": [_row()]}):
        answer = await _post(api, body)
        assert answer.status_code == 422, body
        error = answer.json()["error"]
        assert error["code"] == "request.invalid" and error["details"][0]["loc"] == ["body"]
    broken = await api.client.post(
        "/api/v1/readings",
        content=b"[{",
        headers=api.as_("operator", **{"Content-Type": "application/json"}),
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "request.invalid"
    empty = await _post(api, [])
    assert empty.status_code == 202 and empty.json() == {"accepted": 0, "rejected": []}
    assert await _count(api, Reading) == 0


async def test_a_body_above_the_configured_limit_is_413_and_nothing_is_stored(
    seeded_database_url: str,
) -> None:
    async with _own_app(seeded_database_url, max_body_bytes=2048) as api:
        small = [_row(hours_ago=h) for h in range(3)]  # about 450 bytes
        assert (await _post(api, small)).json() == {"accepted": 3, "rejected": []}
        large = [_row(hours_ago=h) for h in range(3, 23)]  # about 3,000 bytes
        answer = await _post(api, large, lang="en")
        assert answer.status_code == 413
        error = answer.json()["error"]
        assert error["code"] == "body.too_large" and error["message"] == "Request body too large"
        assert error["messages"]["zh-CN"] == "请求体过大"
        assert await _count(api, Reading) == 3


async def test_a_replayed_batch_changes_nothing(api: Api) -> None:
    rows = [_row(hours_ago=h, pm25=100 + h) for h in range(6)] + [_row("1502A03")]
    first = await _post(api, rows, role="station")
    stored, results, aqi = await _stored(api), await _count(api, AqiResult), await _aqi(api)
    again = await _post(api, rows, role="station")
    assert first.json() == again.json() == {"accepted": 7, "rejected": []}
    assert await _stored(api) == stored and len(stored) == 7
    assert await _count(api, AqiResult) == results == 7
    assert await _aqi(api) == aqi


async def test_a_later_post_of_a_station_hour_replaces_it_and_the_last_copy_in_a_batch_wins(
    api: Api,
) -> None:
    await _post(api, [_row()])
    # PM2.5 60 is the IAQI-100 edge of the 2026 table; alone it decides the hour.
    corrected = await _post(api, [_row(pm25=60, pm10=None), _row(pm25=35, pm10=None)])
    body = corrected.json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 0
    assert body["rejected"][0]["errors"][0]["code"] == "duplicate_in_batch"
    assert await _count(api, Reading) == 1 and await _count(api, AqiResult) == 1
    hourly = (await _aqi(api))["hourly"]
    # PM2.5 35 is the IAQI-50 edge; the other pollutants of FULL score lower (SO2 40 -> 14,
    # NO2 70 -> 35, O3 20 -> 7, CO 2.1 -> 21), so PM2.5 decides: AQI 50.
    assert hourly["iaqi"]["pm25"] == 50 and hourly["iaqi"]["pm10"] is None
    assert hourly["aqi"] == 50


async def test_an_hour_with_an_offset_is_stored_as_the_same_utc_hour(api: Api) -> None:
    local = HOUR.astimezone(LOCAL).isoformat()  # e.g. 2026-11-23T15:00:00+08:00
    assert local.endswith("+08:00")
    first = await _post(api, [_row() | {"observed_at": local}])
    again = await _post(api, [_row(pm25=60)])  # the same hour, written in UTC
    assert first.json()["accepted"] == again.json()["accepted"] == 1
    assert await _stored(api) == {("1502A01", HOUR)}
    hourly = (await _aqi(api))["hourly"]
    assert dt.datetime.fromisoformat(hourly["observed_at"]) == HOUR
    assert hourly["iaqi"]["pm25"] == 100


# --- GET /stations/{id}/aqi -----------------------------------------------------------------


async def test_the_hourly_aqi_matches_a_hand_computation(api: Api) -> None:
    await _post(api, [_row()])
    hourly = (await _aqi(api, lang="en"))["hourly"]
    # PM2.5 180 lies between 150 (IAQI 200) and 250 (IAQI 300) of the PM2.5 table:
    #   200 + (300 - 200) * (180 - 150) / (250 - 150) = 230.
    # PM10 240 between 120 (100) and 250 (150): 100 + 50 * 120 / 130 = 146.15 -> 147.
    # SO2 1h 40 between 0 (0) and 150 (50): 50 * 40 / 150 = 13.3 -> 14.
    # NO2 1h 70 between 0 (0) and 100 (50): 35.  O3 1h 20 between 0 and 160 (50): 6.25 -> 7.
    # CO 1h 2.1 mg/m³ between 0 (0) and 5 (50): 21.
    assert hourly["iaqi"] == {
        "so2": 14,
        "no2": 35,
        "co": 21,
        "o3": 7,
        "pm10": 147,
        "pm25": 230,
    }
    # AQI = the highest IAQI; 201..300 is category 5 (heavily polluted).
    assert hourly["aqi"] == 230 and hourly["primary"] == ["pm25"]
    assert hourly["category"] == 5 and hourly["category_name"] == "Heavily polluted"
    assert hourly["edition"] == "2026"
    chinese = (await _aqi(api))["hourly"]
    assert chinese["category_name"] == "重度污染"


async def test_pollutants_with_the_same_highest_iaqi_are_all_primary(api: Api) -> None:
    # PM10 371 between 350 (200) and 420 (300): 200 + 100 * 21 / 70 = 230, as PM2.5 180.
    await _post(api, [_row(pm10=371)])
    hourly = (await _aqi(api))["hourly"]
    assert hourly["iaqi"]["pm10"] == hourly["iaqi"]["pm25"] == 230
    assert sorted(hourly["primary"]) == ["pm10", "pm25"] and hourly["aqi"] == 230


async def test_a_clean_hour_has_no_primary_pollutant(api: Api) -> None:
    # PM2.5 20: 50 * 20 / 35 = 28.6 -> 29; PM10 30: 50 * 30 / 50 = 30. AQI 30 <= 50: excellent,
    # and HJ 633 names a primary pollutant only when AQI > 50.
    await _post(api, [_row(pm25=20, pm10=30, so2=None, no2=None, o3=None, co=None)])
    hourly = (await _aqi(api, lang="en"))["hourly"]
    assert hourly["iaqi"]["pm25"] == 29 and hourly["iaqi"]["pm10"] == 30
    assert hourly["aqi"] == 30 and hourly["category"] == 1 and hourly["primary"] == []
    assert hourly["iaqi"]["so2"] is None and hourly["category_name"] == "Excellent"


async def test_twenty_of_twenty_four_hours_give_a_daily_aqi(api: Api) -> None:
    def pm25_only(hours_ago: int) -> dict:
        # Alternating 100 and 160: any 10 + 10 hours average (100 + 160) / 2 = 130.
        value = 100 if hours_ago % 2 == 0 else 160
        gaps = dict.fromkeys(("pm10", "so2", "no2", "o3", "co"))
        return _row("1502A03", hours_ago, pm25=value, **gaps)

    await _post(api, [pm25_only(h) for h in range(19)], role="station")
    body = await _aqi(api, "1502A03")
    # The latest hour, PM2.5 100, between 60 (100) and 115 (150): 100 + 50 * 40 / 55 = 136.4
    # -> 137, category 3. Nineteen hours are too few for a 24-hour mean (GB 3095: 20).
    assert body["hourly"]["aqi"] == 137 and body["hourly"]["category"] == 3
    # The same shape as a region's: the window, its AQI null (the IAQI too).
    assert body["daily"]["aqi"] is None and body["daily"]["category"] == 0
    assert set(body["daily"]["iaqi"].values()) == {None} and "pm25" in body["daily_missing"]
    assert dt.datetime.fromisoformat(body["daily"]["observed_at"]) == HOUR
    await _post(api, [pm25_only(19)], role="station")
    body = await _aqi(api, "1502A03", lang="en")
    # Mean 130 between 115 (150) and 150 (200): 150 + 50 * 15 / 35 = 171.4 -> 172, category 4.
    daily = body["daily"]
    assert daily["aqi"] == 172 and daily["iaqi"]["pm25"] == 172 and daily["category"] == 4
    assert daily["primary"] == ["pm25"] and daily["category_name"] == "Moderately polluted"
    assert dt.datetime.fromisoformat(daily["observed_at"]) == HOUR
    assert body["daily_missing"] == ["so2", "no2", "co", "o3", "pm10"]
    assert body["hourly"]["aqi"] == 137  # an older hour does not move the latest one
    await _post(api, [pm25_only(h) for h in range(20, 24)], role="station")
    assert (await _aqi(api, "1502A03"))["daily"]["aqi"] == 172


async def test_the_aqi_of_an_unknown_station_is_404_and_of_a_silent_one_empty(api: Api) -> None:
    for role in ("operator", "station", "enterprise"):
        unknown = await api.client.get("/api/v1/stations/NOPE/aqi", headers=api.as_(role))
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "station.unknown"
    silent = await _aqi(api, "1502A02")
    assert silent == {
        "station_id": "1502A02",
        "hourly": None,
        "daily": None,
        "daily_missing": ["so2", "no2", "co", "o3", "pm10", "pm25"],
    }


# --- /stations --------------------------------------------------------------------------------

STATION = {
    "name": {"zh-CN": "测试站", "en": "Test station"},
    "lon": 109.8,
    "lat": 40.6,
    "region": "150203003",
}


async def test_stations_are_listed_in_chinese_by_default_and_in_english_on_request(
    api: Api,
) -> None:
    sample = kundulun_stations()
    for role in ("operator", "station", "enterprise"):
        listed = await api.client.get("/api/v1/stations", headers=api.as_(role))
        assert listed.status_code == 200
        expected = sorted(s.station_id for s in sample)
        assert [s["station_id"] for s in listed.json()["items"]] == expected
    chinese = (await api.client.get("/api/v1/stations", headers=api.as_("station"))).json()
    english = (await api.client.get("/api/v1/stations?lang=en", headers=api.as_("station"))).json()
    chinese, english = chinese["items"], english["items"]
    by_id = {s.station_id: s for s in sample}
    for zh, en in zip(chinese, english, strict=True):
        assert zh["name"] == by_id[zh["station_id"]].name["zh-CN"]
        assert en["name"] == by_id[en["station_id"]].name["en"]
        assert zh["names"] == en["names"] == dict(by_id[zh["station_id"]].name)
        assert zh["region"] == by_id[zh["station_id"]].region
    zh_names = {s["station_id"]: s["name"] for s in chinese}
    en_names = {s["station_id"]: s["name"] for s in english}
    assert zh_names["1502A01"] == "昆区政府"
    assert en_names["1502A01"] == "Kundulun District Government"
    accepting = await api.client.get(
        "/api/v1/stations", headers=api.as_("station", **{"Accept-Language": "en-GB,zh;q=0.5"})
    )
    assert accepting.json()["items"] == english


async def test_stations_are_filtered_by_region_and_the_regions_under_it(api: Api) -> None:
    sample = kundulun_stations()
    towns = {s.region for s in sample if s.region.startswith("150203")}
    under = {"150203005": {"150203005"}, "150203": towns, "150200": {"150200", *towns}}
    for region, regions in under.items():
        listed = await api.client.get(
            "/api/v1/stations", params={"region": region}, headers=api.as_("operator")
        )
        expected = sorted(s.station_id for s in sample if s.region in regions)
        assert expected and [s["station_id"] for s in listed.json()["items"]] == expected
    assert len(under["150200"]) > 1 and len(expected) == len(sample)
    nowhere = await api.client.get("/api/v1/stations?region=999", headers=api.as_("operator"))
    assert nowhere.status_code == 200 and nowhere.json() == {"items": [], "next_cursor": None}


async def test_an_operator_creates_then_replaces_a_station(api: Api) -> None:
    operator = api.as_("operator")
    created = await api.client.put("/api/v1/stations/1502T01", json=STATION, headers=operator)
    assert created.status_code == 201
    assert created.json() == {
        "station_id": "1502T01",
        "name": "测试站",
        "names": {"zh-CN": "测试站", "en": "Test station"},
        "lon": 109.8,
        "lat": 40.6,
        "region": "150203003",
        "kind": "national",
        "gas_condition": "reference",
        "particle_condition": "actual",
    }
    moved = STATION | {"name": "Renamed", "region": "150203004", "lon": 109.9}
    replaced = await api.client.put(
        "/api/v1/stations/1502T01?lang=en", json=moved, headers=operator
    )
    assert replaced.status_code == 200
    assert replaced.json()["names"] == {"zh-CN": "Renamed", "en": "Renamed"}
    assert replaced.json()["region"] == "150203004" and replaced.json()["lon"] == 109.9
    listed = (await api.client.get("/api/v1/stations", headers=operator)).json()["items"]
    assert len(listed) == len(kundulun_stations()) + 1
    assert [s for s in listed if s["station_id"] == "1502T01"] == [replaced.json()]
    there = await api.client.get("/api/v1/stations?region=150203004", headers=operator)
    assert "1502T01" in [s["station_id"] for s in there.json()["items"]]
    assert (await _post(api, [_row("1502T01")])).json() == {"accepted": 1, "rejected": []}
    async with api.runtime.session_maker() as session:
        audited = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == "station/1502T01")
        )
        assert audited.all() == ["station.put", "station.put"]


async def test_bad_station_bodies_are_refused_and_nothing_is_written(api: Api) -> None:
    operator = api.as_("operator")
    unknown = await api.client.put(
        "/api/v1/stations/1502T02?lang=en", json=STATION | {"region": "999"}, headers=operator
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "region.unknown"
    assert unknown.json()["error"]["message"] == "Unknown region 999"
    for field, value in (("lon", 500), ("lon", "east"), ("lat", -91)):
        answer = await api.client.put(
            "/api/v1/stations/1502T02", json=STATION | {field: value}, headers=operator
        )
        assert answer.status_code == 422, (field, value)
        assert answer.json()["error"]["code"] == "request.invalid"
        assert answer.json()["error"]["details"][0]["loc"] == ["body", field]
    for broken in (
        {k: v for k, v in STATION.items() if k != "name"},
        STATION | {"colour": "grey"},
        STATION | {"gas_condition": "wet"},
    ):
        answer = await api.client.put("/api/v1/stations/1502T02", json=broken, headers=operator)
        assert answer.status_code == 422 and answer.json()["error"]["details"], broken
    listed = (await api.client.get("/api/v1/stations", headers=operator)).json()["items"]
    assert "1502T02" not in {s["station_id"] for s in listed}
    assert len(listed) == len(kundulun_stations())


async def test_only_an_operator_may_put_a_station(api: Api) -> None:
    for role in ("station", "enterprise"):
        for station_id in ("1502T03", "1502A01"):
            answer = await api.client.put(
                f"/api/v1/stations/{station_id}", json=STATION, headers=api.as_(role)
            )
            assert answer.status_code == 403, (role, station_id)
            assert answer.json()["error"]["code"] == "auth.forbidden"
    listed = (await api.client.get("/api/v1/stations", headers=api.as_("operator"))).json()
    assert {s["station_id"]: s["region"] for s in listed["items"]} == {
        s.station_id: s.region for s in kundulun_stations()
    }


# --- /regions ---------------------------------------------------------------------------------


async def _regions(api: Api, role: str = "operator", **params: str) -> dict[str, dict]:
    answer = await api.client.get("/api/v1/regions", params=params, headers=api.as_(role))
    assert answer.status_code == 200
    return {r["region_id"]: r for r in answer.json()["items"]}


async def test_regions_are_listed_with_id_name_and_parent(api: Api) -> None:
    sample = {r.region_id: r for r in kundulun_regions()}
    for role in ("operator", "station", "enterprise"):
        chinese = await _regions(api, role)
        assert set(chinese) == set(sample)
    english = await _regions(api, lang="en")
    for region_id, region in sample.items():
        assert chinese[region_id]["parent"] == region.parent
        assert chinese[region_id]["name"] == region.name["zh-CN"]
        assert english[region_id]["name"] == region.name["en"]
    assert chinese["150000"]["parent"] is None and chinese["150000"]["name"] == "内蒙古自治区"
    assert chinese["150203"]["parent"] == "150200" and chinese["150203001"]["parent"] == "150203"


async def test_an_operator_creates_and_renames_a_region_and_its_leaf_is_usable(api: Api) -> None:
    operator = api.as_("operator")
    district = {"name": {"zh-CN": "新区", "en": "New district"}, "parent": "150200"}
    created = await api.client.put(
        "/api/v1/regions/150299", json=district | {"kind": "district"}, headers=operator
    )
    assert created.status_code == 201
    assert created.json() == {
        "region_id": "150299",
        "name": "新区",
        "names": {"zh-CN": "新区", "en": "New district"},
        "parent": "150200",
        "kind": "district",
        "requires_signoff": False,
    }
    leaf = await api.client.put(
        "/api/v1/regions/150299001?lang=en",
        json={"name": "Xinzhen", "parent": "150299", "kind": "town"},
        headers=operator,
    )
    assert leaf.status_code == 201 and leaf.json()["name"] == "Xinzhen"
    renamed = await api.client.put(
        "/api/v1/regions/150299?lang=en",
        json=district | {"name": {"zh-CN": "新区二", "en": "Second district"}},
        headers=operator,
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Second district"
    found = await _regions(api, "enterprise", lang="en")
    assert len(found) == len(kundulun_regions()) + 2
    assert {k: found["150299001"][k] for k in ("region_id", "name", "parent")} == {
        "region_id": "150299001",
        "name": "Xinzhen",
        "parent": "150299",
    }
    assert found["150299"]["name"] == "Second district"
    # The new leaf is known at once: a station may sit there and a warning be issued there.
    station = STATION | {"region": "150299001"}
    placed = await api.client.put("/api/v1/stations/1502T09", json=station, headers=operator)
    assert placed.status_code == 201
    warning = {"region": "150299001", "level": "yellow", "reason": {"en": "test"}}
    issued = await api.client.post("/api/v1/alerts", json=warning, headers=operator)
    assert issued.status_code == 200 and issued.json()["alert"]["level"] == "yellow"


async def test_a_region_under_an_unknown_parent_is_refused(api: Api) -> None:
    body = {"name": "孤岛", "parent": "999"}
    answer = await api.client.put("/api/v1/regions/150298", json=body, headers=api.as_("operator"))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "region.unknown" and error["message"] == "未知区域 999"
    assert error["details"] == [{"field": "region", "value": "999"}]
    missing = await api.client.put(
        "/api/v1/regions/150298", json={"name": "孤岛"}, headers=api.as_("operator")
    )
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "request.invalid"
    assert "150298" not in await _regions(api)


async def test_a_region_cannot_become_its_own_ancestor(api: Api) -> None:
    operator = api.as_("operator")
    before = await _regions(api)
    for region_id, parent in (
        ("150203", "150203"),  # itself
        ("150203", "150203007"),  # its own leaf
        ("150000", "150203001"),  # the root under a leaf three levels down
        ("150200", "150203"),  # the city under its district
    ):
        body = {"name": before[region_id]["names"], "parent": parent}
        answer = await api.client.put(
            f"/api/v1/regions/{region_id}?lang=en", json=body, headers=operator
        )
        assert answer.status_code == 409, (region_id, parent)
        error = answer.json()["error"]
        assert error["code"] == "region.cycle"
        assert error["message"] == f"{parent} lies under {region_id} and cannot be its parent"
    assert await _regions(api) == before
    # Moving a leaf under a sibling is no cycle.
    sideways = await api.client.put(
        "/api/v1/regions/150203015",
        json={
            "name": before["150203015"]["names"],
            "parent": "150203014",
            "kind": before["150203015"]["kind"],
        },
        headers=operator,
    )
    assert sideways.status_code == 200 and sideways.json()["parent"] == "150203014"


async def test_only_an_operator_may_put_a_region(api: Api) -> None:
    body = {"name": "新区", "parent": "150200"}
    for role in ("station", "enterprise"):
        answer = await api.client.put("/api/v1/regions/150297", json=body, headers=api.as_(role))
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "auth.forbidden"
    assert "150297" not in await _regions(api)


# --- without consumers ------------------------------------------------------------------------


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


async def test_a_regions_aqi_is_scored_from_its_stations_mean_concentrations(api: Api) -> None:
    # 1502A02 and 1502A04 are both placed on Baotou (150200); 1502A01 lies under it too.
    rows = [
        _row("1502A02", pm25=100, pm10=None, so2=None, no2=None, o3=None, co=None),
        _row("1502A04", pm25=50, pm10=None, so2=None, no2=None, o3=None, co=None),
        _row("1502A01", pm25=None, pm10=None, so2=None, no2=None, o3=None, co=None),
    ]
    posted = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("operator"))
    assert posted.status_code in (200, 202), posted.text
    found = await api.client.get("/api/v1/regions/150200/aqi", headers=api.as_("enterprise"))
    assert found.status_code == 200, found.text
    hourly = found.json()["hourly"]
    # Mean PM2.5 75 µg/m³ over the two stations with a value, on the 60..115 segment (IAQI
    # 100..150) of the 2026 table: 100 + 50 * (75 - 60) / (115 - 60) = 113.6, rounded up 114.
    assert hourly["means"]["pm25"] == 75.0 and hourly["stations"] == 2
    assert hourly["aqi"] == 114 and hourly["primary"] == ["pm25"]
    daily = found.json()["daily"]
    assert daily["aqi"] is None and set(daily["iaqi"].values()) == {None}  # 1 hour of 20
    unknown = await api.client.get("/api/v1/regions/NOPE/aqi", headers=api.as_("station"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "region.unknown"
