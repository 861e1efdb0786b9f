"""The stream on a real Kafka-protocol broker and a real PostgreSQL: the whole path, poison
messages, a consumer killed mid-stream, partitions shared in a group, a broker that is down."""

from __future__ import annotations

import datetime as dt
import json
import signal
import uuid
from collections import Counter
from collections.abc import Sequence

import httpx
from sqlalchemy import func, select
from stream_helpers import (
    count_readings,
    eventually,
    haze_consume,
    produce,
    read_topic,
    reading,
    stream_settings,
)

from consumers.runner import ConsumerLoop
from emission_list.samples import kundulun_list, kundulun_stations
from service.bootstrap import prepare
from service.bus import Record
from service.commands.process import build_runtime, create_app
from service.commands.stream import create_topics
from service.metrics import Metrics
from service.storage.engine import create_engine
from service.storage.models import AqiResult, Outbox, Reading
from tests.infra.servers import free_port

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
LOCAL = dt.timezone(dt.timedelta(hours=8))
ENTERPRISE = kundulun_list().entries[0].enterprise_id


async def test_topics_are_created_once(postgres_database_url: str, kafka_bootstrap: str) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    first = await create_topics(settings)
    assert set(first.values()) == {"created"} and len(first) == 7
    again = await create_topics(settings)
    assert set(again.values()) == {"exists"}


async def test_from_post_to_changed_actions_and_a_haze_actions_record(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    prepared = await prepare(settings)
    app = create_app(settings)
    engine = create_engine(settings)
    headers = {"Authorization": f"Bearer {prepared.operator_token}"}
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
                rows = [
                    {"station_id": "1502A01", "observed_at": HOUR.isoformat(), "pm25": 180},
                    {"station_id": "1502A01", "observed_at": "yesterday"},
                ]
                posted = await client.post("/api/v1/readings", json=rows, headers=headers)
                assert posted.status_code == 202 and posted.json()["accepted"] == 1

                async def stored() -> bool:
                    return await count_readings(engine) == 1

                await eventually(stored, "the reading stored by the consumer")
                today = HOUR.astimezone(LOCAL).date()
                days = [
                    {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": aqi}
                    for i, aqi in enumerate([220, 260, 240, 230])
                ]
                forecast = {"region": "150203", "issued_at": HOUR.isoformat(), "daily": days}
                queued = await client.post("/api/v1/forecasts", json=forecast, headers=headers)
                assert queued.status_code == 202 and queued.json()["status"] == "queued"
                url = f"/api/v1/enterprises/{ENTERPRISE}/actions"

                async def orange() -> bool:
                    answer = await client.get(url, headers=headers)
                    return answer.json()["level"] == "orange"

                await eventually(orange, "the enterprise's actions at orange")

                # The board moves as the change commits; the relay publishes its records
                # just after. Leaving the lifespan first would leave them for a next start.
                async def relayed() -> bool:
                    async with engine.connect() as connection:
                        pending = select(func.count()).select_from(Outbox)
                        return await connection.scalar(pending) == 0

                await eventually(relayed, "the outbox row published")
        actions = await read_topic(
            settings, settings.kafka_topic_actions, len(kundulun_list().entries)
        )
        mine = [json.loads(r.value) for r in actions if r.key == ENTERPRISE.encode()]
        assert mine and mine[-1]["level"] == "orange" and mine[-1]["production_cut"] > 0
        alerts = await read_topic(settings, settings.kafka_topic_alerts, 1)
        assert [json.loads(r.value)["kind"] for r in alerts] == ["issue"]
        assert alerts[0].key == b"150203"
    finally:
        await engine.dispose()


async def test_a_poison_message_goes_to_the_dead_letters_and_the_good_ones_are_stored(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    await prepare(settings)
    poison = (b"1502A01", b"\x00 this is not a reading")
    unknown = reading("NO-SUCH-STATION", HOUR)
    good = [reading("1502A01", HOUR - dt.timedelta(hours=h)) for h in range(1, 6)]
    await produce(settings, settings.kafka_topic_readings, [*good[:2], poison, unknown, *good[2:]])
    runtime = build_runtime(settings, consumers=["readings"])
    await runtime.start()
    try:

        async def all_good() -> bool:
            return await count_readings(runtime.engine) == len(good)

        await eventually(all_good, "the good readings around the poison stored")
        letters = await read_topic(settings, settings.kafka_topic_dlq, 2)
    finally:
        await runtime.stop()
    assert sorted(r.value for r in letters) == sorted([poison[1], unknown[1]])
    reasons = {r.value: dict(r.headers)["reason"].decode() for r in letters}
    assert "NO-SUCH-STATION" in reasons[unknown[1]]
    assert dict(letters[0].headers)["topic"] == settings.kafka_topic_readings.encode()


async def test_a_consumer_killed_mid_stream_loses_and_duplicates_nothing(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap, kafka_max_batch=250)
    await create_topics(settings)
    await prepare(settings)
    stations = [s.station_id for s in kundulun_stations()]
    hours = -(-10_000 // len(stations))
    items = [
        reading(station, HOUR - dt.timedelta(hours=h), pm25=float(h % 250))  # <= 2 * PM10 + 20
        for h in range(1, hours + 1)
        for station in stations
    ][:10_000]
    await produce(settings, settings.kafka_topic_readings, items)
    engine = create_engine(settings)
    try:
        first = haze_consume(settings, "readings")

        async def some() -> bool:
            return await count_readings(engine) >= 1_500

        await eventually(some, "the first consumer storing readings")
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = await count_readings(engine)
        assert at_kill < 10_000, "killed too late to be mid-stream"
        second = haze_consume(settings, "readings")
        try:

            async def everything() -> bool:
                return await count_readings(engine) >= 10_000

            await eventually(everything, "all 10,000 readings stored after the restart", 180)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0
        async with engine.connect() as connection:
            rows = await connection.scalar(select(func.count()).select_from(Reading))
            distinct = await connection.scalar(
                select(func.count()).select_from(
                    select(Reading.station_id, Reading.observed_at).distinct().subquery()
                )
            )
            results = await connection.scalar(
                select(func.count()).select_from(AqiResult).where(AqiResult.period == "1h")
            )
        assert rows == distinct == results == 10_000
    finally:
        await engine.dispose()


async def test_two_consumers_in_one_group_share_the_partitions(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    seen: dict[str, Counter] = {"a": Counter(), "b": Counter()}

    def handler(name: str):
        async def handle(records: Sequence[Record]) -> None:
            seen[name].update(r.partition for r in records)

        return handle

    group = f"shared-{uuid.uuid4().hex}"
    loops = [
        ConsumerLoop(settings, settings.kafka_topic_alerts, group, handler(name), Metrics())
        for name in seen
    ]
    for loop in loops:
        loop.start()
    try:
        await produce(
            settings, settings.kafka_topic_alerts, [(f"k{i}".encode(), b"{}") for i in range(400)]
        )

        async def all_handled() -> bool:
            return sum(loop.handled for loop in loops) >= 400

        await eventually(all_handled, "400 records handled by the group")
    finally:
        for loop in loops:
            await loop.stop()
    assert sum(loop.handled for loop in loops) == 400
    assert all(loop.handled > 0 for loop in loops), seen
    assert not set(seen["a"]) & set(seen["b"]), "a partition was read by both members"


async def test_a_broker_that_is_down_answers_503_with_retry_after(
    postgres_database_url: str,
) -> None:
    settings = stream_settings(
        postgres_database_url, f"127.0.0.1:{free_port()}", kafka_request_timeout_s=1
    )
    prepared = await prepare(settings)
    app = create_app(settings, consumers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            rows = [{"station_id": "1502A01", "observed_at": HOUR.isoformat(), "pm25": 50}]
            headers = {"Authorization": f"Bearer {prepared.operator_token}"}
            answer = await client.post("/api/v1/readings", json=rows, headers=headers)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "bus.unavailable"
    assert int(answer.headers["retry-after"]) > 0
