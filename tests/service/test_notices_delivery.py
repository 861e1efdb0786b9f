"""Notices on the embedded default, on SQLite and PostgreSQL: a warning's change reaches each
subscribed enterprise's webhook (a real receiver on 127.0.0.1), signed, once in effect
through the receiver's failures, superseded when a newer one comes first, and ended by the
termination notice."""

from __future__ import annotations

import json

import pytest
from api_client import Api, served_api
from notify_helpers import FAST_RETRIES, eventually, warn
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from service.storage.models import Delivery
from tests.infra.receiver import Receiver


async def _subscribe(api: Api, url: str, role: str = "operator") -> dict:
    body = {"channel": "webhook", "target": url, "enterprise_id": api.enterprise_id}
    made = await api.client.post("/api/v1/subscriptions", json=body, headers=api.as_(role))
    assert made.status_code == 201, made.text
    return made.json()


async def _deliveries(api: Api) -> list[Delivery]:
    async with api.runtime.session_maker() as session:
        return list((await session.execute(select(Delivery).order_by(Delivery.id))).scalars())


async def test_a_warning_reaches_the_webhook_signed_once_in_effect_through_two_failures(
    notify_api: Api, receiver: Receiver
) -> None:
    api = notify_api
    receiver.fail_first, receiver.fail_status = 2, 503
    subscription = await _subscribe(api, receiver.url, role="enterprise")
    assert subscription["secret"].startswith("whsec_")
    assert subscription["enterprise_id"] == api.enterprise_id
    await warn(api, "orange")

    async def delivered() -> bool:
        return any(d.status == "delivered" for d in await _deliveries(api))

    await eventually(delivered, "the orange notice delivered")
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 1 and len(receiver.received) == 3  # two failures, then accepted
    assert [r.answered for r in receiver.received] == [503, 503, 200]
    verifier = Webhook(subscription["secret"])
    for request in receiver.received:  # each try signed anew, every one verifies
        verifier.verify(request.body, request.headers)
    body = json.loads(receiver.received[-1].body)
    assert body["type"] == "actions.changed"
    data = body["data"]
    assert data["enterprise_id"] == api.enterprise_id and data["level"] == "orange"
    actions = await api.client.get(
        f"/api/v1/enterprises/{api.enterprise_id}/actions", headers=api.as_("enterprise")
    )
    polled = actions.json()
    assert data["production_cut"] == pytest.approx(polled["production_cut"])
    assert data["reductions_kg_per_day"] == pytest.approx(polled["reductions_kg_per_day"])
    (delivery,) = await _deliveries(api)
    assert delivery.attempts == 3 and delivery.last_status == 200


async def test_a_lift_sends_the_termination_notice(notify_api: Api, receiver: Receiver) -> None:
    api = notify_api
    await _subscribe(api, receiver.url)
    await warn(api, "yellow")
    await eventually(lambda: _count(receiver, 1), "the yellow notice")
    await warn(api, "none")
    await eventually(lambda: _count(receiver, 2), "the termination notice")
    first, last = receiver.accepted_bodies()
    assert (first["type"], first["data"]["level"]) == ("actions.changed", "yellow")
    assert (last["type"], last["data"]["level"]) == ("actions.ended", "none")
    assert last["data"]["previous_level"] == "yellow"


async def _count(receiver: Receiver, n: int) -> bool:
    return len(receiver.accepted_bodies()) >= n


async def test_a_newer_notice_supersedes_an_undelivered_one_never_orange_after_red(
    notify_api: Api, receiver: Receiver
) -> None:
    api = notify_api
    receiver.fail_first, receiver.fail_status, receiver.retry_after = 1, 429, "3600"
    await _subscribe(api, receiver.url)
    await warn(api, "orange")

    async def orange_waits() -> bool:
        found = await _deliveries(api)
        return len(found) == 1 and found[0].attempts == 1 and found[0].lease_until is None

    await eventually(orange_waits, "the orange notice refused once (retry in an hour)")
    (orange,) = await _deliveries(api)
    assert (orange.next_attempt_at - orange.created_at).total_seconds() >= 3500  # Retry-After
    receiver.fail_first = 0
    await warn(api, "red")

    async def red_delivered() -> bool:
        return [d.status for d in await _deliveries(api)] == ["superseded", "delivered"]

    await eventually(red_delivered, "the red notice delivered, the orange one superseded")
    assert [b["data"]["level"] for b in receiver.accepted_bodies()] == ["red"]


async def test_a_receiver_that_answers_410_disables_its_subscription(
    notify_api: Api, receiver: Receiver
) -> None:
    api = notify_api
    receiver.answer_status = 410
    made = await _subscribe(api, receiver.url)
    await warn(api, "orange")

    async def disabled() -> bool:
        answer = await api.client.get(
            f"/api/v1/subscriptions/{made['id']}", headers=api.as_("operator")
        )
        return answer.json()["status"] == "disabled"

    await eventually(disabled, "the subscription disabled")
    assert [d.status for d in await _deliveries(api)] == ["disabled"]


async def test_a_notice_undelivered_past_the_give_up_is_dead_listed_and_sent_again(
    seeded_database_url: str, receiver: Receiver
) -> None:
    receiver.fail_first, receiver.fail_status = 10**6, 500
    async with served_api(seeded_database_url, **FAST_RETRIES, notify_give_up_hours=0.0005) as api:
        await _subscribe(api, receiver.url)
        await warn(api, "orange")
        operator = api.as_("operator")

        async def dead() -> bool:
            return [d.status for d in await _deliveries(api)] == ["dead"]

        await eventually(dead, "the notice given up after its 1.8 s")
        listed = await api.client.get("/api/v1/deliveries?status=dead", headers=operator)
        (item,) = listed.json()["items"]
        assert item["attempts"] >= 2 and item["last_status"] == 500
        assert "HTTP 500" in item["last_error"]
        ids_before = {r.headers["webhook-id"] for r in receiver.received}
        receiver.fail_first = 0
        again = await api.client.post(f"/api/v1/deliveries/{item['id']}/resend", headers=operator)
        assert again.status_code == 202 and again.json()["status"] == "pending"
        twice = await api.client.post(f"/api/v1/deliveries/{item['id']}/resend", headers=operator)
        assert twice.status_code == 409 and twice.json()["error"]["code"] == "delivery.not_dead"

        async def delivered() -> bool:
            return [d.status for d in await _deliveries(api)] == ["delivered"]

        await eventually(delivered, "the resent notice delivered")
        assert {r.headers["webhook-id"] for r in receiver.received} == ids_before  # same id
        assert receiver.received[-1].answered == 200
