"""The history a bureau reads back: hourly and daily AQI of stations and regions, readings,
region-days against their forecasts, and the paged alerts listings (JSON and CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re

import httpx
import numpy as np
import pytest
from api_client import Api

from emission_list import averages
from emission_list.aqi import evaluate_columns
from service.services import daily_aqi
from service.storage.models import AqiResult, RegionAqi

LOCAL = dt.timezone(dt.timedelta(hours=8))
#: Three local days straddling the HJ 633 edition change (2026-03-01).
START = dt.datetime(2026, 2, 27, 1, tzinfo=LOCAL)
HOURS = 72
FROM, TO = "2026-02-27T00:00:00+08:00", "2026-03-02T00:00:00+08:00"
DAYS = ["2026-02-27", "2026-02-28", "2026-03-01"]


def _readings(stations: list[str], seed: int = 7) -> list[dict]:
    """Readings with gaps (missing hours and pollutants), the same values for any ``stations``
    names given in the same order."""
    rng = random.Random(seed)
    rows = []
    for k, station in enumerate(stations):
        for h in range(HOURS):
            if rng.random() < 0.08:
                continue
            pm25 = rng.uniform(20, 320)
            row = {
                "station_id": station,
                "observed_at": (START + dt.timedelta(hours=h)).isoformat(),
                "pm25": round(pm25, 1),
                "pm10": round(pm25 * 1.3 + 15, 1),
                "so2": round(rng.uniform(5, 80)),
                "no2": round(rng.uniform(10, 90)),
                "o3": round(rng.uniform(5, 160)),
                "co": round(rng.uniform(0.3, 3.0), 1),
            }
            if rng.random() < 0.05:
                row[rng.choice(["so2", "no2", "o3", "co"])] = None
            rows.append(row | {"_slot": (k, h)})
    return rows


async def _place(api: Api, region: str, stations: list[str]) -> None:
    operator = api.as_("operator")
    body = {"name": region, "parent": None, "kind": "district"}
    assert (
        await api.client.put(f"/api/v1/regions/{region}", json=body, headers=operator)
    ).is_success
    for station in stations:
        body = {"name": station, "lon": 109.8, "lat": 40.6, "region": region}
        answer = await api.client.put(f"/api/v1/stations/{station}", json=body, headers=operator)
        assert answer.is_success, answer.text


async def _post(api: Api, rows: list[dict]) -> None:
    body = [{k: v for k, v in r.items() if k != "_slot"} for r in rows]
    answer = await api.client.post("/api/v1/readings", json=body, headers=api.as_("operator"))
    assert answer.status_code == 202 and answer.json()["rejected"] == [], answer.text


async def _get(api: Api, url: str, role: str = "operator", **params: object) -> dict:
    answer = await api.client.get(url, params=params, headers=api.as_(role))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _all(api: Api, url: str, **params: object) -> list[dict]:
    """Every item, page after page."""
    items, cursor = [], None
    while True:
        extra = {} if cursor is None else {"cursor": cursor}
        page = await _get(api, url, **params, **extra)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def _history(api: Api, region: str, stations: list[str]) -> dict[str, list]:
    span = {"from": FROM, "to": TO, "limit": 1000}
    days = {"from": FROM, "to": TO}
    out = {
        "region hourly": await _all(api, f"/api/v1/regions/{region}/aqi/hourly", **span),
        "region daily": await _all(api, f"/api/v1/regions/{region}/aqi/daily", **days),
    }
    for i, station in enumerate(stations):
        base = f"/api/v1/stations/{station}"
        out[f"{i} hourly"] = await _all(api, f"{base}/aqi/hourly", **span)
        out[f"{i} daily"] = await _all(api, f"{base}/aqi/daily", **days)
        out[f"{i} readings"] = await _all(api, f"{base}/readings", **span)
    return out


# --- posting order ------------------------------------------------------------------------


async def test_readings_posted_in_any_order_give_the_history_of_time_order(api: Api) -> None:
    """Each copy of the same readings on its own region and stations: one posted in time
    order, others shuffled in batches of random sizes (late and backfilled hours)."""
    histories = []
    for copy, seed in enumerate([None, 1, 2, 3]):
        region = f"HX{copy}"
        stations = [f"{region}S{i}" for i in range(3)]
        await _place(api, region, stations)
        rows = _readings(stations)
        if seed is None:
            rows.sort(key=lambda r: (r["_slot"][1], r["_slot"][0]))
            batches = [rows[i : i + 12] for i in range(0, len(rows), 12)]
        else:
            rng = random.Random(seed)
            rng.shuffle(rows)
            batches = []
            while rows:
                size = rng.randint(1, 25)
                batches.append(rows[:size])
                rows = rows[size:]
        for batch in batches:
            await _post(api, batch)
        histories.append(await _history(api, region, stations))
    ordered = histories[0]
    assert len(ordered["region daily"]) == 3 and len(ordered["0 hourly"]) > 40
    assert [d["aqi"] is not None for d in ordered["region daily"]] == [True, True, True]
    assert {d["edition"] for d in ordered["0 daily"]} == {"2012", "2026"}
    assert all(r["stations"] >= 1 for r in ordered["region hourly"])
    for shuffled in histories[1:]:
        assert shuffled == ordered


# --- paging, days, CSV ------------------------------------------------------------------------


async def _posted(api: Api) -> tuple[str, list[str], list[dict]]:
    region, stations = "HXP", ["HXPS0", "HXPS1"]
    await _place(api, region, stations)
    rows = _readings(stations, seed=11)
    for i in range(0, len(rows), 40):
        await _post(api, rows[i : i + 40])
    return region, stations, rows


async def test_pages_cover_every_hour_and_day_exactly_once(api: Api) -> None:
    region, stations, rows = await _posted(api)
    end = dt.datetime.fromisoformat(TO)
    mine = sorted(
        at
        for r in rows
        if r["station_id"] == stations[0]
        and (at := dt.datetime.fromisoformat(r["observed_at"])) < end
    )
    for url in (
        f"/api/v1/stations/{stations[0]}/aqi/hourly",
        f"/api/v1/stations/{stations[0]}/readings",
    ):
        pages, cursor = [], None
        while True:
            extra = {} if cursor is None else {"cursor": cursor}
            page = await _get(api, url, **{"from": FROM, "to": TO, "limit": 7}, **extra)
            assert len(page["items"]) <= 7
            pages.append(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        hours = [dt.datetime.fromisoformat(i["observed_at"]) for p in pages for i in p]
        assert hours == mine  # in time order, every stored hour once
        assert len(pages) == -(-len(mine) // 7)
    # from inclusive, to exclusive, in any offset
    first, last = mine[0], mine[-1]
    inner = {"from": first.isoformat(), "to": last.astimezone(dt.UTC).isoformat(), "limit": 1000}
    page = await _get(api, f"/api/v1/stations/{stations[0]}/aqi/hourly", **inner)
    got = [dt.datetime.fromisoformat(i["observed_at"]) for i in page["items"]]
    assert got == mine[:-1]
    # days: every local day starting in the range, one per page with limit=1
    daily = f"/api/v1/regions/{region}/aqi/daily"
    one_by_one = await _all(api, daily, **{"from": FROM, "to": TO, "limit": 1})
    assert [d["date"] for d in one_by_one] == DAYS
    assert [d["starts_at"] for d in one_by_one] == [
        "2026-02-27T00:00:00+08:00",
        "2026-02-28T00:00:00+08:00",
        "2026-03-01T00:00:00+08:00",
    ]
    assert one_by_one == (await _get(api, daily, **{"from": FROM, "to": TO}))["items"]
    # a day starting after `from` is the first; the day `to` falls in is not listed
    late = await _get(
        api, daily, **{"from": "2026-02-27T00:00:01+08:00", "to": "2026-03-01T12:00:00+08:00"}
    )
    assert [d["date"] for d in late["items"]] == ["2026-02-28", "2026-03-01"]


async def test_a_day_is_the_daily_aqi_of_its_readings_and_the_window_ending_at_midnight(
    api: Api,
) -> None:
    """A station's day: the core's daily functions over its 24 readings (01:00 .. 24:00
    local), scored with the day's edition; the same figures as the stored 24-hour result of
    the window ending at that local midnight, and likewise for the region."""
    _, stations, rows = await _posted(api)
    url = f"/api/v1/stations/{stations[0]}/aqi/daily"
    days = (await _get(api, url, **{"from": FROM, "to": TO}))["items"]
    region_days = await _get(api, "/api/v1/regions/HXP/aqi/daily", **{"from": FROM, "to": TO})
    scored = 0
    for found, region_day in zip(days, region_days["items"], strict=True):
        day = dt.date.fromisoformat(found["date"])
        values = {p: np.full(24, np.nan) for p in ("so2", "no2", "co", "o3", "pm10", "pm25")}
        for r in rows:
            at = dt.datetime.fromisoformat(r["observed_at"])
            if r["station_id"] == stations[0] and (at - dt.timedelta(hours=1)).date() == day:
                for p in values:
                    values[p][(at.hour - 1) % 24] = np.nan if r[p] is None else r[p]
        columns = {
            f"{p}_24h": averages.daily_mean(values[p]) for p in ("so2", "no2", "co", "pm10", "pm25")
        }
        columns["o3_8h"] = averages.o3_daily_max_8h(values["o3"])
        edition = "2012" if day < dt.date(2026, 3, 1) else "2026"
        table = evaluate_columns({k: np.atleast_1d(v) for k, v in columns.items()}, edition)
        expected = None if np.isnan(table.aqi[0]) else int(table.aqi[0])
        assert (found["aqi"], found["edition"]) == (expected, edition)
        assert found["hours"] == int((~np.isnan(values["pm25"])).sum())
        pm25 = float(columns["pm25_24h"])
        assert found["means"]["pm25_24h"] == (None if np.isnan(pm25) else pm25)
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL)
        async with api.runtime.session_maker() as session:
            stored = await session.get(AqiResult, (stations[0], midnight, "24h"))
            region = await session.get(RegionAqi, ("HXP", midnight, "24h"))
        if stored is not None:
            assert stored.aqi == found["aqi"]
            assert stored.means["pm25_24h"] == found["means"]["pm25_24h"]
        if region is not None:
            assert region.aqi == region_day["aqi"]
            # the stored window also counts a station whose only value is the moving 8h O3
            assert 1 <= region_day["stations"] <= region.stations
            assert region.means["o3_8h_max"] == region_day["means"]["o3_8h_max"]
        scored += expected is not None and stored is not None and region is not None
    assert scored >= 2


def _flat(item: dict) -> dict[str, str]:
    """A JSON item as the CSV promises it: nested objects spread, lists joined by ';'."""
    out = {}
    for key, value in item.items():
        if isinstance(value, dict):
            out.update({f"{key}_{k}": v for k, v in _flat(value).items()})
        elif key == "forecasts":  # a list of objects: a column per key, values joined
            for k in ("issued_at", "aqi", "driver", "lead_days"):
                out[f"{key}_{k}"] = ";".join(_text(v[k]) for v in value)
        elif isinstance(value, list):
            out[key] = ";".join(_text(v) for v in value)
        else:
            out[key] = _text(value)
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _csv_pages(api: Api, url: str, params: dict) -> list[dict[str, str]]:
    """Every CSV row, following the Link headers."""
    rows: list[dict[str, str]] = []
    answer = await api.client.get(
        url, params=params, headers=api.as_("operator", Accept="text/csv")
    )
    while True:
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "text/csv; charset=utf-8"
        rows += list(csv.DictReader(io.StringIO(answer.content.decode("utf-8"))))
        link = answer.headers.get("link")
        if link is None:
            return rows
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert match is not None, link
        answer = await api.client.get(
            match.group(1), headers=api.as_("operator", Accept="text/csv")
        )


async def test_csv_says_what_json_says_page_for_page(api: Api) -> None:
    region, stations, _ = await _posted(api)
    for url, limit in (
        (f"/api/v1/stations/{stations[1]}/aqi/hourly", 10),
        (f"/api/v1/stations/{stations[1]}/readings", 10),
        (f"/api/v1/stations/{stations[1]}/aqi/daily", 2),
        (f"/api/v1/regions/{region}/aqi/hourly", 10),
        (f"/api/v1/regions/{region}/aqi/daily", 2),
        (f"/api/v1/regions/{region}/aqi/forecasts", 2),
    ):
        params = {"from": FROM, "to": TO, "limit": limit, "lang": "en"}
        json_items = await _all(api, url, **params)
        assert json_items, url
        assert await _csv_pages(api, url, params) == [_flat(i) for i in json_items], url
    # an empty page still has its header; JSON stays the default and wins a tie
    empty = {"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}
    url = f"/api/v1/stations/{stations[1]}/aqi/hourly"
    answer = await api.client.get(url, params=empty, headers=api.as_("operator", Accept="text/csv"))
    assert answer.text.startswith("observed_at,aqi,category,category_name,primary,iaqi_so2,")
    tie = api.as_("operator", Accept="application/json, text/csv")
    assert (await api.client.get(url, params=empty, headers=tie)).json() == {
        "items": [],
        "next_cursor": None,
    }


# --- refusals -----------------------------------------------------------------------------------


HISTORY = (
    "/api/v1/stations/{s}/aqi/hourly",
    "/api/v1/stations/{s}/aqi/daily",
    "/api/v1/stations/{s}/readings",
    "/api/v1/regions/{r}/aqi/hourly",
    "/api/v1/regions/{r}/aqi/daily",
    "/api/v1/regions/{r}/aqi/forecasts",
)


def _url(path: str, station: str = "1502A01", region: str = "150203") -> str:
    return path.format(s=station, r=region)


async def _refused(api: Api, url: str, params: dict) -> httpx.Response:
    answer = await api.client.get(
        url, params=params, headers=api.as_("station", **{"Accept-Language": "en"})
    )
    assert answer.status_code in (404, 422), (url, params, answer.text)
    assert set(answer.json()["error"]) == {"code", "message", "messages", "details"}
    return answer


async def test_bad_ranges_and_cursors_are_422_with_their_codes(api: Api) -> None:
    cases = [
        ({"from": "2026-02-27T00:00:00", "to": TO}, "range.offset"),
        ({"from": FROM, "to": "2026-03-02T00:00:00"}, "range.offset"),
        ({"from": TO, "to": FROM}, "range.order"),
        ({"from": FROM, "to": FROM}, "range.order"),
        ({"from": "last week", "to": TO}, "request.invalid"),
        ({"to": TO}, "request.invalid"),
        ({"from": FROM, "to": TO, "limit": 0}, "request.invalid"),
        ({"from": FROM, "to": TO, "limit": 5000}, "request.invalid"),
        ({"from": FROM, "to": TO, "cursor": "not a cursor"}, "cursor.invalid"),
        ({"from": FROM, "to": TO, "cursor": "WzFd"}, "cursor.invalid"),  # [1]
    ]
    for path in HISTORY:
        for params, code in cases:
            answer = await _refused(api, _url(path), params)
            assert answer.status_code == 422 and answer.json()["error"]["code"] == code, (
                path,
                params,
                answer.text,
            )
    offset = await _refused(api, _url(HISTORY[0]), cases[0][0])
    assert offset.json()["error"]["message"] == "from needs a UTC offset"
    assert offset.json()["error"]["messages"]["zh-CN"] == "from 需要带时区偏移"


async def test_an_unknown_station_or_region_is_404(api: Api) -> None:
    span = {"from": FROM, "to": TO}
    for path in HISTORY:
        answer = await _refused(api, _url(path, "NOSUCH", "999999"), span)
        kind = "station" if "{s}" in path else "region"
        assert answer.status_code == 404 and answer.json()["error"]["code"] == f"{kind}.unknown"


async def test_every_role_reads_the_history(api: Api) -> None:
    span = {"from": FROM, "to": TO}
    for path in HISTORY:
        for role in ("operator", "station", "enterprise"):
            assert (await _get(api, _url(path), role, **span))["next_cursor"] is None


# --- forecasts against the observed days ------------------------------------------------------


async def test_each_region_day_shows_its_forecasts_and_a_missed_forecast(api: Api) -> None:
    region, stations = "HXF", ["HXFS0"]
    await _place(api, region, stations)
    rows = []
    for h in range(48):  # 27 Feb clean, 28 Feb heavily polluted
        at = START + dt.timedelta(hours=h)
        pm25 = 40 if h < 24 else 260
        rows.append(
            {
                "station_id": stations[0],
                "observed_at": at.isoformat(),
                "pm25": pm25,
                "pm10": pm25 + 30,
                "so2": 10,
                "no2": 30,
                "o3": 40,
                "co": 0.8,
            }
        )
    await _post(api, rows)
    forecast = {
        "region": region,
        "issued_at": "2026-02-26T16:00:00+08:00",
        "daily": [
            {"date": "2026-02-26", "aqi": 60},
            {"date": "2026-02-27", "aqi": 70},
            {"date": "2026-02-28", "aqi": 120},
        ],
    }
    answer = await api.client.post("/api/v1/forecasts", json=forecast, headers=api.as_("operator"))
    assert answer.status_code == 200 and answer.json()["level"] == "none", answer.text
    url = f"/api/v1/regions/{region}/aqi/forecasts"
    days = (await _get(api, url, **{"from": FROM, "to": TO}))["items"]
    assert [d["date"] for d in days] == DAYS
    clean, dirty, empty = days
    assert clean["aqi"] is not None and clean["aqi"] <= 100 and not clean["missed_forecast"]
    assert dirty["aqi"] > 200 and dirty["missed_forecast"] and not dirty["warned"]
    assert dirty["forecasts"] == [
        {"issued_at": "2026-02-26T16:00:00+08:00", "aqi": 120, "driver": "pm25", "lead_days": 2}
    ]
    assert empty["aqi"] is None and empty["forecasts"] == [] and not empty["missed_forecast"]


async def test_a_warning_in_force_that_day_clears_the_missed_flag(api: Api) -> None:
    """A forecast of a bad run issued ahead puts the region under warning for those days."""
    region, stations = "HXW", ["HXWS0"]
    await _place(api, region, stations)
    await api.client.put(
        "/api/v1/regions/HXW1", json={"name": "HXW1", "parent": region}, headers=api.as_("operator")
    )
    station = {"name": "HXW1S0", "lon": 109.8, "lat": 40.6, "region": "HXW1"}
    await api.client.put("/api/v1/stations/HXW1S0", json=station, headers=api.as_("operator"))
    rows = [
        {
            "station_id": s,
            "observed_at": (START + dt.timedelta(hours=h)).isoformat(),
            "pm25": 280,
            "pm10": 320,
            "so2": 10,
            "no2": 30,
            "o3": 40,
            "co": 0.8,
        }
        for s in ("HXWS0", "HXW1S0")
        for h in range(48)
    ]
    await _post(api, rows)
    forecast = {
        "region": region,
        "issued_at": "2026-02-27T20:00:00+08:00",
        "daily": [{"date": "2026-02-27", "aqi": 150}, {"date": "2026-02-28", "aqi": 260}],
    }
    answer = await api.client.post("/api/v1/forecasts", json=forecast, headers=api.as_("operator"))
    assert answer.status_code == 200 and answer.json()["level"] != "none", answer.text
    for place in (region, "HXW1"):  # the child is under its parent's warning
        days = (
            await _get(api, f"/api/v1/regions/{place}/aqi/forecasts", **{"from": FROM, "to": TO})
        )["items"]
        first, second, _ = days
        assert first["aqi"] > 200 and second["aqi"] > 200
        assert (first["warned"], first["missed_forecast"]) == (False, True), place
        assert (second["warned"], second["missed_forecast"]) == (True, False), place
    own = (await _get(api, f"/api/v1/regions/{region}/aqi/forecasts", **{"from": FROM, "to": TO}))[
        "items"
    ]
    assert [f["aqi"] for f in own[1]["forecasts"]] == [260]
    child = (await _get(api, "/api/v1/regions/HXW1/aqi/forecasts", **{"from": FROM, "to": TO}))[
        "items"
    ]
    assert child[1]["forecasts"] == []  # forecasts are the region's own


# --- the alerts listings, paged ---------------------------------------------------------------


async def _alert(api: Api, region: str, level: str) -> None:
    body = {"region": region, "level": level, "reason": {"zh-CN": "测试", "en": "test"}}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200, answer.text


async def test_alert_events_page_by_region_and_time(api: Api) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    for region, level in [
        ("150203001", "yellow"),
        ("150203002", "orange"),
        ("150203001", "orange"),
        ("150203001", "none"),
    ]:
        await _alert(api, region, level)
    everything = await _all(api, "/api/v1/alerts", limit=1)
    assert [(e["region"], e["kind"]) for e in everything] == [
        ("150203001", "issue"),
        ("150203002", "issue"),
        ("150203001", "upgrade"),
        ("150203001", "lift"),
    ]
    one = await _all(api, "/api/v1/alerts", region="150203001", limit=2)
    assert [e["kind"] for e in one] == ["issue", "upgrade", "lift"]
    times = [dt.datetime.fromisoformat(e["at"]) for e in everything]
    after = await _all(
        api,
        "/api/v1/alerts",
        **{"from": times[1].isoformat(), "to": times[3].isoformat(), "limit": 1},
    )
    assert after == everything[1:3]  # from inclusive, to exclusive
    assert (
        await _all(api, "/api/v1/alerts", **{"from": before.isoformat(), "limit": 3}) == everything
    )
    bad = await api.client.get(
        "/api/v1/alerts", params={"from": TO, "to": FROM}, headers=api.as_("operator")
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "range.order"
    naive = await api.client.get(
        "/api/v1/alerts", params={"to": "2026-03-02T00:00:00"}, headers=api.as_("operator")
    )
    assert naive.status_code == 422 and naive.json()["error"]["code"] == "range.offset"
    rows = await _csv_pages(api, "/api/v1/alerts", {"limit": 3, "lang": "en"})
    json_items = await _all(api, "/api/v1/alerts", limit=3, lang="en")
    assert rows == [_flat(i) for i in json_items]
    assert rows[0]["alert_level"] == "yellow"


async def test_active_alerts_page_by_region(api: Api) -> None:
    for region in ("150203003", "150203001", "150203002"):
        await _alert(api, region, "yellow")
    first = await _get(api, "/api/v1/alerts/active", limit=2)
    assert [a["region"] for a in first["items"]] == ["150203001", "150203002"]
    rest = await _get(api, "/api/v1/alerts/active", limit=2, cursor=first["next_cursor"])
    assert [a["region"] for a in rest["items"]] == ["150203003"] and rest["next_cursor"] is None
    bad = await api.client.get(
        "/api/v1/alerts/active", params={"cursor": "x"}, headers=api.as_("operator")
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "cursor.invalid"


async def test_a_region_of_many_stations_gets_fewer_days_a_page_and_still_every_day(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    region, _, _ = await _posted(api)
    url = f"/api/v1/regions/{region}/aqi/daily"
    whole = (await _get(api, url, **{"from": FROM, "to": TO}))["items"]
    monkeypatch.setattr(daily_aqi, "MAX_STATION_DAYS", 2)  # 2 stations: one day a page
    first = await _get(api, url, **{"from": FROM, "to": TO})
    assert len(first["items"]) == 1 and first["next_cursor"] is not None
    assert await _all(api, url, **{"from": FROM, "to": TO}) == whole
