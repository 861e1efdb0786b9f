"""``haze topics create`` and ``haze consume``: the Kafka side run from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Collection

from service.settings import Settings

log = logging.getLogger("haze.consume")


def topic_specs(settings: Settings) -> list[tuple[str, dict[str, str]]]:
    """Every topic with its configuration: ``haze.actions`` keeps the latest per enterprise."""
    return [
        (settings.kafka_topic_readings, {}),
        (settings.kafka_topic_forecasts, {}),
        (settings.kafka_topic_alerts, {}),
        (settings.kafka_topic_actions, {"cleanup.policy": "compact"}),
        (settings.kafka_topic_dlq, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
    ]


async def create_topics(settings: Settings) -> dict[str, str]:
    """Create the topics; ``{topic: "created" | "exists" | error}`` (running twice is fine)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    outcome = {}
    try:
        for name, config in topic_specs(settings):
            topic = NewTopic(
                name, settings.kafka_partitions, settings.kafka_replication, topic_configs=config
            )
            try:
                answer = await admin.create_topics([topic])
            except TopicAlreadyExistsError:
                outcome[name] = "exists"
                continue
            errors = [e for e in getattr(answer, "topic_errors", []) if e[1] != 0]
            if not errors:
                outcome[name] = "created"
            elif errors[0][1] == TopicAlreadyExistsError.errno:
                outcome[name] = "exists"
            else:
                outcome[name] = f"error {errors[0][1]}: {errors[0][2]}"
    finally:
        await admin.close()
    return outcome


def topics_create(settings: Settings) -> int:
    if not settings.kafka_bootstrap:
        print("haze topics create: set HAZE_KAFKA_BOOTSTRAP", file=sys.stderr)
        return 2
    outcome = asyncio.run(create_topics(settings))
    for name, what in outcome.items():
        print(f"{name}: {what} ({settings.kafka_partitions} partitions)")
    return 0 if all(w in ("created", "exists") for w in outcome.values()) else 1


async def _consume(settings: Settings, consumers: Collection[str]) -> None:
    from prometheus_client import start_http_server

    from service.commands.process import build_runtime
    from service.storage.engine import create_engine
    from service.storage.migrate import migrate

    engine = create_engine(settings)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    runtime = build_runtime(settings, consumers=consumers)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, registry=runtime.metrics.registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await runtime.start()
    log.info("consuming %s from %s", ", ".join(sorted(consumers)), settings.kafka_bootstrap)
    with contextlib.suppress(asyncio.CancelledError):
        await stop.wait()
    log.info("stopping: finishing the batch in hand")
    await runtime.stop()


def consume(settings: Settings, which: str) -> int:
    if not settings.kafka_bootstrap:
        print("haze consume: set HAZE_KAFKA_BOOTSTRAP (the embedded default runs the "
              "consumers inside haze serve)", file=sys.stderr)  # fmt: skip
        return 2
    logging.basicConfig(
        level=logging.INFO,
        format='{"at": "%(asctime)s", "level": "%(levelname)s", "logger": "%(name)s", '
        '"message": "%(message)s"}',
    )
    consumers = ("readings", "forecasts") if which == "all" else (which,)
    asyncio.run(_consume(settings, consumers))
    return 0
