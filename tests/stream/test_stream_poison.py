"""No record stops a consumer, on a real Kafka-protocol broker and PostgreSQL: tombstones,
readings and forecasts produced past the API's checks, a handler that raises on some
records, a database outage (resumed on the probe), and ``haze consume``'s readiness and
metrics."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Sequence

import httpx
import pytest
import sqlalchemy.exc
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

from consumers import runner
from consumers.isolation import Isolating
from consumers.runner import ConsumerLoop
from service.bootstrap import prepare
from service.bus import Record
from service.commands.process import build_runtime
from service.commands.stream import create_topics
from service.metrics import Metrics
from service.settings import Settings
from service.storage.models import Forecast, Reading
from tests.infra.servers import free_port

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
LOCAL = dt.timezone(dt.timedelta(hours=8))


def _raw(t: str, pm25: float, pm10: float = 100.0) -> tuple[bytes, bytes]:
    body = {"s": "1502A01", "t": t, "v": [pm25, pm10, 1, 1, 1, 1]}
    return b"1502A01", json.dumps(body).encode()


def _stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_tombstone_and_readings_breaking_the_rules_are_dead_lettered_and_later_stored(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    await prepare(settings)
    bad = [
        (b"1502A01", None),  # a tombstone
        _raw(_stamp(HOUR - dt.timedelta(hours=1)), -50),
        _raw(_stamp(HOUR - dt.timedelta(minutes=30)), 50),  # 13:30
        _raw(_stamp(HOUR.replace(year=9999)), 50),
        _raw(_stamp(HOUR - dt.timedelta(hours=2)), 1e300, 1e300),
    ]
    later = [reading("1502A01", HOUR - dt.timedelta(hours=h)) for h in range(3, 6)]
    # One key: one partition, the bad records before the good ones.
    await produce(settings, settings.kafka_topic_readings, [*bad, *later])
    runtime = build_runtime(settings, consumers=["readings"])
    await runtime.start()
    try:

        async def stored() -> bool:
            return await count_readings(runtime.engine) == len(later)

        await eventually(stored, "the readings after the bad ones stored")
        letters = await read_topic(settings, settings.kafka_topic_dlq, len(bad))
        metrics = runtime.metrics
        lag = metrics.registry.get_sample_value
        assert lag("haze_dead_letters") == len(bad)
        assert (
            lag("haze_consumer_dead_letters_total", {"topic": settings.kafka_topic_readings}) == 5
        )
        async with runtime.engine.connect() as connection:
            latest = await connection.scalar(select(func.max(Reading.observed_at)))
    finally:
        await runtime.stop()
    assert sorted((r.value or b"") for r in letters) == sorted((v or b"") for _, v in bad)
    reasons = sorted(dict(r.headers)["reason"].decode() for r in letters)
    assert reasons == [
        "invalid reading: observed_at.future",
        "invalid reading: observed_at.not_on_hour",
        "invalid reading: value.impossible(pm25), value.impossible(pm10)",
        "invalid reading: value.negative(pm25)",
        "tombstone: a record without a value",
    ]
    assert latest.year < 9999  # the year-9999 reading is no station's current hour


async def test_poison_forecasts_are_dead_lettered_and_later_ones_on_the_partition_decided(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    await prepare(settings)
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    today = issued.astimezone(LOCAL).date()
    day = dt.timedelta(days=1)

    def forecast(days: list[dt.date], at: str | None = None) -> tuple[bytes, bytes]:
        daily = [{"date": d.isoformat(), "aqi": 220} for d in days]
        body = {"region": "150203", "issued_at": at or issued.isoformat(), "daily": daily}
        return b"150203", json.dumps(body).encode()

    poison = [
        forecast([today, today + 2 * day]),
        forecast([today - day, today]),
        forecast([dt.date(1, 1, 1)], "0001-01-01T00:00:00+08:00"),
        (b"150203", None),
    ]
    good = forecast([today + i * day for i in range(4)])
    await produce(settings, settings.kafka_topic_forecasts, [*poison, good])
    runtime = build_runtime(settings, consumers=["forecasts"])
    await runtime.start()
    try:

        async def decided() -> bool:
            async with runtime.engine.connect() as connection:
                return await connection.scalar(select(func.count()).select_from(Forecast)) == 1

        await eventually(decided, "the forecast after the poison ones decided")
        letters = await read_topic(settings, settings.kafka_topic_dlq, len(poison))
    finally:
        await runtime.stop()
    reasons = sorted(dict(r.headers)["reason"].decode() for r in letters)
    assert reasons == [
        "invalid forecast: forecast.days_not_consecutive",
        "invalid forecast: forecast.issued_at.too_early",
        "invalid forecast: forecast.starts_before_issue",
        "tombstone: a record without a value",
    ]


async def test_records_a_handler_raises_on_are_isolated_and_the_partition_goes_on(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    topic = settings.kafka_topic_alerts
    handled: list[bytes] = []
    dead: list[tuple[Record, str]] = []

    async def handle(records: Sequence[Record]) -> None:
        if any(r.value == b"boom" for r in records):
            raise RuntimeError("a bug this record trips")
        handled.extend(r.value for r in records)

    async def dead_letter(items: Sequence[tuple[Record, str]]) -> None:
        dead.extend(items)

    metrics = Metrics()
    loop = ConsumerLoop(
        settings, topic, "isolating", Isolating(handle, dead_letter, metrics, topic), metrics
    )
    items = [(b"k", f"r{i}".encode()) for i in range(200)]
    items[17] = items[150] = (b"k", b"boom")
    await produce(settings, topic, items)
    loop.start()
    try:

        async def done() -> bool:
            return len(handled) + len(dead) >= 200

        await eventually(done, "every record handled or dead-lettered")
    finally:
        await loop.stop()
    assert [r.offset for r, _ in dead] == [17, 150]
    assert all("RuntimeError: a bug this record trips" in why for _, why in dead)
    assert handled == [v for _, v in items if v != b"boom"]
    assert (
        metrics.registry.get_sample_value("haze_consumer_poison_records_total", {"topic": topic})
        == 2
    )


async def test_after_a_database_error_the_batch_resumes_on_the_probe_not_the_backoff(
    postgres_database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first backoff step is made 10 minutes: only the probe can resume the loop within
    the test's bound. While the database is down the loop is not ready and shows its lag."""
    monkeypatch.setattr(runner, "FIRST_BACKOFF_S", 600.0)
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    topic = settings.kafka_topic_alerts
    state = {"down": True, "calls": 0, "probes": 0}
    handled: list[bytes] = []

    async def handle(records: Sequence[Record]) -> None:
        state["calls"] += 1
        if state["down"]:
            raise sqlalchemy.exc.OperationalError("SELECT 1", None, Exception("refused"))
        handled.extend(r.value for r in records)

    async def probe() -> bool:
        state["probes"] += 1
        return not state["down"]

    metrics = Metrics()
    loop = ConsumerLoop(settings, topic, "probing", handle, metrics, probe)
    await produce(settings, topic, [(b"k", b"a"), (b"k", b"b"), (b"k", b"c")])
    loop.start()
    try:

        async def probing() -> bool:
            return state["probes"] >= 2

        await eventually(probing, "the loop probing the database while it is down")
        lag = metrics.registry.get_sample_value
        partitions = [
            lag("haze_consumer_lag", {"topic": topic, "partition": str(p)}) for p in range(4)
        ]
        assert 3 in partitions  # the records not handled show as lag, not 0
        assert not loop.ready and lag("haze_consumer_up", {"topic": topic}) == 0
        state["down"] = False

        async def resumed() -> bool:
            return len(handled) == 3

        await eventually(resumed, "the batch handled once the probe succeeds", 30)

        async def ready_again() -> bool:  # set once the batch's offsets are committed
            return loop.ready and lag("haze_consumer_up", {"topic": topic}) == 1

        await eventually(ready_again, "the loop ready again after the batch")
    finally:
        await loop.stop()
    assert state["calls"] == 2  # one failure, one retry right after the probe said yes


def _consume(settings: Settings, port: int) -> subprocess.Popen:
    return haze_consume(settings, "readings", HAZE_METRICS_PORT=str(port))


async def _get(url: str) -> httpx.Response | None:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return await client.get(url)
    except httpx.HTTPError:
        return None


async def test_haze_consume_is_ready_only_once_it_reached_kafka_and_shows_real_metrics(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap)
    await create_topics(settings)
    await prepare(settings)
    nowhere = settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{free_port()}"})
    ports = {"cut_off": free_port(), "joined": free_port()}
    cut_off = _consume(nowhere, ports["cut_off"])
    joined = _consume(settings, ports["joined"])
    try:
        base = f"http://127.0.0.1:{ports['cut_off']}"

        async def up() -> bool:
            answer = await _get(f"{base}/healthz")
            return answer is not None and answer.status_code == 200

        await eventually(up, "the consumer without a broker serving /healthz")

        async def board_built() -> bool:  # /healthz answers before the board is built
            answer = await _get(f"{base}/readyz")
            return answer is not None and answer.json().get("checks", {}).get("board") is True

        await eventually(board_built, "the consumer without a broker building its board")
        answer = await _get(f"{base}/readyz")
        assert answer is not None and answer.status_code == 503
        assert answer.json()["checks"] == {"board": True, "database": True, "kafka": False}

        base = f"http://127.0.0.1:{ports['joined']}"

        async def ready() -> bool:
            answer = await _get(f"{base}/readyz")
            return answer is not None and answer.status_code == 200

        await eventually(ready, "the consumer with a broker ready")
        await produce(settings, settings.kafka_topic_readings, [(b"1502A01", None)])

        async def counted() -> bool:
            answer = await _get(f"{base}/metrics")
            return answer is not None and "haze_dead_letters 1.0" in answer.text

        await eventually(counted, "the consumer's /metrics counting the dead letter")
        text = (await _get(f"{base}/metrics")).text
        assert "haze_list_revision 1.0" in text
        assert f'haze_consumer_up{{topic="{settings.kafka_topic_readings}"}} 1.0' in text
    finally:
        for process in (cut_off, joined):
            process.terminate()
            process.wait(timeout=60)
