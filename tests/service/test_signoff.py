"""Sign-off over the API, on both databases: a region's ``requires_signoff`` (``PUT
/regions/{id}``) makes the decisions of its forecasts wait as proposals (``GET
/alerts/proposals``) until an operator signs them off (``POST /alerts/{region}/approve``).

The sample's enterprises all sit in Kundulun (150203, under Baotou 150200). An orange
forecast (AQI 220, 260, 240, 230) under the national rules issues orange.
"""

from __future__ import annotations

import datetime as dt

from api_client import Api
from sqlalchemy import select
from test_api_warnings import ENTERPRISES, ORANGE, _forecast, _get, _levels, _post_forecast

from service.storage.models import AuditEntry

KUNDULUN = {"name": {"zh-CN": "昆都仑区", "en": "Kundulun District"}, "parent": "150200"}
BAOTOU = {"name": {"zh-CN": "包头市", "en": "Baotou"}, "parent": "150000", "kind": "city"}


async def _signoff(api: Api, region: str, body: dict, required: bool) -> dict:
    answer = await api.client.put(
        f"/api/v1/regions/{region}",
        json=body | {"requires_signoff": required},
        headers=api.as_("operator"),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _approve(api: Api, region: str, role: str = "operator", **params: str):
    return await api.client.post(
        f"/api/v1/alerts/{region}/approve", params=params, headers=api.as_(role)
    )


async def test_a_forecast_under_signoff_waits_until_an_operator_signs_it_off(api: Api) -> None:
    district = KUNDULUN | {"kind": "district"}
    assert (await _signoff(api, "150203", district, True))["requires_signoff"] is True
    regions = await api.client.get("/api/v1/regions", headers=api.as_("operator"))
    flags = {r["region_id"]: r["requires_signoff"] for r in regions.json()["items"]}
    assert flags["150203"] is True and flags["150200"] is False

    issued = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
    decision = (await _post_forecast(api, _forecast(ORANGE, issued=issued))).json()
    assert decision["level"] == "orange"
    assert [e["kind"] for e in decision["events"]] == ["propose"]
    assert decision["alert"] is None  # nothing in force: it waits
    assert await _levels(api, ENTERPRISES[::20]) == {"none"}

    queue = await _get(api, "/api/v1/alerts/proposals")
    assert len(queue) == 1
    waiting = queue[0]
    assert (waiting["region"], waiting["kind"], waiting["level"]) == ("150203", "issue", "orange")
    assert waiting["current_level"] == "none" and waiting["response"] == "full"
    assert dt.datetime.fromisoformat(waiting["proposed_at"]) == issued
    assert 30 * 60 <= waiting["wait_s"] < 40 * 60 and waiting["late"] is False
    assert waiting["rule_id"] == decision["rule_id"]

    answer = await _approve(api, "150203", lang="en")
    assert answer.status_code == 200, answer.text
    change = answer.json()
    assert [e["kind"] for e in change["events"]] == ["approve", "issue"]
    assert change["events"][0]["reason"].startswith("Signed off by")
    assert change["alert"]["level"] == "orange" and change["alert"]["source"] == "forecast"
    assert change["enterprises_changed"] == len(ENTERPRISES)
    assert await _levels(api, ENTERPRISES[::20]) == {"orange"}
    assert await _get(api, "/api/v1/alerts/proposals") == []

    history = await _get(api, "/api/v1/alerts", region="150203")
    assert [e["kind"] for e in history] == ["propose", "approve", "issue"]
    async with api.runtime.session_maker() as session:
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "alert.approve"))
    assert audit is not None and audit.target == "region/150203"
    assert audit.details["wait_s"] >= 30 * 60

    again = await _approve(api, "150203")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "alert.no_proposal"


async def test_a_citys_signoff_applies_to_its_districts_and_a_late_wait_is_marked(
    api: Api,
) -> None:
    await _signoff(api, "150200", BAOTOU, True)
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
    decision = (await _post_forecast(api, _forecast(ORANGE, issued=issued))).json()
    assert [e["kind"] for e in decision["events"]] == ["propose"]
    (waiting,) = await _get(api, "/api/v1/alerts/proposals")
    assert waiting["region"] == "150203" and waiting["late"] is True
    assert waiting["wait_s"] >= 3 * 3600
    change = (await _approve(api, "150203", lang="en")).json()
    assert "over the 2-hour target" in change["events"][0]["reason"]


async def test_without_signoff_a_forecast_issues_at_once_and_nothing_waits(api: Api) -> None:
    district = KUNDULUN | {"kind": "district"}
    await _signoff(api, "150203", district, True)
    # PUT replaces the region: without the field its warnings no longer wait.
    answer = await api.client.put(
        "/api/v1/regions/150203", json=district, headers=api.as_("operator")
    )
    assert answer.json()["requires_signoff"] is False
    decision = (await _post_forecast(api, _forecast(ORANGE))).json()
    assert [e["kind"] for e in decision["events"]] == ["issue"]
    assert await _get(api, "/api/v1/alerts/proposals") == []
    nothing = await _approve(api, "150203")
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "alert.no_proposal"


async def test_an_operators_warning_by_hand_takes_effect_at_once_under_signoff(api: Api) -> None:
    await _signoff(api, "150203", KUNDULUN | {"kind": "district"}, True)
    await _post_forecast(api, _forecast(ORANGE))
    body = {"region": "150203", "level": "yellow", "reason": {"zh-CN": "人工", "en": "by hand"}}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200
    assert answer.json()["alert"]["level"] == "yellow"
    assert await _get(api, "/api/v1/alerts/proposals") == []  # the proposal is withdrawn


async def test_only_operators_see_the_queue_and_sign_off(api: Api) -> None:
    for role in ("enterprise", "station"):
        queue = await api.client.get("/api/v1/alerts/proposals", headers=api.as_(role))
        assert queue.status_code == 403
        assert (await _approve(api, "150203", role)).status_code == 403
    unknown = await _approve(api, "999999")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "region.unknown"


async def test_the_openapi_document_names_the_new_answers(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    approve = paths["/api/v1/alerts/{region}/approve"]["post"]["responses"]
    assert {"200", "403", "404", "409"} <= set(approve)
    assert "200" in paths["/api/v1/alerts/proposals"]["get"]["responses"]
    region_in = (await api.client.get("/openapi.json")).json()["components"]["schemas"]["RegionIn"]
    assert region_in["properties"]["requires_signoff"]["default"] is False
