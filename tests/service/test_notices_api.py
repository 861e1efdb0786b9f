"""Subscriptions, notices, acknowledgements, escalation and region alert notices over the API,
on SQLite and PostgreSQL, with a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

from api_client import Api
from notify_helpers import eventually, warn

from consumers.escalation import Escalator
from service.storage.repositories import utcnow
from tests.infra.receiver import Receiver

HOOK = "http://127.0.0.1:9/hook"


async def _post(api: Api, role: str, **body: object):
    return await api.client.post("/api/v1/subscriptions", json=body, headers=api.as_(role))


async def test_who_may_subscribe_to_what(notify_api: Api) -> None:
    api = notify_api
    own = await _post(api, "enterprise", channel="webhook", target=HOOK)
    assert own.status_code == 201 and own.json()["enterprise_id"] == api.enterprise_id
    assert own.headers["cache-control"] == "no-store"
    theirs = await _post(
        api, "other", channel="webhook", target=HOOK, enterprise_id=api.enterprise_id
    )
    assert theirs.status_code == 403
    region = await _post(api, "enterprise", channel="webhook", target=HOOK, region="150203")
    assert region.status_code == 403
    station = await _post(api, "station", channel="webhook", target=HOOK)
    assert station.status_code == 403
    neither = await _post(api, "operator", channel="webhook", target=HOOK)
    assert neither.status_code == 422 and neither.json()["error"]["code"] == "subscription.scope"
    unknown = await _post(api, "operator", channel="webhook", target=HOOK, region="999999")
    assert unknown.json()["error"]["code"] == "region.unknown"
    bad = await _post(api, "operator", channel="webhook", target="ftp://x", region="150203")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "subscription.target"
    assert set(bad.json()["error"]["messages"]) == {"zh-CN", "en"}
    # an enterprise lists and reads only its own; another's answers 404
    mine = await api.client.get("/api/v1/subscriptions", headers=api.as_("other"))
    assert mine.json()["items"] == []
    sid = own.json()["id"]
    hidden = await api.client.get(f"/api/v1/subscriptions/{sid}", headers=api.as_("other"))
    assert hidden.status_code == 404
    listed = await api.client.get("/api/v1/subscriptions", headers=api.as_("operator"))
    assert [s["id"] for s in listed.json()["items"]] == [sid]
    assert "secret" not in listed.json()["items"][0]
    gone = await api.client.delete(f"/api/v1/subscriptions/{sid}", headers=api.as_("enterprise"))
    assert gone.status_code == 204
    again = await api.client.get(f"/api/v1/subscriptions/{sid}", headers=api.as_("operator"))
    assert again.status_code == 404


async def _notices(api: Api, query: str = "", role: str = "operator") -> list[dict]:
    path = f"/api/v1/enterprises/{api.enterprise_id}/notices{query}"
    answer = await api.client.get(path, headers=api.as_(role))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_an_enterprise_acknowledges_its_notice_and_the_operators_see_who_did_not(
    notify_api: Api,
) -> None:
    api = notify_api
    await warn(api, "orange")

    async def noticed() -> bool:
        return len(await _notices(api)) == 1

    await eventually(noticed, "the orange notice stored")
    (notice,) = await _notices(api, role="enterprise")
    assert notice["level"] == "orange" and notice["acknowledged_at"] is None
    later = await api.client.get(
        "/api/v1/notices",
        params={"status": "unacknowledged", "level": "orange", "older_than": "PT30M"},
        headers=api.as_("operator"),
    )
    assert later.json()["items"] == []  # made just now: not yet 30 minutes old
    waiting = await api.client.get(
        "/api/v1/notices",
        params={"status": "unacknowledged", "level": "orange"},
        headers=api.as_("operator"),
    )
    waiting_ids = {n["enterprise_id"] for n in waiting.json()["items"]}
    assert api.enterprise_id in waiting_ids
    assert len(waiting_ids) == len(api.runtime.state.board.evaluator.compiled)  # all of Kundulun
    # another enterprise may neither read nor acknowledge it
    path = f"/api/v1/enterprises/{api.enterprise_id}/notices/{notice['id']}/ack"
    assert (await api.client.post(path, headers=api.as_("other"))).status_code == 404
    acked = await api.client.post(path, headers=api.as_("enterprise"))
    assert acked.status_code == 200 and acked.json()["acknowledged_at"] is not None
    again = await api.client.post(path, headers=api.as_("enterprise"))
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]
    unacked = await api.client.get(
        "/api/v1/notices", params={"status": "unacknowledged"}, headers=api.as_("operator")
    )
    assert api.enterprise_id not in {n["enterprise_id"] for n in unacked.json()["items"]}
    station = await api.client.get("/api/v1/notices", headers=api.as_("station"))
    assert station.status_code == 403


async def test_an_unacknowledged_red_notice_is_sent_again_then_to_the_second_contact(
    notify_api: Api, receiver: Receiver
) -> None:
    api = notify_api
    second = await Receiver().start()
    try:
        made = await _post(
            api,
            "operator",
            channel="webhook",
            target=receiver.url,
            second_target=second.url,
            enterprise_id=api.enterprise_id,
        )
        assert made.status_code == 201
        await warn(api, "red")
        await eventually(lambda: _got(receiver, 1), "the red notice")
        settings = api.runtime.settings
        escalator = Escalator(api.runtime.session_maker, settings, api.runtime.kick_workers)
        soon = utcnow() + dt.timedelta(minutes=settings.escalate_after_min - 1)
        assert await escalator.run_once(soon) == 0  # not yet
        first = utcnow() + dt.timedelta(minutes=settings.escalate_after_min + 1)
        assert await escalator.run_once(first) == 1
        assert await escalator.run_once(first) == 0  # a step is taken once
        await eventually(lambda: _got(receiver, 2), "the red notice sent again")
        last = utcnow() + dt.timedelta(minutes=settings.escalate_second_after_min + 1)
        assert await escalator.run_once(last) == 1
        await eventually(lambda: _got(second, 1), "the red notice at the second contact")
        bodies = receiver.accepted_bodies() + second.accepted_bodies()
        assert {b["data"]["notice_id"] for b in bodies} == {bodies[0]["data"]["notice_id"]}
        ids = [r.headers["webhook-id"] for r in receiver.received + second.received]
        assert len(set(ids)) == 3  # each step is a new message
        (notice,) = await _notices(api)
        assert notice["escalation"] == 2
        assert sorted(d["stage"] for d in notice["deliveries"]) == [0, 1, 2]
    finally:
        await second.stop()


async def _got(receiver: Receiver, n: int) -> bool:
    return len(receiver.accepted_bodies()) >= n


async def test_an_acknowledged_notice_is_not_chased(notify_api: Api, receiver: Receiver) -> None:
    api = notify_api
    await _post(
        api, "operator", channel="webhook", target=receiver.url, enterprise_id=api.enterprise_id
    )
    await warn(api, "orange")
    await eventually(lambda: _got(receiver, 1), "the orange notice")
    (notice,) = await _notices(api)
    path = f"/api/v1/enterprises/{api.enterprise_id}/notices/{notice['id']}/ack"
    assert (await api.client.post(path, headers=api.as_("enterprise"))).status_code == 200
    settings = api.runtime.settings
    escalator = Escalator(api.runtime.session_maker, settings, api.runtime.kick_workers)
    late = utcnow() + dt.timedelta(minutes=settings.escalate_second_after_min + 1)
    assert await escalator.run_once(late) == 0


async def test_a_region_subscription_hears_of_the_alerts_of_its_region(
    notify_api: Api, receiver: Receiver
) -> None:
    api = notify_api
    events = ["alert.issued", "alert.changed", "alert.ended"]
    made = await _post(
        api, "operator", channel="webhook", target=receiver.url, region="150200", events=events
    )
    assert made.status_code == 201
    await warn(api, "orange")  # Kundulun, under Baotou
    await eventually(lambda: _got(receiver, 1), "alert.issued")
    await warn(api, "red")
    await eventually(lambda: _got(receiver, 2), "alert.changed")
    await warn(api, "none")
    await eventually(lambda: _got(receiver, 3), "alert.ended")
    bodies = receiver.accepted_bodies()
    assert [b["type"] for b in bodies] == events
    assert [b["data"]["level"] for b in bodies] == ["orange", "red", "none"]
    assert {b["data"]["region"] for b in bodies} == {"150203"}
    # no enterprise notice reached it: it asked for alerts only
    assert all("enterprise_id" not in b["data"] for b in bodies)
