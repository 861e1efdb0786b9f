"""Inputs that answered 500 under fuzzing (issue 11, section 2) answer a coded 4xx, on SQLite
and on PostgreSQL, and the answers are the ones the OpenAPI document describes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from api_client import Api
from sqlalchemy import select

from service.storage.models import Station

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
GOOD_ROW = {"station_id": "1502A01", "observed_at": HOUR.isoformat(), "pm25": 80, "pm10": 120}
STATION = {"name": "Test", "lon": 109.8, "lat": 40.6, "region": "150203003"}
CALENDAR_ENDS = ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00")


def _code(answer) -> str:
    return answer.json()["error"]["code"]


# --- station_id of the wrong type --------------------------------------------------------


@pytest.mark.parametrize("station_id", [{"a": 1}, ["1502A01"]], ids=["object", "list"])
async def test_a_station_id_of_the_wrong_type_is_its_rows_error_and_the_good_rows_are_kept(
    api: Api, station_id: object
) -> None:
    rows = [GOOD_ROW, {**GOOD_ROW, "station_id": station_id, "observed_at": HOUR.isoformat()}]
    answer = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("operator"))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1]
    assert body["rejected"][0]["errors"][0]["field"] == "station_id"


# --- NUL bytes and lone surrogates ---------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "station", "enterprise"])
async def test_a_nul_in_the_query_is_refused_for_every_role(api: Api, role: str) -> None:
    answer = await api.client.get("/api/v1/stations?region=%00", headers=api.as_(role))
    assert answer.status_code == 422, answer.text
    assert _code(answer) == "request.invalid_text"
    assert answer.json()["error"]["details"][0]["loc"] == ["query", "region"]


async def test_a_nul_in_the_path_is_refused(api: Api) -> None:
    answer = await api.client.get("/api/v1/stations/15%0002/aqi", headers=api.as_("station"))
    assert answer.status_code == 422, answer.text
    assert _code(answer) == "request.invalid_text"


async def _stations_named(api: Api, station_id: str) -> list[Station]:
    async with api.runtime.session_maker() as session:
        return list(await session.scalars(select(Station).where(Station.station_id == station_id)))


@pytest.mark.parametrize(
    "name", ['"A\\u0000B"', '"\\ud800"', '{"en": "x\\udfff"}'], ids=["nul", "high", "low"]
)
async def test_a_nul_or_a_lone_surrogate_in_a_json_body_is_refused_and_nothing_is_stored(
    api: Api, name: str
) -> None:
    body = '{"lon": 109.8, "lat": 40.6, "region": "150203003", "name": ' + name + "}"
    headers = api.as_("operator", **{"content-type": "application/json"})
    answer = await api.client.put("/api/v1/stations/T1", content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert _code(answer) == "request.invalid_text"
    assert answer.json()["error"]["details"][0]["loc"][:2] == ["body", "name"]
    assert await _stations_named(api, "T1") == []


async def test_an_escaped_backslash_before_u0000_is_plain_text_and_kept(api: Api) -> None:
    body = json.dumps({**STATION, "name": "a\\u0000b"})  # the six characters \u0000
    headers = api.as_("operator", **{"content-type": "application/json"})
    answer = await api.client.put("/api/v1/stations/T2", content=body, headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "a\\u0000b"


async def test_a_caller_without_a_token_gets_401_before_the_text_is_judged(api: Api) -> None:
    answer = await api.client.get("/api/v1/stations?region=%00")
    assert answer.status_code == 401
    assert _code(answer) == "auth.missing"


# --- dates at the ends of the calendar ------------------------------------------------------


@pytest.mark.parametrize("since", [*CALENDAR_ENDS, "0.5", "1700000000"])
async def test_since_at_a_calendar_end_or_as_a_number_is_refused(api: Api, since: str) -> None:
    answer = await api.client.get(
        "/api/v1/alerts", params={"since": since}, headers=api.as_("enterprise")
    )
    assert answer.status_code == 422, answer.text
    assert _code(answer) == "request.invalid"
    assert answer.json()["error"]["details"][0]["loc"] == ["query", "since"]


async def test_since_without_an_offset_is_still_refused(api: Api) -> None:
    answer = await api.client.get(
        "/api/v1/alerts", params={"since": "2026-12-01T00:00:00"}, headers=api.as_("operator")
    )
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("expires_at", [*CALENDAR_ENDS, 0])
async def test_a_token_expiring_at_a_calendar_end_is_refused(api: Api, expires_at: object) -> None:
    body = {"role": "station", "station_ids": ["1502A01"], "expires_at": expires_at}
    answer = await api.client.post("/api/v1/tokens", json=body, headers=api.as_("operator"))
    assert answer.status_code == 422, answer.text
    assert _code(answer) == "request.invalid"


async def test_a_token_expiring_late_in_9999_but_inside_the_calendar_is_taken(api: Api) -> None:
    body = {"role": "station", "station_ids": ["1502A01"], "expires_at": "9999-01-01T00:00:00Z"}
    answer = await api.client.post("/api/v1/tokens", json=body, headers=api.as_("operator"))
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("at", CALENDAR_ENDS)
async def test_a_reading_at_a_calendar_end_is_rejected_by_index_and_the_good_rows_kept(
    api: Api, at: str
) -> None:
    rows = [GOOD_ROW, {**GOOD_ROW, "observed_at": at}]
    answer = await api.client.post("/api/v1/readings", json=rows, headers=api.as_("operator"))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1]


@pytest.mark.parametrize(
    ("field", "value"), [("issued_at", CALENDAR_ENDS[0]), ("issued_at", 0), ("ends_at", 0)]
)
async def test_forecasts_and_alerts_refuse_calendar_ends_and_numbers_as_times(
    api: Api, field: str, value: object
) -> None:
    if field == "issued_at":
        path = "/api/v1/forecasts"
        body = {"region": "150203", "issued_at": value, "daily": [{"date": "2026-12-02", "aqi": 9}]}
    else:
        path = "/api/v1/alerts"
        body = {"region": "150203", "level": "yellow", "reason": {"en": "x"}, field: value}
    answer = await api.client.post(path, json=body, headers=api.as_("operator"))
    assert answer.status_code == 422, answer.text
    # a forecast's issue time out of range has the code of the forecast checks
    expected = "forecast.issued_at.too_early" if value == CALENDAR_ENDS[0] else "request.invalid"
    assert _code(answer) == expected


async def test_a_forecast_starting_before_its_issue_date_is_refused_with_422(api: Api) -> None:
    issued = dt.datetime.now(dt.UTC).isoformat()
    cases = {
        "forecast.starts_before_issue": [{"date": "2000-01-01", "aqi": 9}],
        "forecast.days_not_consecutive": [{"date": "2999-01-01", "aqi": 9}] * 2,
    }
    for code, daily in cases.items():
        body = {"region": "150203", "issued_at": issued, "daily": daily}
        answer = await api.client.post("/api/v1/forecasts", json=body, headers=api.as_("operator"))
        assert answer.status_code == 422, answer.text
        assert _code(answer) == code


async def test_a_publication_date_as_a_number_is_refused(api: Api) -> None:
    draft = await api.client.post("/api/v1/list/revisions", headers=api.as_("operator"))
    number = draft.json()["number"]
    answer = await api.client.post(
        f"/api/v1/list/revisions/{number}/publish",
        json={"effective_from": 0},
        headers=api.as_("operator"),
    )
    assert answer.status_code == 422, answer.text


# --- revision numbers beyond the database's integer range -------------------------------


@pytest.mark.parametrize("number", [2**31, 2**63, 0])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "diff"),
        ("GET", "preview"),
        ("POST", "publish"),
        ("PUT", "enterprises/X"),
        ("DELETE", "enterprises/X"),
    ],
)
async def test_a_revision_number_outside_the_integer_range_is_refused(
    api: Api, number: int, method: str, path: str
) -> None:
    answer = await api.client.request(
        method,
        f"/api/v1/list/revisions/{number}/{path}",
        json={} if method == "PUT" else None,
        headers=api.as_("operator"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["loc"] == ["path", "number"]


# --- answers as the schema documents them ---------------------------------------------------


async def test_405_lists_every_method_of_the_path(api: Api) -> None:
    answer = await api.client.request("OPTIONS", "/api/v1/tokens", headers=api.as_("operator"))
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    answer = await api.client.patch(
        "/api/v1/list/revisions/1/enterprises/X", headers=api.as_("operator")
    )
    assert answer.headers["allow"] == "DELETE, PUT"


async def test_a_body_that_is_not_json_answers_a_documented_coded_400(api: Api) -> None:
    headers = api.as_("operator", **{"content-type": "application/json"})
    answer = await api.client.post("/api/v1/tokens", content=b"\xff{", headers=headers)
    assert answer.status_code == 400, answer.text
    assert _code(answer) == "request.unreadable"
    paths = api.app.openapi()["paths"]
    assert "400" in paths["/api/v1/tokens"]["post"]["responses"]
    assert "201" in paths["/api/v1/stations/{station_id}"]["put"]["responses"]
    assert "503" in paths["/api/v1/forecasts"]["post"]["responses"]


@pytest.mark.parametrize(
    "body",
    [
        {**STATION, "lat": False},
        {**STATION, "name": {"en": 5}},
        {**STATION, "name": {"en": "x", "fr": "y"}},
    ],
    ids=["bool-lat", "number-name", "extra-language"],
)
async def test_a_station_body_outside_its_schema_is_refused(api: Api, body: dict) -> None:
    answer = await api.client.put("/api/v1/stations/T3", json=body, headers=api.as_("operator"))
    assert answer.status_code == 422, answer.text


async def test_a_station_kind_longer_than_its_column_is_refused(api: Api) -> None:
    body = {**STATION, "kind": "k" * 17}  # the column is VARCHAR(16): a 500 on PostgreSQL
    answer = await api.client.put("/api/v1/stations/T4", json=body, headers=api.as_("operator"))
    assert answer.status_code == 422, answer.text
    assert await _stations_named(api, "T4") == []
