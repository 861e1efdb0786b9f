"""A database that goes down under an API on Kafka: a forecast it cannot audit is refused
(503 ``database.unavailable``) and is not on the topic, so the answer matches what happened
(it was not decided, and will not be)."""

from __future__ import annotations

import datetime as dt

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from stream_helpers import stream_settings

from service.bootstrap import prepare
from service.commands.process import create_app
from service.commands.stream import create_topics
from tests.infra import pg_server

LOCAL = dt.timezone(dt.timedelta(hours=8))


async def _records_on(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, with the topic's partitions
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def test_a_forecast_the_api_cannot_audit_is_refused_and_not_published(
    own_postgres: pg_server.PostgresServer, kafka_bootstrap: str
) -> None:
    settings = stream_settings(own_postgres.url, kafka_bootstrap)
    await create_topics(settings)
    prepared = await prepare(settings)
    app = create_app(settings, consumers=False)
    headers = {"Authorization": f"Bearer {prepared.operator_token}"}
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = issued.astimezone(LOCAL).date()
    forecast = {
        "region": "150203",
        "issued_at": issued.isoformat(),
        "daily": [
            {"date": (today + dt.timedelta(days=i)).isoformat(), "aqi": 260} for i in range(3)
        ],
    }
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://haze") as client:
            warm = await client.get("/api/v1/alerts/active", headers=headers)  # token cached
            assert warm.status_code == 200
            own_postgres.stop()
            answer = await client.post("/api/v1/forecasts", json=forecast, headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database.unavailable"
    assert int(answer.headers["retry-after"]) > 0
    assert await _records_on(kafka_bootstrap, settings.kafka_topic_forecasts) == 0
