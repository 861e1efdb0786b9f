"""Forecasts and alerts over the API: decisions, lifecycle, manual warnings, history."""

from __future__ import annotations

import datetime as dt

from api_client import Api

from emission_list.samples import kundulun_list

LOCAL = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TODAY = NOW.astimezone(LOCAL).date()


def _forecast(aqis: list[int], region: str = "150203", issued: dt.datetime = NOW) -> dict:
    days = [
        {"date": (TODAY + dt.timedelta(days=i)).isoformat(), "aqi": a} for i, a in enumerate(aqis)
    ]
    return {"region": region, "issued_at": issued.isoformat(), "daily": days}


async def _actions(api: Api, enterprise_id: str | None = None) -> dict:
    url = f"/api/v1/enterprises/{enterprise_id or api.enterprise_id}/actions"
    return (await api.client.get(url, headers=api.as_("operator"))).json()


async def test_a_forecast_decides_the_level_and_moves_the_actions_at_once(api: Api) -> None:
    answer = await api.client.post(
        "/api/v1/forecasts?lang=en",
        json=_forecast([220, 260, 240, 230]),
        headers=api.as_("operator"),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["level"] == "orange" and body["response"] == "full"
    assert body["rule_id"].startswith("national-2024/orange")
    assert body["reason"].startswith("Orange warning") and not body["duplicate"]
    assert [e["kind"] for e in body["events"]] == ["issue"]
    assert body["alert"]["level"] == "orange" and body["alert"]["source"] == "forecast"
    assert body["enterprises_changed"] == len(kundulun_list().entries)
    actions = await _actions(api)
    assert actions["level"] == "orange" and actions["alert"]["source"] == "forecast"
    chinese = await api.client.post(
        "/api/v1/forecasts",
        json=_forecast([220, 260, 240, 230], issued=NOW + dt.timedelta(seconds=1)),
        headers=api.as_("operator"),
    )
    assert chinese.json()["reason"].startswith("橙色预警")


async def test_the_same_forecast_twice_changes_nothing(api: Api) -> None:
    body = _forecast([220, 260, 240, 230])
    await api.client.post("/api/v1/forecasts", json=body, headers=api.as_("operator"))
    etag_before = (
        await api.client.get(
            f"/api/v1/enterprises/{api.enterprise_id}/actions", headers=api.as_("operator")
        )
    ).headers["etag"]
    again = await api.client.post("/api/v1/forecasts", json=body, headers=api.as_("operator"))
    assert again.status_code == 200
    assert again.json()["duplicate"] and again.json()["events"] == []
    assert again.json()["level"] == "orange" and again.json()["enterprises_changed"] == 0
    etag_after = (
        await api.client.get(
            f"/api/v1/enterprises/{api.enterprise_id}/actions", headers=api.as_("operator")
        )
    ).headers["etag"]
    assert etag_after == etag_before
    history = (
        await api.client.get("/api/v1/alerts?region=150203", headers=api.as_("operator"))
    ).json()
    assert [e["kind"] for e in history] == ["issue"]


async def test_a_clean_forecast_issues_nothing(api: Api) -> None:
    answer = await api.client.post(
        "/api/v1/forecasts", json=_forecast([80, 95, 70]), headers=api.as_("operator")
    )
    assert answer.json()["level"] == "none" and answer.json()["alert"] is None
    assert answer.json()["enterprises_changed"] == 0
    assert (await _actions(api))["level"] == "none"


async def test_bad_forecasts_are_refused(api: Api) -> None:
    operator = api.as_("operator")
    cases = {
        "region.unknown": _forecast([220, 260], region="999999"),
        "request.invalid": _forecast([-5, 260]),
    }
    for code, body in cases.items():
        answer = await api.client.post("/api/v1/forecasts", json=body, headers=operator)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code
    for broken in (
        {"region": "150203", "issued_at": NOW.isoformat(), "daily": []},
        {"region": "150203", "issued_at": "2026-11-23T10:00:00", "daily": _forecast([1])["daily"]},
        {"region": "150203", "daily": _forecast([1])["daily"]},
        _forecast([220]) | {"daily": [{"date": "tomorrow", "aqi": 220}]},
        _forecast([220]) | {"daily": [{"date": TODAY.isoformat(), "aqi": 220, "driver": "ufo"}]},
    ):
        answer = await api.client.post("/api/v1/forecasts", json=broken, headers=operator)
        assert answer.status_code == 422, broken
        assert answer.json()["error"]["details"]
    for role in ("station", "enterprise"):
        forbidden = await api.client.post(
            "/api/v1/forecasts", json=_forecast([220, 260]), headers=api.as_(role)
        )
        assert forbidden.status_code == 403


async def test_active_alerts_and_history_with_filters(api: Api) -> None:
    await api.client.post(
        "/api/v1/forecasts", json=_forecast([220, 260, 240, 230]), headers=api.as_("operator")
    )
    manual = {"region": "150200", "level": "yellow", "reason": {"zh-CN": "联防联控", "en": "joint"}}
    await api.client.post(
        "/api/v1/alerts", json=manual | {"source": "joint"}, headers=api.as_("operator")
    )
    active = (
        await api.client.get("/api/v1/alerts/active?lang=en", headers=api.as_("station"))
    ).json()
    assert [(a["region"], a["level"], a["source"]) for a in active] == [
        ("150200", "yellow", "joint"),
        ("150203", "orange", "forecast"),
    ]
    for alert in active:
        assert alert["response"] == "full" and alert["starts_at"] < alert["ends_at"]
        assert alert["reason"]
    # The city's yellow does not lower the district's orange.
    assert (await _actions(api))["level"] == "orange"
    history = (await api.client.get("/api/v1/alerts", headers=api.as_("enterprise"))).json()
    assert {(e["region"], e["kind"]) for e in history} == {("150203", "issue"), ("150200", "issue")}
    city = (
        await api.client.get("/api/v1/alerts?region=150200", headers=api.as_("operator"))
    ).json()
    assert [e["region"] for e in city] == ["150200"]
    later = (NOW + dt.timedelta(hours=1)).isoformat()
    none_yet = await api.client.get(
        "/api/v1/alerts", params={"since": later}, headers=api.as_("operator")
    )
    assert none_yet.json() == []
    naive = await api.client.get(
        "/api/v1/alerts", params={"since": "2026-11-01T00:00:00"}, headers=api.as_("operator")
    )
    assert naive.status_code == 422


async def test_a_manual_city_warning_covers_every_region_under_it_and_lifts(api: Api) -> None:
    operator = api.as_("operator")
    ends = (NOW + dt.timedelta(days=2)).isoformat()
    issue = {"region": "150200", "level": "orange", "reason": {"en": "city order"}, "ends_at": ends}
    answer = await api.client.post("/api/v1/alerts?lang=en", json=issue, headers=operator)
    assert answer.status_code == 200
    assert answer.json()["alert"]["source"] == "manual"
    assert answer.json()["enterprises_changed"] == len(kundulun_list().entries)
    for entry in kundulun_list().entries[::10]:
        body = await _actions(api, entry.enterprise_id)
        assert body["level"] == "orange" and body["alert"]["region"] == "150200"
        assert dt.datetime.fromisoformat(body["valid_until"]) == dt.datetime.fromisoformat(ends)
    lift = {"region": "150200", "level": "none", "reason": {"zh-CN": "解除"}}
    lifted = await api.client.post("/api/v1/alerts", json=lift, headers=operator)
    assert lifted.status_code == 200 and [e["kind"] for e in lifted.json()["events"]] == ["lift"]
    assert (await _actions(api))["level"] == "none"
    active = (await api.client.get("/api/v1/alerts/active", headers=operator)).json()
    assert active == []


async def test_bad_manual_warnings_are_refused(api: Api) -> None:
    operator = api.as_("operator")
    good = {"region": "150203", "level": "red", "reason": {"en": "x"}}
    past = (NOW - dt.timedelta(hours=1)).isoformat()
    cases = [
        (good | {"reason": {}}, "alert.reason"),
        (good | {"ends_at": past}, "alert.ends_at"),
        (good | {"region": "999999"}, "region.unknown"),
        (good | {"level": "purple"}, "request.invalid"),
        (good | {"source": "forecast"}, "request.invalid"),
    ]
    for body, code in cases:
        answer = await api.client.post("/api/v1/alerts", json=body, headers=operator)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code, body
    assert (await _actions(api))["level"] == "none"
    for role in ("station", "enterprise"):
        assert (
            await api.client.post("/api/v1/alerts", json=good, headers=api.as_(role))
        ).status_code == 403
