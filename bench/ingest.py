"""End-to-end ingest benchmark: readings on Kafka into PostgreSQL; prints one JSON object.

    python -m bench.ingest [--readings 200000] [--batch 5000]

Starts PostgreSQL 15 and the Tansu broker unless ``HAZE_BENCH_DATABASE_URL`` and
``HAZE_BENCH_KAFKA_BOOTSTRAP`` name existing ones. Produces ``--readings`` readings (the
sample's 11 stations, distinct hours going back in time, so both HJ 633 editions are used) to
a fresh 4-partition readings topic, then, on the same broker in the same run, measures:

- ``raw_consume_per_s``: a bare aiokafka consumer reading every message of the topic with
  ``getmany`` (no decoding, no database): the reference;
- ``readings_per_s``: one consumer loop of the service (what ``haze consume readings`` runs:
  batch decode, checks, vectorised hourly AQI, one upsert statement for readings and hourly
  AQI, the 24-hour windows and region AQI the batch touched, commit, then offsets) from the
  first record until every reading is stored;
- ``ratio_to_raw`` = readings_per_s / raw_consume_per_s (goal >= 0.5) and the absolute goal
  of 20,000 readings/s per process; the database is counted afterwards (``stored``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from consumers.readings import ReadingsHandler
from consumers.runner import ConsumerLoop
from emission_list.samples import kundulun_stations
from service.api.schemas.readings import CheckedReading
from service.bootstrap import prepare
from service.bus.records import encode_reading
from service.commands.stream import create_topics
from service.metrics import Metrics
from service.settings import Settings
from service.storage.engine import create_engine, make_session_maker
from service.storage.models import Reading
from service.storage.repositories import regions
from tests.infra import pg_server, tansu_server

RATIO_GOAL = 0.5
RATE_GOAL = 20_000.0


@contextmanager
def _services() -> Iterator[tuple[str, str]]:
    """(database URL, bootstrap): the configured ones, else servers started for the run."""
    started = []
    try:
        url = os.environ.get("HAZE_BENCH_DATABASE_URL")
        if not url:
            server = pg_server.start()
            started.append(server)
            url = server.url
        bootstrap = os.environ.get("HAZE_BENCH_KAFKA_BOOTSTRAP")
        if not bootstrap:
            broker = tansu_server.start()
            started.append(broker)
            bootstrap = broker.bootstrap
        yield url, bootstrap
    finally:
        for server in started:
            server.stop()


def _settings(database_url: str, bootstrap: str, batch: int) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return Settings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        kafka_idempotent=os.environ.get("HAZE_BENCH_KAFKA_IDEMPOTENT", "") == "1",
        **tansu_server.private_topics(f"bench{tag}"),
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_ms=500,
        kafka_max_batch=batch,
    )


def _messages(n: int) -> list[tuple[bytes, bytes]]:
    stations = [s.station_id for s in kundulun_stations()]
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    out = []
    for i in range(n):
        hour, station = divmod(i, len(stations))
        pm10 = float(60 + (i * 11) % 500)
        values = {
            "pm25": min(float(20 + (i * 7) % 300), 2 * pm10 + 20),  # the API's PM2.5 rule
            "pm10": pm10,
            "so2": float(5 + i % 90),
            "no2": float(10 + i % 120),
            "o3": float(i % 250),
            "co": round(0.3 + (i % 40) / 10, 1),
        }
        at = end - dt.timedelta(hours=hour + 1)
        reading = CheckedReading(
            station_id=stations[station], observed_at=at, values=values, flags=[]
        )
        out.append(encode_reading(reading))
    return out


async def _produce(settings: Settings, messages: list[tuple[bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=settings.kafka_idempotent,
        linger_ms=20,
        max_batch_size=1 << 20,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        for chunk in range(0, len(messages), 10_000):
            futures = [
                await producer.send(settings.kafka_topic_readings, value, key=key)
                for key, value in messages[chunk : chunk + 10_000]
            ]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def _raw_consume(settings: Settings, n: int) -> float:
    """Seconds for a bare consumer to read every message (timed from its first record)."""
    consumer = AIOKafkaConsumer(
        settings.kafka_topic_readings,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"raw-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        max_poll_records=settings.kafka_max_batch,
    )
    await consumer.start()
    seen, started = 0, None
    try:
        while seen < n:
            batch = await consumer.getmany(timeout_ms=200, max_records=settings.kafka_max_batch)
            if batch and started is None:
                started = time.perf_counter()
            seen += sum(len(m) for m in batch.values())
        return time.perf_counter() - (started or time.perf_counter())
    finally:
        await consumer.stop()


async def _ingest(settings: Settings, n: int) -> tuple[float, int]:
    """Seconds for one service consumer loop to store every reading; rows stored."""
    engine = create_engine(settings)
    maker = make_session_maker(engine)
    async with maker() as session:  # the tree a service process keeps in memory
        tree = await regions.tree(session)
    handler = ReadingsHandler(maker, _no_dead_letters, lambda: tree)
    first: list[float] = []

    async def timed(records) -> None:
        if not first:
            first.append(time.perf_counter())
        await handler(records)

    loop = ConsumerLoop(settings, settings.kafka_topic_readings, settings.kafka_group_readings,
                        timed, Metrics())  # fmt: skip
    loop.start()
    try:
        while loop.handled < n:
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - first[0]
    finally:
        await loop.stop()
    async with engine.connect() as connection:
        stored = await connection.scalar(select(func.count()).select_from(Reading))
    await engine.dispose()
    return seconds, stored


async def _no_dead_letters(items) -> None:
    raise RuntimeError(f"unexpected dead letters: {items[:1]}")


async def _run(n: int, batch: int) -> dict[str, object]:
    with _services() as (database_url, bootstrap):
        settings = _settings(database_url, bootstrap, batch)
        await prepare(settings)
        await create_topics(settings)
        messages = _messages(n)
        produce_s = await _produce(settings, messages)
        raw_s = await _raw_consume(settings, n)
        ingest_s, stored = await _ingest(settings, n)
    readings_per_s = n / ingest_s
    raw_per_s = n / raw_s
    return {
        "readings": n,
        "batch": batch,
        "produce_per_s": round(n / produce_s, 1),
        "raw_consume_per_s": round(raw_per_s, 1),
        "readings_per_s": round(readings_per_s, 1),
        "ratio_to_raw": round(readings_per_s / raw_per_s, 3),
        "stored": stored,
        "goal_ratio_to_raw": RATIO_GOAL,
        "goal_readings_per_s": RATE_GOAL,
        "goal_met": readings_per_s / raw_per_s >= RATIO_GOAL
        and readings_per_s >= RATE_GOAL
        and stored == n,
        "database": "postgresql",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000, help="records per consumer batch")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_run(args.readings, args.batch)), indent=2))


if __name__ == "__main__":
    main()
