"""The gateway onto the real broker: packets answered with 9014 are on the topic."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from stream_helpers import read_topic, stream_settings

from service.bus.kafka import KafkaBus
from service.gateway.server import Gateway, RawSink
from service.metrics import Metrics
from tests.infra.loggers import MN, Logger, directory, minute


async def test_acknowledged_packets_are_on_the_broker(kafka_bootstrap: str) -> None:
    settings = stream_settings("sqlite+aiosqlite://", kafka_bootstrap, gateway_flush_ms=2.0)
    topic = f"{settings.kafka_topic_readings}.raw"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    metrics = Metrics()
    bus = KafkaBus(settings, metrics)
    await bus.start()
    gateway = Gateway(directory(), RawSink(bus, topic), settings, metrics, host="127.0.0.1", port=0)
    await gateway.start()
    try:
        logger = await Logger.connect(gateway.port)
        sent = [minute(n) for n in range(20)]
        await logger.send(b"".join(sent))
        answers = [await asyncio.wait_for(logger.answer(), 60) for _ in sent]
        logger.close()
    finally:
        await gateway.stop()
        await bus.stop()
    records = await read_topic(settings, topic, at_least=20)
    assert [a.cn for a in answers] == ["9014"] * 20
    assert [r.key for r in records] == [MN.encode()] * 20
    assert [r.value for r in records] == [p[6:-6] for p in sent]  # the data segments
