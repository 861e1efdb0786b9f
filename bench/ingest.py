"""End-to-end ingest benchmark: readings on Kafka into PostgreSQL; prints one JSON object.

    python -m bench.ingest [--readings 200000] [--batch 5000]

Starts PostgreSQL 15 and the Tansu broker unless ``HAZE_BENCH_DATABASE_URL`` and
``HAZE_BENCH_KAFKA_BOOTSTRAP`` name existing ones. Produces ``--readings`` readings (the
sample's 11 stations, distinct hours going back in time, so both HJ 633 editions are used) to
a fresh 4-partition readings topic, then, on the same broker in the same run, measures:

- ``raw_consume_per_s``: a bare aiokafka consumer reading every message of the topic with
  ``getmany`` (no decoding, no database), an extra figure;
- ``readings_per_s``: what ``haze consume readings`` runs on Kafka and PostgreSQL, one
  consumer loop (batch decode, checks, vectorised hourly AQI, one upsert statement for
  readings and hourly AQI with the batch's window marks, commit, then offsets) and its
  windows refresh (the stations' 24-hour results and the regions' AQI of the marked hours,
  every ``HAZE_READINGS_REFRESH_S``), from the first record until every reading is stored
  *and* reflected in those results (the refresh is woken when the last batch is stored,
  not left to its timer); ``stored_per_s`` stops at the last batch's commit;
- ``floor_per_s``: the same readings through a binary COPY (asyncpg
  ``copy_records_to_table``) of exactly the rows the consumer wrote (readings, AQI results,
  region AQI, window marks), into the same tables with the same indexes, emptied first, in
  one transaction: the reference. ``ratio_to_floor`` = readings_per_s / floor_per_s (goal
  >= 0.5) and the absolute goal of 20,000 readings/s per process; ``stored`` counts the
  database afterwards; ``rows`` the rows of each table.
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
from dataclasses import dataclass

import asyncpg
import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.engine import make_url

from consumers.readings import ReadingsHandler
from consumers.readings_refresh import RefreshStats, WindowsRefresher
from consumers.readings_windows import update_windows
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
from service.storage.repositories import regions, stations, window_marks
from service.storage.repositories.hourly import StationHours
from tests.infra import pg_server, tansu_server

RATIO_GOAL = 0.5  # of the floor
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


@dataclass
class Ingested:
    seconds: float  # first record .. every reading stored and reflected
    stored_s: float  # first record .. the last batch committed
    handler_s: float  # inside the handler (decode, checks, AQI, store, commit)
    refresh: RefreshStats


async def _ingest(settings: Settings, n: int) -> Ingested:
    """One service consumer loop and its windows refresh, until every reading is reflected."""
    engine = create_engine(settings)
    maker = make_session_maker(engine)
    async with maker() as session:  # the tree a service process keeps in memory
        tree = await regions.tree(session)
    handler = ReadingsHandler(maker, _no_dead_letters, lambda: tree, mark_windows=True)
    refresher = WindowsRefresher(maker, lambda: tree, interval_s=settings.readings_refresh_s)
    first: list[float] = []
    inside = [0.0]

    async def timed(records) -> None:
        started = time.perf_counter()
        if not first:
            first.append(started)
        await handler(records)
        inside[0] += time.perf_counter() - started

    loop = ConsumerLoop(settings, settings.kafka_topic_readings, settings.kafka_group_readings,
                        timed, Metrics())  # fmt: skip
    loop.start()
    refresher.start()
    try:
        while loop.handled < n:
            await asyncio.sleep(0.01)
        stored_s = time.perf_counter() - first[0]
        refresher.refresh_now()
        while await _marks_left(maker):
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - first[0]
    finally:
        await loop.stop()
        await refresher.stop()
        await engine.dispose()
    return Ingested(seconds, stored_s, inside[0], refresher.stats)


async def _marks_left(maker) -> bool:
    async with maker() as session:
        return await window_marks.count(session) > 0


async def _no_dead_letters(items) -> None:
    raise RuntimeError(f"unexpected dead letters: {items[:1]}")


async def _floor(database_url: str, marks: int) -> tuple[float, dict[str, int]]:
    """Seconds to COPY (binary) the rows the consumer wrote back into the emptied tables;
    the rows of each table. The marks, deleted by the refresh, are copied as that many rows."""
    connection = await asyncpg.connect(make_url(database_url).set(drivername="postgresql")
                                       .render_as_string(hide_password=False))  # fmt: skip
    try:
        tables = {}
        for table in _TABLES:
            records = await connection.fetch(f"SELECT * FROM {table}")
            tables[table] = (list(records[0].keys()) if records else [], records)
        now = dt.datetime.now(dt.UTC)
        mark = ("150203", now, now, now)
        tables["window_marks"] = (
            ["region", "first_hour", "last_hour", "marked_at"], [mark] * marks,
        )  # fmt: skip
        await connection.execute(f"TRUNCATE {', '.join(tables)}")
        started = time.perf_counter()
        async with connection.transaction():
            for table, (columns, records) in tables.items():
                if records:
                    await connection.copy_records_to_table(table, records=records, columns=columns)
        seconds = time.perf_counter() - started
        return seconds, {table: len(records) for table, (_, records) in tables.items()}
    finally:
        await connection.close()


_TABLES = ("readings", "aqi_results", "region_aqi")


async def _check(settings: Settings) -> tuple[int, bool]:
    """Readings stored; whether the results equal those of the in-batch path: recomputing
    every window and region result from all stored readings (rolled back) changes none."""
    engine = create_engine(settings)
    try:
        async with make_session_maker(engine)() as session:
            rows = (await session.execute(select(Reading.station_id, Reading.observed_at))).all()
            ids = [row[0] for row in rows]
            stamps = [row[1].astimezone(dt.UTC).replace(tzinfo=None) for row in rows]
            hours = StationHours(ids, np.array(stamps, dtype="datetime64[s]"),
                                 *([None] * 7))  # fmt: skip
            placed = await stations.regions_of(session, set(ids))
            counts = await update_windows(session, hours, placed, await regions.tree(session))
            await session.rollback()
    finally:
        await engine.dispose()
    rewritten = [c.inserted + c.updated for c in (counts.station_daily, counts.regions)]
    return len(rows), rewritten == [0, 0]


async def _run(n: int, batch: int) -> dict[str, object]:
    with _services() as (database_url, bootstrap):
        settings = _settings(database_url, bootstrap, batch)
        await prepare(settings)
        await create_topics(settings)
        messages = _messages(n)
        produce_s = await _produce(settings, messages)
        raw_s = await _raw_consume(settings, n)
        ingested = await _ingest(settings, n)
        stored, expected = await _check(settings)
        floor_s, rows = await _floor(database_url, ingested.refresh.marks)
        load = os.getloadavg()
    readings_per_s = n / ingested.seconds
    floor_per_s = n / floor_s
    refresh = ingested.refresh
    ratio_met = readings_per_s / floor_per_s >= RATIO_GOAL
    rate_met = readings_per_s >= RATE_GOAL
    correct = stored == n and expected
    return {
        "benchmark": "ingest",
        "readings": n,
        "batch": batch,
        "refresh_s": settings.readings_refresh_s,
        "produce_per_s": round(n / produce_s, 1),
        "raw_consume_per_s": round(n / raw_s, 1),
        "readings_per_s": round(readings_per_s, 1),
        "stored_per_s": round(n / ingested.stored_s, 1),
        "floor_per_s": round(floor_per_s, 1),
        "ratio_to_floor": round(readings_per_s / floor_per_s, 3),
        "stored": stored,
        "results_match_inline": expected,
        "rows": rows,
        "rows_per_reading": round(sum(rows.values()) / n, 2),
        "breakdown_s": {
            "total": round(ingested.seconds, 3),
            "handler": round(ingested.handler_s, 3),
            "refresh": round(refresh.seconds, 3),
            "floor_copy": round(floor_s, 3),
        },
        "refresh": {
            "runs": refresh.runs,
            "marks": refresh.marks,
            "max_lag_s": round(refresh.max_lag_s, 3),
        },
        "goals": {
            "readings_per_s_min": RATE_GOAL,
            "ratio_to_floor_min": RATIO_GOAL,
            "readings_per_s_met": rate_met,
            "ratio_to_floor_met": ratio_met,
        },
        "correct": correct,
        "met": rate_met and ratio_met and correct,
        "database": "postgresql",
        "load_average": [round(x, 2) for x in load],
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
