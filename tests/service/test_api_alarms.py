"""The follow-up of compliance alarms over the API: raised by the check (here recorded
through its service), explained by the enterprise, verified or closed by an operator."""

from __future__ import annotations

import datetime as dt

from api_client import Api

from emission_list.samples import kundulun_list
from service.services.alarms import Finding, record_cleared, record_findings
from service.storage.repositories import telemetry, utcnow

MN = "MN0001"
STARTED = utcnow().replace(second=0, microsecond=0) - dt.timedelta(minutes=10)


def _finding(api: Api, grade: str, subject: str = "P1", **evidence: object) -> Finding:
    started = STARTED
    return Finding(
        enterprise_id=api.enterprise_id,
        region="150203013",
        kind="production_over",
        subject=subject,
        grade=grade,
        level="orange",
        started_at=started,
        evidence={"mn": MN, "codes": ["e101"], **evidence},
    )


async def _record(api: Api, *findings: Finding) -> list[int]:
    async with api.runtime.session_maker() as session:
        changed = await record_findings(session, findings, utcnow())
        await session.commit()
        return [a.id for a in changed]


async def test_a_suspected_alarm_is_confirmed_explained_and_verified(api: Api) -> None:
    [alarm_id] = await _record(api, _finding(api, "suspected", power_kw=900.0))
    assert await _record(api, _finding(api, "suspected")) == []  # nothing new: no change
    assert await _record(api, _finding(api, "confirmed", power_kw=950.0)) == [alarm_id]
    async with api.runtime.session_maker() as session:
        start = STARTED - dt.timedelta(minutes=10)
        rows = [
            {
                "mn": MN,
                "code": "e101",
                "period": "m",
                "at": start + dt.timedelta(minutes=i),
                "enterprise_id": api.enterprise_id,
                "value": 900.0 + i,
                "flag": "N",
            }
            for i in range(20)
        ]
        await telemetry.store_values(session, rows)
        await telemetry.store_values(session, rows[:3])  # sent again: kept once
        await session.commit()

    detail = await api.client.get(f"/api/v1/alarms/{alarm_id}", headers=api.as_("enterprise"))
    body = detail.json()
    assert detail.status_code == 200 and body["grade"] == "confirmed"
    assert body["evidence"]["power_kw"] == 950.0
    assert [e["action"] for e in body["events"]] == ["raised", "confirmed"]
    assert [p["value"] for p in body["series"]] == [900.0 + i for i in range(20)]

    other = kundulun_list().entries[1].enterprise_id
    stranger = await api.token("enterprise", enterprise_id=other)
    hidden = await api.client.get(
        f"/api/v1/alarms/{alarm_id}", headers={"Authorization": f"Bearer {stranger}"}
    )
    assert hidden.status_code == 404
    theirs = await api.client.get("/api/v1/alarms", headers={"Authorization": f"Bearer {stranger}"})
    assert theirs.json()["items"] == []

    url = f"/api/v1/alarms/{alarm_id}"
    by_operator = await api.client.post(
        f"{url}/explanation", json={"text": "x"}, headers=api.as_("operator")
    )
    assert by_operator.status_code == 403
    explained = await api.client.post(
        f"{url}/explanation",
        json={"text": "检修后试车 / test run after repair"},
        headers=api.as_("enterprise"),
    )
    assert explained.status_code == 200 and explained.json()["status"] == "explained"
    not_theirs = await api.client.post(
        f"{url}/verify", json={"note": "现场核实"}, headers=api.as_("enterprise")
    )
    assert not_theirs.status_code == 403
    verified = await api.client.post(
        f"{url}/verify", json={"note": "现场核实"}, headers=api.as_("operator")
    )
    assert verified.json()["status"] == "verified"
    again = await api.client.post(f"{url}/close", json={}, headers=api.as_("operator"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "alarm.status"
    trail = [e["action"] for e in verified.json()["events"]]
    assert trail == ["raised", "confirmed", "explained", "verified"]

    # once verified, the same condition found again is a new alarm
    [newer] = await _record(api, _finding(api, "suspected"))
    assert newer != alarm_id


async def test_operators_filter_alarms_and_a_cleared_condition_is_recorded(api: Api) -> None:
    first, second = await _record(
        api, _finding(api, "confirmed", "P1"), _finding(api, "suspected", "P2")
    )
    async with api.runtime.session_maker() as session:
        cleared = await record_cleared(
            session, [(api.enterprise_id, "production_over", "P2")], utcnow()
        )
        await session.commit()
    assert [a.id for a in cleared] == [second]

    operator = api.as_("operator")
    every = await api.client.get("/api/v1/alarms", headers=operator)
    assert [a["id"] for a in every.json()["items"]] == [second, first]  # newest first
    in_region = await api.client.get("/api/v1/alarms?region=150203", headers=operator)
    assert len(in_region.json()["items"]) == 2
    elsewhere = await api.client.get("/api/v1/alarms?region=150203001", headers=operator)
    assert elsewhere.json()["items"] == []
    confirmed_only = await api.client.get(
        "/api/v1/alarms?status=open&level=orange", headers=operator
    )
    assert len(confirmed_only.json()["items"]) == 2
    paged = await api.client.get("/api/v1/alarms?limit=1", headers=operator)
    cursor = paged.json()["next_cursor"]
    rest = await api.client.get(f"/api/v1/alarms?limit=1&cursor={cursor}", headers=operator)
    assert [a["id"] for a in rest.json()["items"]] == [first]
    mine = await api.client.get(
        f"/api/v1/enterprises/{api.enterprise_id}/alarms", headers=api.as_("enterprise")
    )
    assert {a["id"] for a in mine.json()["items"]} == {first, second}
    assert mine.json()["items"][0]["cleared_at"] is not None
    station = await api.client.get("/api/v1/alarms", headers=api.as_("station"))
    assert station.status_code == 403
    closed = await api.client.post(
        f"/api/v1/alarms/{first}/close", json={"note": "停产核实无误"}, headers=operator
    )
    assert closed.json()["status"] == "closed"
