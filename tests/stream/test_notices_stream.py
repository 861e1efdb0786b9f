"""Notices on the real broker and PostgreSQL: the API process announces a warning on
``haze.actions``; ``haze consume notify`` (a real process) stores the notices and delivers them
to a real webhook receiver that fails the first two tries of every message; SIGKILLed midway
and started again, it loses none, and every message keeps its ``webhook-id``."""

from __future__ import annotations

import json
import signal
from collections import defaultdict

import httpx
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook
from stream_helpers import eventually, haze_consume, stream_settings

from emission_list.samples import kundulun_list
from service.bootstrap import prepare
from service.commands.process import create_app
from service.commands.stream import create_topics
from service.security import Principal
from service.services import subscriptions
from service.storage.engine import create_engine, make_session_maker
from service.storage.models import Delivery
from tests.infra.receiver import Receiver

ENTERPRISES = sorted(e.enterprise_id for e in kundulun_list().entries)
OPERATOR = Principal("stream-test", "operator")


async def _subscribe_all(settings, url: str) -> dict[str, str]:
    """A webhook subscription per enterprise, made as the API makes them; their secrets."""
    engine = create_engine(settings)
    secrets: dict[str, str] = {}
    try:
        async with make_session_maker(engine)() as session:
            for eid in ENTERPRISES:
                made = await subscriptions.create(
                    session,
                    OPERATOR,
                    channel="webhook",
                    target=url,
                    second_target=None,
                    enterprise_id=eid,
                    region=None,
                    language="zh-CN",
                    events=["actions.changed"],
                    known_regions=set(),
                )
                secrets[eid] = made.secret or ""
            await session.commit()
    finally:
        await engine.dispose()
    return secrets


async def _delivered(engine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")
        )


async def test_a_warnings_notices_survive_a_failing_receiver_and_a_killed_worker(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(
        postgres_database_url,
        kafka_bootstrap,
        notify_retry_base_s=0.1,
        notify_retry_cap_s=0.5,
        notify_lease_s=3,
        notify_poll_s=0.2,
        notify_concurrency=4,
        notify_claim_batch=8,
    )
    await create_topics(settings)
    await prepare(settings)
    receiver = await Receiver(fail_first=2, fail_status=503, delay_s=0.02).start()
    secrets = await _subscribe_all(settings, receiver.url)
    engine = create_engine(settings)
    worker = haze_consume(settings, "notify")
    try:
        app = create_app(settings, consumers=False)  # the API process: announces only
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
                body = {"region": "150203", "level": "orange", "reason": {"zh-CN": "测", "en": "t"}}
                headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
                answer = await client.post("/api/v1/alerts", json=body, headers=headers)
                assert answer.status_code == 200, answer.text

                async def some() -> bool:
                    return await _delivered(engine) >= 15

                await eventually(some, "the first notices delivered", 120)
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                at_kill = await _delivered(engine)
                assert at_kill < len(ENTERPRISES), "killed too late to be midway"
                worker = haze_consume(settings, "notify")

                async def all_of_them() -> bool:
                    return await _delivered(engine) == len(ENTERPRISES)

                await eventually(all_of_them, "every notice delivered after the restart", 180)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
        await engine.dispose()
        await receiver.stop()
    by_id: dict[str, list] = defaultdict(list)
    for request in receiver.received:
        by_id[request.headers["webhook-id"]].append(request)
    assert len(by_id) == len(ENTERPRISES)  # one message per enterprise, whatever was retried
    accepted: dict[str, str] = {}
    for message_id, tries in by_id.items():
        assert [t.answered for t in tries][:3] == [503, 503, 200]
        assert len({t.body for t in tries}) == 1  # the same message on every try
        data = json.loads(tries[0].body)["data"]
        for t in tries:  # signed with that enterprise's secret, every time
            Webhook(secrets[data["enterprise_id"]]).verify(t.body, t.headers)
        accepted[data["enterprise_id"]] = message_id
        assert data["level"] == "orange"
    assert sorted(accepted) == ENTERPRISES
