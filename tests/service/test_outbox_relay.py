"""The outbox of warning changes, on SQLite and PostgreSQL: a change queues its records in its
own transaction, the relay publishes them (alerts first, then actions in chunks) and deletes
the row only once the bus took them; a failed publish leaves the row for the next run.

The bus is the runtime's own in-process bus with collecting handlers on the alerts and
actions topics (on the embedded bus only topics with a subscriber are published); stopping
it makes ``publish`` raise ``BusUnavailableError``, as a broker outage does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Sequence

import pytest
from api_client import Api
from sqlalchemy import select

from emission_list.i18n import text
from emission_list.levels import Level, Response
from emission_list.samples import kundulun_list
from service import runtime as runtime_module
from service.bootstrap import prepare
from service.bus import Record, outbox
from service.bus.records import alert_records
from service.commands.process import build_runtime
from service.runtime import Runtime
from service.services.warnings import Outcome
from service.settings import Settings
from service.storage.models import Outbox

ENTERPRISES = [e.enterprise_id for e in kundulun_list().entries]


def _ids_of(row: Outbox) -> list[str]:
    """The sample enterprises a row names, by id or by the regions its change moved."""
    regions = outbox.changed_regions(row)
    if regions is None:
        return list(row.enterprises)
    return [e.enterprise_id for e in kundulun_list().entries if e.region in regions]


class Published:
    """What the bus delivered on the alerts and actions topics, batch by batch, in order."""

    def __init__(self, settings: Settings) -> None:
        self.alerts_topic = settings.kafka_topic_alerts
        self.actions_topic = settings.kafka_topic_actions
        self.batches: list[tuple[str, list[Record]]] = []

    def subscribe(self, runtime: Runtime) -> None:
        for topic in (self.alerts_topic, self.actions_topic):
            runtime.bus.subscribe(topic, self.handler(topic))

    def handler(self, topic: str):
        async def handle(records: Sequence[Record]) -> None:
            self.batches.append((topic, list(records)))

        return handle

    def records(self, topic: str) -> list[Record]:
        return [r for t, batch in self.batches if t == topic for r in batch]

    @property
    def alerts(self) -> list[tuple[bytes | None, bytes]]:
        return [(r.key, r.value) for r in self.records(self.alerts_topic)]

    @property
    def actions(self) -> dict[str, dict]:
        return {r.key.decode(): json.loads(r.value) for r in self.records(self.actions_topic)}


@pytest.fixture
async def started(database_url: str) -> AsyncIterator[tuple[Runtime, Published]]:
    runtime, published = await _runtime(database_url)
    try:
        yield runtime, published
    finally:
        await runtime.stop()


async def _runtime(
    database_url: str, *, subscribe: bool = True, **overrides: object
) -> tuple[Runtime, Published]:
    settings = Settings(database_url=database_url, **overrides)
    await prepare(settings)
    # without subscribers: nor the notices consumer, which follows haze.actions too
    runtime = build_runtime(settings, consumers=True if subscribe else ("readings", "forecasts"))
    published = Published(settings)
    if subscribe:
        published.subscribe(runtime)
    await runtime.start()
    # start() kicks a relay run in the background (rows a crash left): let it end, or it
    # would race the rows the test writes next.
    await runtime.relay.settle()
    return runtime, published


async def _issue(runtime: Runtime, level: Level = Level.ORANGE) -> Outcome:
    """A manual warning over Kundulun (every sample enterprise), queued in the outbox."""
    async with runtime.board_change() as session:
        outcome = await _manual(runtime, session, level)
        await runtime.announce(session, outcome)
    return outcome


async def _manual(
    runtime: Runtime, session, level: Level, ends_at: dt.datetime | None = None
) -> Outcome:
    state = runtime.state
    now = dt.datetime.now(dt.UTC)
    reason = text("测试", "test")
    return await state.warnings.on_manual(
        session, "150203", level, Response.FULL, reason, state.board, now, ends_at=ends_at
    )


async def _rows(runtime: Runtime) -> list[Outbox]:
    async with runtime.session_maker() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.id)))


def _metric(runtime: Runtime, name: str) -> float | None:
    return runtime.metrics.registry.get_sample_value(name)


class Boom(Exception):
    pass


async def test_a_change_queues_its_row_in_its_own_transaction_and_a_rollback_drops_it(
    started: tuple[Runtime, Published],
) -> None:
    runtime, published = started
    with pytest.raises(Boom):
        async with runtime.board_change() as session:
            outcome = await _manual(runtime, session, Level.ORANGE)
            await runtime.announce(session, outcome)
            await session.flush()
            mine = list(await session.scalars(select(Outbox)))
            assert [(r.region, len(_ids_of(r))) for r in mine] == [("150203", 90)]
            assert await _rows(runtime) == []  # not visible outside the change
            raise Boom
    await runtime.relay.settle()
    assert await _rows(runtime) == []
    assert published.batches == []


async def test_the_relay_publishes_alerts_then_actions_in_chunks_and_deletes_the_row(
    started: tuple[Runtime, Published], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, published = started
    monkeypatch.setattr(runtime_module, "ACTIONS_CHUNK", 40)
    outcome = await _issue(runtime)
    await runtime.relay.settle()  # kicked in the background once the change committed
    assert sorted(outcome.changed_enterprises) == sorted(ENTERPRISES)
    assert published.alerts == alert_records(outcome)
    assert [json.loads(v)["kind"] for _, v in published.alerts] == ["issue"]
    topics = [(topic, len(batch)) for topic, batch in published.batches]
    assert topics == [
        (published.alerts_topic, 1),
        (published.actions_topic, 40),
        (published.actions_topic, 40),
        (published.actions_topic, 10),
    ]
    actions = published.actions
    assert sorted(actions) == sorted(ENTERPRISES)
    assert {a["level"] for a in actions.values()} == {"orange"}
    assert await _rows(runtime) == []
    assert _metric(runtime, "haze_outbox_pending") == 0


async def test_a_failed_publish_leaves_the_row_and_the_next_run_publishes_it(
    started: tuple[Runtime, Published],
) -> None:
    runtime, published = started
    await runtime.bus.stop()  # publish raises BusUnavailableError, as with a broker down
    outcome = await _issue(runtime)
    await runtime.relay.settle()
    [row] = await _rows(runtime)
    assert row.attempts == 1 and "BusUnavailableError" in (row.last_error or "")
    assert outbox.changed_regions(row) == list(outcome.changed_enterprises.regions)  # type: ignore[attr-defined]
    assert sorted(_ids_of(row)) == sorted(outcome.changed_enterprises) == sorted(ENTERPRISES)
    assert outbox.alert_items(row) == alert_records(outcome)
    assert published.batches == []
    assert _metric(runtime, "haze_outbox_failures_total") == 1
    assert _metric(runtime, "haze_outbox_pending") == 1

    second = await _issue(runtime, Level.RED)  # queued behind the first, fails the same way
    await runtime.relay.settle()
    assert [r.attempts for r in await _rows(runtime)] == [2, 0]

    await runtime.bus.start()
    assert await runtime.relay.run() == 2
    assert await _rows(runtime) == []
    kinds = [json.loads(v)["kind"] for _, v in published.alerts]
    assert kinds == ["issue", "upgrade"]  # in the order the changes were made
    assert published.alerts == alert_records(outcome) + alert_records(second)
    assert {a["level"] for a in published.actions.values()} == {"red"}  # current actions
    assert _metric(runtime, "haze_outbox_pending") == 0


async def test_the_ticker_publishes_what_failed_once_the_bus_is_back(database_url: str) -> None:
    runtime, published = await _runtime(database_url, refresh_interval_s=0.05)
    try:
        await runtime.bus.stop()
        await _issue(runtime)
        await runtime.relay.settle()
        assert len(await _rows(runtime)) == 1
        await runtime.bus.start()
        deadline = time.monotonic() + 60  # a failure detector, not a performance limit
        while await _rows(runtime) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await runtime.relay.settle()
        assert await _rows(runtime) == []
        assert sorted(published.actions) == sorted(ENTERPRISES)
    finally:
        await runtime.stop()


async def test_a_row_left_by_a_crash_is_published_when_a_runtime_starts(database_url: str) -> None:
    first, _ = await _runtime(database_url)
    async with first.session_maker() as session:  # committed, but never relayed
        outcome = await _manual(first, session, Level.ORANGE)
        await first.announce(session, outcome)
        await session.commit()
    await first.stop()
    assert len(await _rows(first)) == 1

    second, published = await _runtime(database_url)
    try:
        await second.relay.settle()  # kicked by start()
        assert await _rows(second) == []
        assert published.alerts == alert_records(outcome)
        assert {a["level"] for a in published.actions.values()} == {"orange"}
        assert sorted(published.actions) == sorted(ENTERPRISES)
    finally:
        await second.stop()


async def test_a_row_of_another_process_is_published_from_the_alerts_stored(
    database_url: str,
) -> None:
    """The publishing process had not seen the change yet: it reads the stored alerts first,
    so the actions records carry the new level, not its stale board's."""
    writer, _ = await _runtime(database_url)
    relay, published = await _runtime(database_url)
    try:
        await writer.bus.stop()  # the writer's own publish fails: the row stays
        await _issue(writer)
        await writer.relay.settle()
        assert relay.state.board.answer(ENTERPRISES[0]).actions.level is Level.NONE
        assert await relay.relay.run() == 1
        assert {a["level"] for a in published.actions.values()} == {"orange"}
        assert relay.state.board.answer(ENTERPRISES[0]).actions.level is Level.ORANGE
        assert await _rows(relay) == []
    finally:
        await relay.stop()
        await writer.stop()


async def test_without_subscribers_the_embedded_bus_leaves_nothing_in_the_outbox(
    database_url: str,
) -> None:
    runtime, _ = await _runtime(database_url, subscribe=False)
    try:
        outcome = await _issue(runtime)
        assert len(outcome.changed_enterprises) == 90
        assert await _rows(runtime) == []  # nothing would be published: no row written
        async with runtime.session_maker() as session:  # a row a Kafka process left behind
            outbox.add(session, origin="x", region="150203", alerts=[], enterprises=ENTERPRISES)
            await session.commit()
        assert await runtime.relay.run() == 1
        assert await _rows(runtime) == []
    finally:
        await runtime.stop()


async def test_a_forecast_is_announced_through_the_outbox_and_its_redelivery_is_not(
    started: tuple[Runtime, Published],
) -> None:
    runtime, published = started
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = issued.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    daily = [
        {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
        for i, aqi in enumerate([220, 260, 240, 230])
    ]
    value = json.dumps({"region": "150203", "issued_at": issued.isoformat(), "daily": daily})
    for _ in range(2):  # the second is a redelivery
        await runtime.bus.publish(
            runtime.settings.kafka_topic_forecasts, [(b"150203", value.encode())]
        )
        await runtime.relay.settle()
    assert [json.loads(v)["kind"] for _, v in published.alerts] == ["issue"]
    assert len(published.records(published.actions_topic)) == 90
    assert await _rows(runtime) == []


async def test_a_row_another_process_is_publishing_is_skipped(
    started: tuple[Runtime, Published], database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process: it has no row locks (FOR UPDATE is PostgreSQL's)")
    runtime, published = started
    await runtime.bus.stop()
    await _issue(runtime)
    await runtime.relay.settle()
    await runtime.bus.start()
    async with runtime.session_maker() as other:  # another process's relay holds the row
        held = await other.scalar(select(Outbox).with_for_update())
        assert held is not None
        assert await runtime.relay.run() == 0
        assert published.batches == []
        await other.rollback()
    assert await runtime.relay.run() == 1
    assert await _rows(runtime) == []
    assert sorted(published.actions) == sorted(ENTERPRISES)


async def test_post_alerts_answers_before_the_actions_are_published(api: Api) -> None:
    """The request does not wait for the relay: here the actions consumer holds the publish
    until the answer arrived."""
    settings = api.runtime.settings
    released, actions = asyncio.Event(), []

    async def held(records: Sequence[Record]) -> None:
        await released.wait()
        actions.extend(records)

    published = Published(settings)
    api.runtime.bus.subscribe(
        settings.kafka_topic_alerts, published.handler(settings.kafka_topic_alerts)
    )
    api.runtime.bus.subscribe(settings.kafka_topic_actions, held)
    body = {"region": "150203", "level": "orange", "reason": {"en": "by hand"}}
    answer = await api.client.post("/api/v1/alerts", json=body, headers=api.as_("operator"))
    assert answer.status_code == 200 and answer.json()["enterprises_changed"] == 90
    assert actions == [] and len(await _rows(api.runtime)) == 1  # still being published
    released.set()
    await api.runtime.relay.settle()
    assert [json.loads(v)["kind"] for _, v in published.alerts] == ["issue"]
    assert sorted(r.key.decode() for r in actions) == sorted(ENTERPRISES)
    assert await _rows(api.runtime) == []
    assert _metric(api.runtime, "haze_outbox_pending") == 0


async def test_a_warning_ending_with_time_is_announced_by_the_process_that_decides_alerts(
    database_url: str,
) -> None:
    """Nobody changes anything when a warning reaches its end: the refresh that finds it
    ended queues the enterprises it released, and their current actions are published."""
    runtime, published = await _runtime(database_url)
    try:
        ends_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        async with runtime.board_change() as session:
            await runtime.announce(session, await _manual(runtime, session, Level.RED, ends_at))
        await runtime.relay.settle()
        assert {a["level"] for a in published.actions.values()} == {"red"}
        published.batches.clear()

        assert await runtime.refresh(ends_at - dt.timedelta(minutes=1)) == []
        assert await _rows(runtime) == [] and published.batches == []
        ended = await runtime.refresh(ends_at + dt.timedelta(minutes=1))
        await runtime.relay.settle()
        assert sorted(ended) == sorted(published.actions) == sorted(ENTERPRISES)
        assert {a["level"] for a in published.actions.values()} == {"none"}
        assert published.alerts == []  # the alert's end was decided when it was issued
        assert await _rows(runtime) == []
    finally:
        await runtime.stop()


async def test_a_process_without_the_forecasts_consumer_leaves_time_to_the_deciders(
    database_url: str,
) -> None:
    runtime, published = await _runtime(database_url)
    try:
        ends_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        async with runtime.board_change() as session:
            await _manual(runtime, session, Level.RED, ends_at)
        runtime.consumers.discard("forecasts")  # as in `haze serve --no-consumers`
        assert sorted(await runtime.refresh(ends_at + dt.timedelta(minutes=1))) == sorted(
            ENTERPRISES
        )  # its own board moves ...
        await runtime.relay.settle()
        assert await _rows(runtime) == [] and published.batches == []  # ... and it says nothing
    finally:
        await runtime.stop()
