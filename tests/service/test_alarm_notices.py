"""Notices of compliance alarms (``alarm.raised``) on SQLite and PostgreSQL: an alarm reaches
its enterprise's webhook subscription and a region's, signed as the other notices; a
confirmation is a second notice; subscriptions that did not ask for alarms, or of another
enterprise, get none."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest_asyncio
from api_client import Api
from notify_helpers import eventually
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from service.services.alarm_notices import record_alarm_notices
from service.services.alarms import Finding, record_cleared, record_findings
from service.storage.models import Delivery, Notice
from service.storage.repositories import notices, utcnow
from tests.infra.receiver import Receiver

STARTED = dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.UTC)  # 02:00 in Baotou


@pytest_asyncio.fixture
async def quiet() -> AsyncIterator[Receiver]:
    """A second receiver, for the subscriptions that must hear nothing."""
    started = await Receiver().start()
    yield started
    await started.stop()


def _finding(api: Api, grade: str) -> Finding:
    return Finding(
        enterprise_id=api.enterprise_id,
        region="150203013",
        kind="production_over",
        subject="L1",
        grade=grade,
        level="orange",
        started_at=STARTED,
        evidence={"mn": "MN0001", "codes": ["e101"], "power_kw": 950.0, "line_name": "1号烧结线"},
    )


async def _subscribe(api: Api, role: str, url: str, events: list[str], **scope: str) -> dict:
    body = {"channel": "webhook", "target": url, "events": events, **scope}
    made = await api.client.post("/api/v1/subscriptions", json=body, headers=api.as_(role))
    assert made.status_code == 201, made.text
    return made.json()


async def _raise(api: Api, finding: Finding) -> tuple[list[int], bool]:
    """What the compliance runner does: record the findings, then their notices, one
    transaction; then kick the workers."""
    now = utcnow()
    async with api.runtime.session_maker() as session:
        changed = await record_findings(session, [finding], now)
        stored = await record_alarm_notices(session, changed, now, tree=api.runtime.state.tree)
        await session.commit()
    api.runtime.kick_workers()
    return [a.id for a in changed], stored


async def _deliveries(api: Api) -> list[Delivery]:
    async with api.runtime.session_maker() as session:
        return list((await session.execute(select(Delivery).order_by(Delivery.id))).scalars())


async def _delivered(api: Api, n: int) -> bool:
    return sum(d.status == "delivered" for d in await _deliveries(api)) >= n


async def test_an_alarm_reaches_the_enterprise_and_its_region_signed(
    notify_api: Api, receiver: Receiver, quiet: Receiver
) -> None:
    api = notify_api
    own = await _subscribe(api, "enterprise", receiver.url, ["actions.changed", "alarm.raised"])
    region = await _subscribe(api, "operator", receiver.url, ["alarm.raised"], region="150200")
    orders_only = await _subscribe(api, "enterprise", quiet.url, ["actions.changed"])
    other = await _subscribe(api, "other", quiet.url, ["alarm.raised"])
    elsewhere = await _subscribe(api, "operator", quiet.url, ["alarm.raised"], region="150203001")

    [alarm_id], stored = await _raise(api, _finding(api, "suspected"))
    assert stored
    await eventually(lambda: _delivered(api, 2), "the suspected alarm at both subscriptions")
    sent = await _deliveries(api)
    assert {d.subscription_id for d in sent} == {own["id"], region["id"]}
    secrets = {own["id"]: own["secret"], region["id"]: region["secret"]}
    by_message = {f"msg_{d.id}": d.subscription_id for d in sent}
    for request in receiver.received:
        subscription = by_message[request.headers["webhook-id"]]
        Webhook(secrets[subscription]).verify(request.body, request.headers)

    detail = await api.client.get(f"/api/v1/alarms/{alarm_id}", headers=api.as_("operator"))
    alarm = detail.json()
    for body in receiver.accepted_bodies():
        assert body["type"] == "alarm.raised"
        data = body["data"]
        assert data["event"] == "alarm.raised" and data["alarm_id"] == alarm_id
        for field in ("enterprise_id", "region", "kind", "subject", "grade", "level", "evidence"):
            assert data[field] == alarm[field], field
        assert data["subject_name"] == "1号烧结线" and data["previous_grade"] is None
        assert data["alarm"] == f"/api/v1/alarms/{alarm_id}"
        assert data["name"]["zh-CN"] and "acknowledge" not in data

    # the same condition again changes nothing: no notice; the confirmation is a second one
    assert await _raise(api, _finding(api, "suspected")) == ([], False)
    [same], stored = await _raise(api, _finding(api, "confirmed"))
    assert same == alarm_id and stored
    await eventually(lambda: _delivered(api, 4), "the confirmation at both subscriptions")
    confirmed = [json.loads(r.body) for r in receiver.received if r.answered == 200][2:]
    assert [(b["data"]["grade"], b["data"]["previous_grade"]) for b in confirmed] == [
        ("confirmed", "suspected")
    ] * 2

    async with api.runtime.session_maker() as session:
        cleared = await record_cleared(session, [_finding(api, "confirmed").key], utcnow())
        assert not await record_alarm_notices(session, cleared, utcnow())
        await session.commit()
        # alarm notices stay out of the chain of the enterprise's orders
        assert await notices.latest(session, [api.enterprise_id]) == {}
        events = (await session.execute(select(Notice.event, Notice.enterprise_id))).all()
        assert events == [("alarm.raised", None)] * 2
    assert quiet.received == []
    assert {d.subscription_id for d in await _deliveries(api)} == {own["id"], region["id"]}
    assert {orders_only["id"], other["id"], elsewhere["id"]}.isdisjoint(
        d.subscription_id for d in await _deliveries(api)
    )


async def test_a_confirmation_supersedes_the_suspicion_not_yet_sent(notify_api: Api) -> None:
    """Raised and confirmed before anything was sent: the receiver gets the confirmation."""
    api = notify_api
    made = await _subscribe(
        api, "operator", "http://127.0.0.1:9/hook", ["alarm.raised"], region="150203"
    )
    now = utcnow()
    async with api.runtime.session_maker() as session:
        raised = await record_findings(session, [_finding(api, "suspected")], now)
        assert await record_alarm_notices(session, raised, now)
        later = now + dt.timedelta(minutes=5)
        upgraded = await record_findings(session, [_finding(api, "confirmed")], later)
        assert await record_alarm_notices(session, upgraded, later)
        await session.commit()
    sent = await _deliveries(api)
    assert [(d.subscription_id, d.key) for d in sent] == [
        (made["id"], f"{made['id']}/alarm/{raised[0].id}")
    ] * 2
    assert sent[0].status == "superseded"  # in the transaction, before any worker saw it
    assert sent[1].status != "superseded"
