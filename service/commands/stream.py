"""``haze topics create`` and ``haze consume``: the Kafka side run from the command line.

``haze consume`` serves, on ``HAZE_METRICS_PORT``, ``/metrics`` (Prometheus), ``/healthz``
(the process is up) and ``/readyz``: 200 only once every consumer loop of the process reached
Kafka and joined its group (holds partitions), is not retrying a failed batch, and the
database answers ``SELECT 1``; 503 with the checks otherwise (compose's health check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING

from service.settings import Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request

    from service.runtime import Runtime

log = logging.getLogger("haze.consume")


def topic_specs(settings: Settings) -> list[tuple[str, dict[str, str]]]:
    """Every topic with its configuration: ``haze.actions`` keeps the latest per enterprise,
    ``haze.alarms`` the latest of each alarm."""
    return [
        (settings.kafka_topic_readings, {}),
        (settings.kafka_topic_forecasts, {}),
        (settings.kafka_topic_alerts, {}),
        (settings.kafka_topic_actions, {"cleanup.policy": "compact"}),
        (settings.kafka_topic_telemetry, {}),
        (settings.kafka_topic_alarms, {"cleanup.policy": "compact"}),  # each alarm's state
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


def operations_app(runtime: Runtime) -> Starlette:
    """``/metrics``, ``/healthz`` and ``/readyz`` of a consumer process."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from service.metrics import render

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        content, media_type = render(runtime.metrics)
        return Response(content, media_type=media_type)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    )


async def _serve_operations(runtime: Runtime, port: int) -> Callable[[], Awaitable[None]]:
    """Serve :func:`operations_app` on ``port`` in this loop; returns its stop."""
    import uvicorn

    config = uvicorn.Config(
        operations_app(runtime), host="0.0.0.0", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(), name="haze-consume-operations")

    async def stop() -> None:
        server.should_exit = True
        await task

    return stop


async def _consume(
    settings: Settings, consumers: Collection[str], *, gateway: bool = False
) -> None:
    from service.commands.process import attach_gateway, build_runtime
    from service.storage.engine import create_engine
    from service.storage.migrate import migrate

    engine = create_engine(settings)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    runtime = build_runtime(settings, consumers=consumers)
    if gateway:
        attach_gateway(runtime)  # HAZE_GATEWAY_PORT, else 9212
    stop_operations = None
    if settings.metrics_port:
        stop_operations = await _serve_operations(runtime, settings.metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await runtime.start()
    if runtime.gateway is not None:
        log.info("hj212 gateway on port %d, to %s", runtime.gateway.port, settings.kafka_bootstrap)
    else:
        log.info("consuming %s from %s", ", ".join(sorted(consumers)), settings.kafka_bootstrap)
    with contextlib.suppress(asyncio.CancelledError):
        await stop.wait()
    log.info("stopping: finishing the batch in hand")
    await runtime.stop()
    if stop_operations is not None:
        await stop_operations()


def _log_json() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format='{"at": "%(asctime)s", "level": "%(levelname)s", "logger": "%(name)s", '
        '"message": "%(message)s"}',
    )


def consume(settings: Settings, which: str) -> int:
    if not settings.kafka_bootstrap:
        print("haze consume: set HAZE_KAFKA_BOOTSTRAP (the embedded default runs the "
              "consumers inside haze serve)", file=sys.stderr)  # fmt: skip
        return 2
    _log_json()
    from service.runtime import CONSUMERS

    consumers = CONSUMERS if which == "all" else (which,)
    asyncio.run(_consume(settings, consumers))
    return 0


def gateway(settings: Settings) -> int:
    """``haze gateway``: the HJ 212 gateway alone, onto Kafka (several behind a TCP balancer)."""
    if not settings.kafka_bootstrap:
        print("haze gateway: set HAZE_KAFKA_BOOTSTRAP (on the embedded default, set "
              "HAZE_GATEWAY_PORT and haze serve runs the gateway)", file=sys.stderr)  # fmt: skip
        return 2
    _log_json()
    asyncio.run(_consume(settings, (), gateway=True))
    return 0
