"""Warnings over the API: ``POST /forecasts``, ``GET /alerts/active``, ``GET /alerts`` and
``POST /alerts``, and what they do to the enterprises' actions.

The sample's 90 enterprises all sit in Kundulun (150203, under the city 150200). Under the
national rules (环大气〔2024〕6号, emission_list/data/warning_rules.json) a forecast of daily
AQI 220, 260, 240, 230 from today is orange (AQI > 200 for 48 hours or more) and 250, 320,
260, 230 is red (> 200 for 72 hours with a day > 300).
"""

from __future__ import annotations

import datetime as dt

import httpx
from api_client import Api
from sqlalchemy import func, select

from emission_list.samples import kundulun_list
from service.storage.models import AlertEvent, AuditEntry, Forecast

LOCAL = dt.timezone(dt.timedelta(hours=8))
ORANGE = [220, 260, 240, 230]
RED = [250, 320, 260, 230]
ENTERPRISES = [e.enterprise_id for e in kundulun_list().entries]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _forecast(aqis: list[int], region: str = "150203", issued: dt.datetime | None = None) -> dict:
    issued = issued or _now()
    today = issued.astimezone(LOCAL).date()
    days = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate(aqis)
    ]
    return {"region": region, "issued_at": issued.isoformat(), "daily": days}


def _end_of_run(issued: dt.datetime, days: int) -> dt.datetime:
    """The local midnight ending a run of ``days`` days starting on the local day of issue."""
    today = issued.astimezone(LOCAL).date()
    return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(), LOCAL)


async def _post_forecast(
    api: Api, body: dict, role: str = "operator", **params: str
) -> httpx.Response:
    return await api.client.post(
        "/api/v1/forecasts", json=body, params=params, headers=api.as_(role)
    )


async def _post_alert(
    api: Api, body: dict, role: str = "operator", **params: str
) -> httpx.Response:
    return await api.client.post("/api/v1/alerts", json=body, params=params, headers=api.as_(role))


async def _actions(api: Api, enterprise_id: str | None = None, **params: str) -> httpx.Response:
    answer = await api.client.get(
        f"/api/v1/enterprises/{enterprise_id or api.enterprise_id}/actions",
        params=params,
        headers=api.as_("operator"),
    )
    assert answer.status_code == 200
    return answer


async def _levels(api: Api, enterprise_ids: list[str]) -> set[str]:
    return {(await _actions(api, e)).json()["level"] for e in enterprise_ids}


async def _count(api: Api, table: type) -> int:
    async with api.runtime.session_maker() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def _get(api: Api, url: str, role: str = "operator", **params: str) -> list[dict]:
    answer = await api.client.get(url, params=params, headers=api.as_(role))
    assert answer.status_code == 200, answer.text
    page = answer.json()
    if url.startswith("/api/v1/alerts"):  # the alerts listings are pages
        assert page["next_cursor"] is None
        return page["items"]
    return page


# --- POST /forecasts --------------------------------------------------------------------------


async def test_an_orange_forecast_is_decided_explained_and_moves_the_actions_at_once(
    api: Api,
) -> None:
    issued = _now()
    body = _forecast(ORANGE, issued=issued)
    answer = await _post_forecast(api, body)
    assert answer.status_code == 200
    decision = answer.json()
    assert decision["region"] == "150203" and decision["duplicate"] is False
    assert decision["level"] == "orange" and decision["response"] == "full"
    assert decision["rule_id"] == "national-2024/orange.aqi200x48h"
    assert decision["days"] == [d["date"] for d in body["daily"]]
    # The reason names the level, the rule and the days (Chinese by default).
    assert decision["reason"].startswith("橙色预警")
    assert "national-2024/orange.aqi200x48h" in decision["reason"]
    assert all(d["date"] in decision["reason"] for d in body["daily"])
    assert [e["kind"] for e in decision["events"]] == ["issue"]
    assert decision["events"][0]["reason"].startswith("发布橙色预警")
    assert dt.datetime.fromisoformat(decision["events"][0]["at"]) == issued
    alert = decision["alert"]
    assert (alert["region"], alert["level"], alert["source"], alert["status"]) == (
        "150203",
        "orange",
        "forecast",
        "active",
    )
    assert dt.datetime.fromisoformat(alert["starts_at"]) == issued
    assert dt.datetime.fromisoformat(alert["ends_at"]) == _end_of_run(issued, 4)
    assert alert["forecast_days"] == decision["days"]
    assert decision["enterprises_changed"] == len(ENTERPRISES) > 0
    # The enterprise sees it at once, with its own token too.
    own = await api.client.get(
        f"/api/v1/enterprises/{api.enterprise_id}/actions", headers=api.as_("enterprise")
    )
    actions = own.json()
    assert actions["level"] == "orange" and actions["response"] == "full"
    assert actions["alert"]["region"] == "150203" and actions["alert"]["source"] == "forecast"
    assert actions["production_cut"] > 0 and actions["actions"]
    assert dt.datetime.fromisoformat(actions["valid_until"]) == _end_of_run(issued, 4)
    assert await _levels(api, ENTERPRISES[::15]) == {"orange"}
    assert await _count(api, Forecast) == 1


async def test_forecast_reasons_are_in_english_on_request(api: Api) -> None:
    english = (await _post_forecast(api, _forecast(ORANGE), lang="en")).json()
    assert english["reason"].startswith("Orange warning: forecast daily AQI > 200")
    assert english["events"][0]["reason"].startswith("Orange warning issued")
    assert english["alert"]["reason"] == english["reason"]
    later = _forecast(ORANGE, issued=_now() + dt.timedelta(seconds=1))
    header = await api.client.post(
        "/api/v1/forecasts", json=later, headers=api.as_("operator", **{"Accept-Language": "en"})
    )
    assert header.json()["reason"].startswith("Orange warning")
    chinese = (
        await _post_forecast(api, _forecast(ORANGE, issued=_now() + dt.timedelta(seconds=2)))
    ).json()
    assert chinese["reason"].startswith("橙色预警")


async def test_the_same_forecast_posted_again_is_a_duplicate_and_changes_nothing(
    api: Api,
) -> None:
    issued = _now()
    body = _forecast(ORANGE, issued=issued)
    first = (await _post_forecast(api, body)).json()
    before = await _actions(api)
    events = await _count(api, AlertEvent)
    # Once as sent, once with the same instant written in local time.
    same_instant = body | {"issued_at": issued.astimezone(LOCAL).isoformat()}
    for again in (body, same_instant):
        answer = await _post_forecast(api, again)
        assert answer.status_code == 200
        repeat = answer.json()
        assert repeat["duplicate"] is True and repeat["events"] == []
        assert repeat["enterprises_changed"] == 0
        assert repeat["level"] == "orange" and repeat["alert"] == first["alert"]
    after = await _actions(api)
    assert after.headers["etag"] == before.headers["etag"] and after.json() == before.json()
    assert await _count(api, Forecast) == 1 and await _count(api, AlertEvent) == events == 1
    history = await _get(api, "/api/v1/alerts", region="150203")
    assert [e["kind"] for e in history] == ["issue"]


async def test_a_forecast_reposted_with_the_same_issue_time_but_other_days_is_a_conflict(
    api: Api,
) -> None:
    issued = _now()
    first = await _post_forecast(api, _forecast(ORANGE, issued=issued))
    assert first.status_code == 200 and first.json()["level"] == "orange"
    answer = await _post_forecast(api, _forecast(RED, issued=issued), lang="en")
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "forecast.conflict" and "issued_at" in error["messages"]["en"]
    assert error["details"][0]["field"] == "issued_at"
    assert await _count(api, Forecast) == 1
    assert await _levels(api, ENTERPRISES[:3]) == {"orange"}


async def test_a_clean_forecast_issues_nothing(api: Api) -> None:
    answer = await _post_forecast(api, _forecast([80, 95, 140]), lang="en")
    decision = answer.json()
    assert answer.status_code == 200
    assert decision["level"] == "none" and decision["rule_id"] is None
    assert decision["response"] is None and decision["days"] == []
    assert decision["reason"].startswith("No warning")
    assert decision["events"] == [] and decision["alert"] is None
    assert decision["enterprises_changed"] == 0
    assert (await _actions(api)).json()["level"] == "none"
    assert await _get(api, "/api/v1/alerts/active") == []


async def test_a_worse_forecast_upgrades_and_one_starting_tomorrow_keeps_today_covered(
    api: Api,
) -> None:
    issued = _now() - dt.timedelta(seconds=10)  # all three issued in the past
    await _post_forecast(api, _forecast(ORANGE, issued=issued))
    # Today 180, then three days above 300: red from tomorrow's local midnight; the orange in
    # force stays until then.
    tomorrow = _forecast([180, 320, 330, 310], issued=issued + dt.timedelta(seconds=1))
    decision = (await _post_forecast(api, tomorrow, lang="en")).json()
    assert decision["level"] == "red"
    assert decision["rule_id"] == "national-2024/red.aqi200x72h.peak300x24h"
    assert [e["kind"] for e in decision["events"]] == ["upgrade"]
    assert dt.datetime.fromisoformat(decision["alert"]["starts_at"]) == _end_of_run(issued, 1)
    actions = (await _actions(api)).json()
    assert actions["level"] == "orange"
    assert dt.datetime.fromisoformat(actions["valid_until"]) == _end_of_run(issued, 1)
    active = await _get(api, "/api/v1/alerts/active")
    assert [(a["region"], a["level"]) for a in active] == [("150203", "orange"), ("150203", "red")]
    # Then red from today on.
    red = await _post_forecast(api, _forecast(RED, issued=issued + dt.timedelta(seconds=2)))
    # The same level again: a hold, which brings the scheduled red forward to now.
    assert red.json()["level"] == "red" and red.json()["events"][0]["kind"] == "hold"
    starts = dt.datetime.fromisoformat(red.json()["alert"]["starts_at"])
    assert starts == issued + dt.timedelta(seconds=2)
    assert await _levels(api, ENTERPRISES[::15]) == {"red"}


async def test_bad_forecasts_are_refused_and_change_nothing(api: Api) -> None:
    unknown = await _post_forecast(api, _forecast(ORANGE, region="999999"), lang="en")
    assert unknown.status_code == 422
    error = unknown.json()["error"]
    assert error["code"] == "region.unknown" and error["message"] == "Unknown region 999999"
    assert error["details"] == [{"field": "region", "value": "999999"}]
    good = _forecast(ORANGE)
    day = good["daily"][0]
    cases = {
        "negative AQI": (good | {"daily": [day | {"aqi": -5}]}, ["body", "daily", "0", "aqi"]),
        "AQI as text": (good | {"daily": [day | {"aqi": "high"}]}, ["body", "daily", "0", "aqi"]),
        "no daily": ({k: v for k, v in good.items() if k != "daily"}, ["body", "daily"]),
        "empty daily": (good | {"daily": []}, ["body", "daily"]),
        "daily not a list": (good | {"daily": None}, ["body", "daily"]),
        "no offset": (good | {"issued_at": "2026-11-23T10:00:00"}, ["body", "issued_at"]),
        "no region": ({k: v for k, v in good.items() if k != "region"}, ["body", "region"]),
        "bad date": (good | {"daily": [day | {"date": "tomorrow"}]}, None),
        "bad driver": (good | {"daily": [day | {"driver": "ufo"}]}, None),
    }
    for name, (body, loc) in cases.items():
        answer = await _post_forecast(api, body)
        assert answer.status_code == 422, name
        error = answer.json()["error"]
        assert error["code"] == "request.invalid" and error["details"], name
        if loc is not None:
            assert error["details"][0]["loc"] == loc, name
    assert await _count(api, Forecast) == 0
    assert await _get(api, "/api/v1/alerts") == []
    assert (await _actions(api)).json()["level"] == "none"


async def test_only_an_operator_may_post_a_forecast(api: Api) -> None:
    for role in ("station", "enterprise"):
        answer = await _post_forecast(api, _forecast(ORANGE), role=role)
        assert answer.status_code == 403, role
        assert answer.json()["error"]["code"] == "auth.forbidden"
    assert await _count(api, Forecast) == 0
    assert (await _actions(api)).json()["level"] == "none"


# --- GET /alerts/active and GET /alerts --------------------------------------------------------


async def test_active_alerts_list_each_region_with_its_level_times_source_and_reason(
    api: Api,
) -> None:
    issued = _now()
    await _post_forecast(api, _forecast(ORANGE, issued=issued))
    ends = issued + dt.timedelta(days=1)
    joint = {
        "region": "150200",
        "level": "yellow",
        "source": "joint",
        "reason": {"zh-CN": "区域联防联控", "en": "Joint regional warning"},
        "ends_at": ends.isoformat(),
    }
    assert (await _post_alert(api, joint)).status_code == 200
    for role in ("operator", "station", "enterprise"):
        active = await _get(api, "/api/v1/alerts/active", role, lang="en")
        assert [(a["region"], a["level"], a["response"], a["source"]) for a in active] == [
            ("150200", "yellow", "full", "joint"),
            ("150203", "orange", "full", "forecast"),
        ]
    city, district = active
    assert city["reason"] == "Joint regional warning" and city["status"] == "active"
    assert dt.datetime.fromisoformat(city["ends_at"]) == ends
    assert dt.datetime.fromisoformat(district["starts_at"]) == issued
    assert dt.datetime.fromisoformat(district["ends_at"]) == _end_of_run(issued, 4)
    assert district["reason"].startswith("Orange warning")
    chinese = await _get(api, "/api/v1/alerts/active")
    assert [a["reason"][:4] for a in chinese] == ["区域联防", "橙色预警"]
    # The city's yellow does not lower the district's orange.
    assert (await _actions(api)).json()["level"] == "orange"


async def test_alert_history_is_filtered_by_region_and_since(api: Api) -> None:
    start = _now()
    await _post_forecast(api, _forecast(ORANGE, issued=start))
    manual = {"region": "150200", "level": "yellow", "reason": {"zh-CN": "人工预警"}}
    await _post_alert(api, manual)
    await _post_alert(api, manual | {"level": "none", "reason": {"zh-CN": "解除"}})
    everything = await _get(api, "/api/v1/alerts", "enterprise", lang="en")
    assert [(e["region"], e["kind"]) for e in everything] == [
        ("150203", "issue"),
        ("150200", "issue"),
        ("150200", "lift"),
    ]
    times = [dt.datetime.fromisoformat(e["at"]) for e in everything]
    assert times == sorted(times)
    lift = everything[2]
    assert lift["previous_level"] == "yellow" and lift["alert"]["region"] == "150200"
    assert everything[0]["alert"]["source"] == "forecast"
    assert everything[1]["alert"]["source"] == "manual"
    assert everything[0]["reason"].startswith("Orange warning issued")
    city = await _get(api, "/api/v1/alerts", region="150200")
    assert [e["kind"] for e in city] == ["issue", "lift"]
    assert {e["region"] for e in city} == {"150200"}
    assert await _get(api, "/api/v1/alerts", region="150203001") == []
    # since, in any offset: the same instant in local time keeps everything, a later one drops it.
    earlier = (start - dt.timedelta(seconds=1)).astimezone(LOCAL).isoformat()
    assert len(await _get(api, "/api/v1/alerts", since=earlier)) == 3
    later = (_now() + dt.timedelta(minutes=5)).isoformat()
    assert await _get(api, "/api/v1/alerts", since=later) == []
    both = await _get(api, "/api/v1/alerts", region="150203", since=earlier)
    assert [e["kind"] for e in both] == ["issue"]
    for since in ("2026-11-01T00:00:00", "last week"):
        answer = await api.client.get(
            "/api/v1/alerts", params={"since": since}, headers=api.as_("operator")
        )
        assert answer.status_code == 422, since
        error = answer.json()["error"]
        assert error["code"] == "request.invalid" and error["details"][0]["loc"][-1] == "since"


# --- POST /alerts -----------------------------------------------------------------------------


async def test_a_manual_orange_for_the_city_covers_every_enterprise_under_it(api: Api) -> None:
    ends = _now() + dt.timedelta(days=2)
    issue = {
        "region": "150200",
        "level": "orange",
        "reason": {"zh-CN": "市政府发布橙色预警", "en": "The city issued an orange warning"},
        "ends_at": ends.astimezone(LOCAL).isoformat(),
    }
    answer = await _post_alert(api, issue, lang="en")
    assert answer.status_code == 200
    change = answer.json()
    assert change["region"] == "150200" and [e["kind"] for e in change["events"]] == ["issue"]
    assert change["alert"]["level"] == "orange" and change["alert"]["source"] == "manual"
    assert change["alert"]["reason"] == "The city issued an orange warning"
    assert dt.datetime.fromisoformat(change["alert"]["ends_at"]) == ends
    assert change["enterprises_changed"] == len(ENTERPRISES)
    for enterprise_id in ENTERPRISES[::9]:
        actions = (await _actions(api, enterprise_id)).json()
        assert actions["level"] == "orange" and actions["response"] == "full"
        assert actions["alert"]["region"] == "150200" and actions["alert"]["source"] == "manual"
        assert dt.datetime.fromisoformat(actions["valid_until"]) == ends
    active = await _get(api, "/api/v1/alerts/active")
    assert [(a["region"], a["source"], a["reason"]) for a in active] == [
        ("150200", "manual", "市政府发布橙色预警")
    ]
    history = await _get(api, "/api/v1/alerts", region="150200")
    assert [(e["kind"], e["alert"]["source"]) for e in history] == [("issue", "manual")]
    async with api.runtime.session_maker() as session:
        query = select(AuditEntry).where(AuditEntry.target == "region/150200")
        audited = (await session.scalars(query)).all()
    assert [(a.action, a.details["level"], a.details["source"]) for a in audited] == [
        ("alert.manual", "orange", "manual")
    ]


async def test_a_joint_warning_records_its_source(api: Api) -> None:
    joint = {"region": "150203", "level": "red", "source": "joint", "reason": {"en": "joint"}}
    change = (await _post_alert(api, joint)).json()
    assert change["alert"]["source"] == "joint" and change["alert"]["level"] == "red"
    assert change["alert"]["reason"] == "joint"  # one language is used for both
    actions = (await _actions(api, ENTERPRISES[-1])).json()
    assert actions["level"] == "red" and actions["alert"]["source"] == "joint"
    active = await _get(api, "/api/v1/alerts/active")
    assert [(a["region"], a["level"], a["source"]) for a in active] == [("150203", "red", "joint")]


async def test_level_none_lifts_a_manual_warning_and_the_actions_follow(api: Api) -> None:
    issue = {"region": "150200", "level": "orange", "reason": {"zh-CN": "橙色"}}
    await _post_alert(api, issue)
    assert await _levels(api, ENTERPRISES[::30]) == {"orange"}
    lift = {"region": "150200", "level": "none", "reason": {"zh-CN": "解除", "en": "Lifted"}}
    answer = await _post_alert(api, lift, lang="en")
    assert answer.status_code == 200
    change = answer.json()
    assert [e["kind"] for e in change["events"]] == ["lift"]
    assert change["events"][0]["reason"].endswith("Lifted")
    assert change["alert"] is None and change["enterprises_changed"] == len(ENTERPRISES)
    assert await _levels(api, ENTERPRISES[::10]) == {"none"}
    actions = (await _actions(api)).json()
    assert actions["alert"] is None and actions["actions"] == []
    assert actions["production_cut"] == 0 and actions["valid_until"] is None
    assert await _get(api, "/api/v1/alerts/active") == []
    history = await _get(api, "/api/v1/alerts", region="150200")
    assert [(e["kind"], e["previous_level"]) for e in history] == [
        ("issue", "none"),
        ("lift", "orange"),
    ]


async def test_an_operator_lifts_a_forecast_warning_by_hand(api: Api) -> None:
    await _post_forecast(api, _forecast(ORANGE))
    lift = {"region": "150203", "level": "none", "reason": {"en": "Wind arrived early"}}
    change = (await _post_alert(api, lift)).json()
    assert [e["kind"] for e in change["events"]] == ["lift"]
    assert change["enterprises_changed"] == len(ENTERPRISES)
    assert (await _actions(api)).json()["level"] == "none"
    assert await _get(api, "/api/v1/alerts/active") == []


async def test_bad_manual_warnings_are_refused_and_change_nothing(api: Api) -> None:
    good = {"region": "150203", "level": "red", "reason": {"en": "x"}}
    past = (_now() - dt.timedelta(hours=1)).isoformat()
    cases = [
        ({k: v for k, v in good.items() if k != "reason"}, "request.invalid"),
        (good | {"reason": {}}, "alert.reason"),
        (good | {"reason": {"zh-CN": "", "en": ""}}, "alert.reason"),
        (good | {"reason": "plain text"}, "request.invalid"),
        (good | {"ends_at": past}, "alert.ends_at"),
        (good | {"ends_at": "2030-01-01T00:00:00"}, "request.invalid"),
        (good | {"region": "999999"}, "region.unknown"),
        (good | {"level": "purple"}, "request.invalid"),
        ({k: v for k, v in good.items() if k != "level"}, "request.invalid"),
        (good | {"source": "forecast"}, "request.invalid"),
        (good | {"response": "everything"}, "request.invalid"),
    ]
    for body, code in cases:
        answer = await _post_alert(api, body, lang="en")
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == code, body
    messages = {
        code: (await _post_alert(api, body, lang="en")).json()["error"]["message"]
        for body, code in cases
        if code != "request.invalid"
    }
    assert messages == {
        "alert.reason": "A reason is required",
        "alert.ends_at": "ends_at is in the past",
        "region.unknown": "Unknown region 999999",
    }
    assert await _get(api, "/api/v1/alerts") == []
    assert await _get(api, "/api/v1/alerts/active") == []
    assert (await _actions(api)).json()["level"] == "none"


async def test_only_an_operator_may_issue_a_warning_by_hand(api: Api) -> None:
    good = {"region": "150200", "level": "orange", "reason": {"en": "x"}}
    for role in ("station", "enterprise"):
        for body in (good, good | {"level": "none"}):
            answer = await _post_alert(api, body, role=role)
            assert answer.status_code == 403, (role, body)
            assert answer.json()["error"]["code"] == "auth.forbidden"
    assert await _get(api, "/api/v1/alerts") == []
    assert (await _actions(api)).json()["level"] == "none"


async def test_a_forecast_that_cannot_be_decided_is_refused_with_a_code_per_problem(
    api: Api,
) -> None:
    good = _forecast(ORANGE)
    days = good["daily"]
    gap = good | {"daily": [days[0], days[2]]}
    yesterday = dt.date.fromisoformat(days[0]["date"]) - dt.timedelta(days=1)
    early = good | {"daily": [{"date": yesterday.isoformat(), "aqi": 100}, *days]}
    long = _forecast([100] * 16)
    year_one = {
        "region": "150203",
        "issued_at": "0001-01-01T00:00:00+08:00",
        "daily": [{"date": "0001-01-01", "aqi": 100}],
    }
    late = _forecast(ORANGE, issued=_now() + dt.timedelta(days=1))
    expected = {
        "forecast.days_not_consecutive": gap,
        "forecast.starts_before_issue": early,
        "forecast.too_many_days": long,
        "forecast.issued_at.too_early": year_one,
        "forecast.future": late,
    }
    for code, body in expected.items():
        answer = await _post_forecast(api, body)
        assert answer.status_code == 422, (code, answer.text)
        error = answer.json()["error"]
        assert error["code"] == code and error["details"][0]["code"] == code
        assert error["messages"]["zh-CN"] and error["messages"]["en"]
    async with api.runtime.session_maker() as session:
        assert await session.scalar(select(func.count()).select_from(Forecast)) == 0
    assert api.runtime.dead_lettered == 0  # refused before the bus: nothing queued
    assert (await _post_forecast(api, good)).status_code == 200
