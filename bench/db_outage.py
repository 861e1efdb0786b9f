"""Resume time after a database outage: prints one JSON object.

    python -m bench.db_outage [--outage 20]

Starts PostgreSQL 15 and the Tansu broker, runs the readings consumer of the service (a
:class:`service.runtime.Runtime` on Kafka, as ``haze consume readings``), stores one reading,
stops PostgreSQL (fast shutdown), produces a second reading, keeps the database down for
``--outage`` seconds (the consumer's backoff grows to its 16–30 s steps), starts PostgreSQL
again on the same data and port, and measures ``resume_s``: from the moment the database
accepts connections (``pg_isready``) to the moment the second reading is stored. It runs
twice: with the database probe the consumer uses (``probe``) and without it (``backoff only``,
as before the probe: the loop waits out its backoff step).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import time

from service.bootstrap import prepare
from service.commands.process import build_runtime
from service.commands.stream import create_topics
from service.settings import Settings
from service.storage.engine import create_engine
from tests.infra import pg_server, tansu_server


async def _count(settings: Settings) -> int:
    from sqlalchemy import func, select

    from service.storage.models import Reading

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(select(func.count()).select_from(Reading))
    finally:
        await engine.dispose()


async def _until(check, limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except Exception:  # the database is still starting
            pass
        await asyncio.sleep(0.02)
    raise RuntimeError("not reached")


async def _one(bootstrap: str, outage_s: float, probe: bool) -> float:
    from aiokafka import AIOKafkaProducer

    from service.api.schemas.readings import CheckedReading
    from service.bus.records import encode_reading

    server = pg_server.start()
    tag = f"outage{int(time.time() * 1000) % 10**8}{int(probe)}"
    settings = Settings(
        database_url=server.url,
        kafka_bootstrap=bootstrap,
        kafka_idempotent=False,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_ms=500,
        kafka_request_timeout_s=5,
        metrics_port=0,
        **tansu_server.private_topics(tag),
    )
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)

    def item(hours_ago: int) -> tuple[bytes, bytes]:
        values = {"pm25": 80.0, "pm10": 120.0, "so2": 1.0, "no2": 1.0, "o3": 1.0, "co": 0.5}
        at = hour - dt.timedelta(hours=hours_ago)
        return encode_reading(
            CheckedReading(station_id="1502A01", observed_at=at, values=values, flags=[])
        )

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        await create_topics(settings)
        await prepare(settings)
        runtime = build_runtime(settings, consumers=["readings"])
        if not probe:
            runtime.bus.probe = None  # type: ignore[attr-defined]
        await runtime.start()
        await producer.start()
        await producer.send_and_wait(settings.kafka_topic_readings, item(1)[1], key=item(1)[0])

        async def first() -> bool:
            return await _count(settings) == 1

        await _until(first)
        server.process.send_signal(signal.SIGINT)
        server.process.wait()
        await producer.send_and_wait(settings.kafka_topic_readings, item(2)[1], key=item(2)[0])
        await asyncio.sleep(outage_s)  # the outage itself: the consumer backs off meanwhile
        server.process = pg_server._launch(server.base, server.port)
        while not pg_server._ready(server.port):
            await asyncio.sleep(0.01)
        back = time.monotonic()

        async def second() -> bool:
            return await _count(settings) == 2

        await _until(second)
        resumed = time.monotonic() - back
        await runtime.stop()
        return resumed
    finally:
        await producer.stop()
        server.stop()


async def _run(outage_s: float) -> dict[str, object]:
    broker = tansu_server.start()
    try:
        with_probe = await _one(broker.bootstrap, outage_s, probe=True)
        without = await _one(broker.bootstrap, outage_s, probe=False)
    finally:
        broker.stop()
    return {
        "outage_s": outage_s,
        "resume_s_probe": round(with_probe, 2),
        "resume_s_backoff_only": round(without, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the database is down")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_run(args.outage))))


if __name__ == "__main__":
    main()
