"""The outbox on the real broker and PostgreSQL: what a change committed but never published
(the process died, or the broker was down) reaches ``haze.alerts`` and ``haze.actions`` once a
runtime starts with the broker up."""

from __future__ import annotations

import datetime as dt
import json

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from stream_helpers import eventually, read_topic, stream_settings

from emission_list.levels import Level
from emission_list.samples import kundulun_list
from service.api.schemas.alerts import ForecastIn
from service.bootstrap import prepare
from service.bus import outbox
from service.commands.process import build_runtime, create_app
from service.commands.stream import create_topics
from service.runtime import Runtime
from service.settings import Settings
from service.storage.engine import create_engine
from service.storage.models import Outbox
from tests.infra.servers import free_port

LOCAL = dt.timezone(dt.timedelta(hours=8))
ENTERPRISES = sorted(e.enterprise_id for e in kundulun_list().entries)


def _orange_forecast() -> ForecastIn:
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = issued.astimezone(LOCAL).date()
    daily = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate([220, 260, 240, 230])
    ]
    return ForecastIn.model_validate(
        {"region": "150203", "issued_at": issued.isoformat(), "daily": daily}
    )


async def _outbox(engine: AsyncEngine) -> list[Outbox]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(Outbox).order_by(Outbox.id)))


async def _published_by_a_new_runtime(settings: Settings, kinds: list[str]) -> dict[str, dict]:
    """Start a runtime on the live broker; once the outbox is empty, return the actions
    records by enterprise, having checked the alerts records' kinds."""
    engine = create_engine(settings)
    runtime = build_runtime(settings, consumers=False)
    await runtime.start()
    try:

        async def drained() -> bool:
            async with engine.connect() as connection:
                return await connection.scalar(select(func.count()).select_from(Outbox)) == 0

        await eventually(drained, "the outbox published and emptied by the new runtime")
    finally:
        await runtime.stop()
        await engine.dispose()
    alerts = await read_topic(settings, settings.kafka_topic_alerts, len(kinds))
    assert [json.loads(r.value)["kind"] for r in alerts] == kinds
    assert {r.key for r in alerts} == {b"150203"}
    actions = await read_topic(settings, settings.kafka_topic_actions, len(ENTERPRISES))
    return {r.key.decode(): json.loads(r.value) for r in actions}


async def test_a_committed_forecast_never_announced_is_published_at_the_next_start(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    await prepare(settings)
    crashed = build_runtime(settings, consumers=False)
    await crashed.rebuild()  # its board, but no bus and no relay: it dies after the commit
    state = crashed.state
    async with crashed.session_maker() as session:
        now = dt.datetime.now(dt.UTC)
        outcome = await state.warnings.on_forecast(
            session, _orange_forecast().to_domain(), state.board, now
        )
        await crashed.announce(session, outcome)
        await session.commit()
    [row] = await _outbox(crashed.engine)
    regions = outbox.changed_regions(row)
    assert row.origin == crashed.origin and regions is not None
    assert sorted(e.enterprise_id for e in kundulun_list().entries if e.region in regions) == (
        ENTERPRISES
    )
    await crashed.engine.dispose()

    actions = await _published_by_a_new_runtime(settings, ["issue"])
    assert sorted(actions) == ENTERPRISES
    assert {a["level"] for a in actions.values()} == {"orange"}
    assert all(a["alert_region"] == "150203" for a in actions.values())


async def test_a_manual_warning_issued_while_the_broker_is_down_is_published_later(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    """``POST /alerts`` answers 200 with the broker down (the change is stored with its
    records); the process gives up, and the next one publishes them."""
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    prepared = await prepare(settings)
    down = settings.model_copy(
        update={"kafka_bootstrap": f"127.0.0.1:{free_port()}", "kafka_request_timeout_s": 1}
    )
    app = create_app(down, consumers=False)
    headers = {"Authorization": f"Bearer {prepared.operator_token}"}
    body = {"region": "150203", "level": "red", "reason": {"en": "by hand"}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            answer = await client.post("/api/v1/alerts", json=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["enterprises_changed"] == 90
        runtime: Runtime = app.state.runtime
        await runtime.relay.settle()
        [row] = await _outbox(runtime.engine)
    assert row.attempts >= 1 and "BusUnavailableError" in (row.last_error or "")

    actions = await _published_by_a_new_runtime(settings, ["issue"])
    assert sorted(actions) == ENTERPRISES
    assert {a["level"] for a in actions.values()} == {"red"}


async def test_a_decision_made_while_a_process_joins_the_alerts_topic_reaches_its_board(
    postgres_database_url: str, kafka_bootstrap: str, monkeypatch
) -> None:
    """A starting process builds its board, then reads ``haze.alerts`` from the end: a
    decision committed in between is on neither. Once its reader's positions are fixed it
    refreshes once, so the decision arrives without waiting for the periodic refresh."""
    settings = stream_settings(postgres_database_url, kafka_bootstrap).model_copy(
        update={"refresh_interval_s": 3600.0}
    )
    await create_topics(settings)
    await prepare(settings)
    follower = build_runtime(settings, consumers=False)
    build = follower.rebuild

    async def build_then_decide_elsewhere() -> None:
        await build()
        decider = build_runtime(settings, consumers=False)
        await decider.rebuild()
        async with decider.session_maker() as session:  # stored, never announced
            await decider.state.warnings.on_forecast(
                session,
                _orange_forecast().to_domain(),
                decider.state.board,
                dt.datetime.now(dt.UTC),
            )
            await session.commit()
        await decider.engine.dispose()

    monkeypatch.setattr(follower, "rebuild", build_then_decide_elsewhere)
    await follower.start()
    try:

        async def orange() -> bool:
            answer = follower.state.board.answer(ENTERPRISES[0])
            return answer is not None and answer.actions.level is Level.ORANGE

        await eventually(orange, "the decision made while joining on the board")
    finally:
        await follower.stop()
