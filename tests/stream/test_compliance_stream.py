"""The HJ 212 gateway and the compliance check on the real broker and PostgreSQL.

- The sample's episode through the gateway of a process on Kafka: the three cheating plants
  raise their alarms, the others none, and the alarms are on ``haze.alarms``.
- ``haze gateway`` SIGKILLed while loggers send and started again: every packet it
  acknowledged is stored, and the packets it had not acknowledged, sent again by their
  loggers, are stored once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import socket

import httpx
from sqlalchemy import select
from stream_helpers import eventually, haze_process, read_topic, stream_settings

from service.bootstrap import prepare
from service.commands.process import attach_gateway, build_runtime, create_app
from service.commands.stream import create_topics
from service.hj212.packet import parse_frame
from service.storage.engine import create_engine
from service.storage.models import TelemetryValue
from service.telemetry.sample_feed import BEIJING, episode, minute_packets, sample_passwords
from tests.infra.loggers import Logger
from tests.infra.sample_episode import check_sample_alarms, last_night, send_episode

MINUTES = 100


async def test_the_cheaters_raise_their_alarms_on_the_broker(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    settings = stream_settings(postgres_database_url, kafka_bootstrap, compliance_grace_s=1.0)
    await create_topics(settings)
    await prepare(settings)
    app = create_app(settings)
    runtime = app.state.runtime
    attach_gateway(runtime, port=0)
    headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            body = {"region": "150203", "level": "orange", "reason": {"zh-CN": "测", "en": "t"}}
            answer = await client.post("/api/v1/alerts", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            await send_episode(runtime, last_night(), MINUTES)
            listed = await client.get("/api/v1/alarms", params={"limit": 500}, headers=headers)
    alarms = listed.json()["items"]
    check_sample_alarms(alarms)
    records = await read_topic(settings, settings.kafka_topic_alarms, at_least=len(alarms))
    on_topic = {int(r.key) for r in records}
    assert on_topic == {a["id"] for a in alarms}
    assert {json.loads(r.value)["kind"] for r in records} == {a["kind"] for a in alarms}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _connect(port: int) -> Logger:
    async def accepting() -> bool:
        try:
            (await Logger.connect(port)).close()
        except OSError:
            return False
        return True

    await eventually(accepting, "haze gateway accepting", 60)
    return await Logger.connect(port)


def _keys(packet: bytes) -> set[tuple[str, str, dt.datetime]]:
    """The ``(mn, code, period start)`` of every value a minute packet carries."""
    parsed = parse_frame(packet.rstrip(b"\r\n"))
    at = parsed.data_time.replace(tzinfo=BEIJING).astimezone(dt.UTC)
    return {(parsed.mn, code, at) for code in parsed.values}


async def _stored(engine) -> set[tuple[str, str, dt.datetime]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(TelemetryValue.mn, TelemetryValue.code, TelemetryValue.at)
        )
        return {(mn, code, at) for mn, code, at in rows}


async def test_a_gateway_restart_loses_no_acknowledged_packet(
    postgres_database_url: str, kafka_bootstrap: str
) -> None:
    port = _free_port()
    settings = stream_settings(postgres_database_url, kafka_bootstrap, gateway_port=port)
    await create_topics(settings)
    await prepare(settings)
    start = dt.datetime.now(BEIJING).replace(second=0, microsecond=0) - dt.timedelta(minutes=60)
    telemetry = episode(start, 30)
    passwords = sample_passwords()
    packets = [p for minute in range(30) for p in minute_packets(telemetry, minute, passwords)]
    consumer = build_runtime(settings, consumers=("telemetry",))
    await consumer.start()
    engine = create_engine(settings)
    gateway = haze_process(settings, "gateway")
    acknowledged: list[bytes] = []
    try:
        logger = await _connect(port)
        chunk, position, killed = 40, 0, False
        while position < len(packets):
            batch = packets[position : position + chunk]
            await logger.send(b"".join(batch))
            if not killed and position >= len(packets) // 3:
                gateway.send_signal(signal.SIGKILL)  # with this chunk in flight
                gateway.wait()
                killed = True
            answered = 0
            try:
                for _ in batch:
                    answer = await asyncio.wait_for(logger.answer(), 60)
                    assert answer.cn == "9014"
                    answered += 1
            except (EOFError, ConnectionError):
                pass
            acknowledged += batch[:answered]
            position += answered
            if answered < len(batch):  # the gateway went away: a logger reconnects and resends
                logger.close()
                gateway = haze_process(settings, "gateway")
                logger = await _connect(port)
        logger.close()
        assert killed
        wanted = set().union(*(_keys(p) for p in acknowledged))

        async def all_stored() -> bool:
            return wanted <= await _stored(engine)

        await eventually(all_stored, "every acknowledged packet stored", 120)
        stored = await _stored(engine)
        assert stored == set().union(*(_keys(p) for p in packets))
    finally:
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(timeout=60) == 0
        await consumer.stop()
        await engine.dispose()
