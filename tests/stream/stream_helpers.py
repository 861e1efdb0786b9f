"""Helpers of the stream tests: bounded waiting, raw topic reads, reading records."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import IO

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api.schemas.readings import CheckedReading
from service.bus.records import encode_reading
from service.settings import Settings
from service.storage.models import Reading
from tests.infra.tansu_server import private_topics

#: Bounds on waiting for the stream to catch up: failure detectors, not performance limits.
WAIT_LIMIT_S = 90.0


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, limit_s: float = WAIT_LIMIT_S
) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached within {limit_s} s: {what}")


async def count_readings(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(Reading))


def reading(station: str, at: dt.datetime, pm25: float = 80.0) -> tuple[bytes, bytes]:
    values = {"pm25": pm25, "pm10": 120.0, "so2": 10.0, "no2": 40.0, "o3": 30.0, "co": 0.8}
    return encode_reading(
        CheckedReading(station_id=station, observed_at=at, values=values, flags=[])
    )


async def produce(settings: Settings, topic: str, items: list[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in items]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_topic(settings: Settings, topic: str, at_least: int, limit_s: float = 60.0) -> list:
    """Every record of ``topic`` from the start, once at least ``at_least`` arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list = []
    try:
        deadline = time.monotonic() + limit_s
        while len(records) < at_least and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            records += [r for messages in batch.values() for r in messages]
    finally:
        await consumer.stop()
    return records


def stream_settings(database_url: str, bootstrap: str, **overrides: object) -> Settings:
    tag = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "database_url": database_url,
        "kafka_bootstrap": bootstrap,
        "kafka_idempotent": os.environ.get("HAZE_TEST_KAFKA_IDEMPOTENT", "") == "1",
        "kafka_session_timeout_ms": 2000,
        "kafka_heartbeat_ms": 500,
        # Acks from a broker on a loaded machine can take seconds; tests of a broker that is
        # down set their own short timeout.
        "kafka_request_timeout_s": 30,
        "admin_token": "admin-token-for-stream-tests-0123456789",
        "metrics_port": 0,
        "refresh_interval_s": 3600,
    }
    values |= private_topics(f"t{tag}")
    return Settings(**(values | overrides))


def haze_process(
    settings: Settings, *arguments: str, output: IO[bytes] | None = None, **environment: str
) -> subprocess.Popen:
    """``haze ARGUMENTS`` as a real process with these settings (as ``HAZE_`` variables,
    ``environment`` on top), its output into ``output`` (default: discarded)."""
    env = os.environ | {
        f"HAZE_{name.upper()}": str(value)
        for name, value in settings.model_dump().items()
        if value is not None and not isinstance(value, dict) and name != "admin_token"
    }
    command = [sys.executable, "-m", "service.commands.cli", *arguments]
    return subprocess.Popen(
        command,
        env=env | environment,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
    )


def haze_consume(settings: Settings, which: str, **environment: str) -> subprocess.Popen:
    """``haze consume WHICH`` as a real process (:func:`haze_process`)."""
    return haze_process(settings, "consume", which, **environment)
